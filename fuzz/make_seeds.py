#!/usr/bin/env python3
"""Writes the fuzz seed corpus: tiny but complete llama GGUF models (a few KiB each) in each
weight type, so the fuzzer starts from files that get past the reader into the model loader."""
import struct, sys, os, random

def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
def kv(key, t, payload): return s(key) + struct.pack('<I', t) + payload
U32, F32, STR, ARR = 4, 6, 8, 9

def model(wtype, path):
    dim, ff, vocab, heads = 32, 32, 8, 2
    toks = ['<unk>', '<s>', '</s>', '\u2581a', '\u2581b', 'a', 'b', '<0x0A>']
    meta = [kv('general.architecture', STR, s('llama')),
            kv('llama.context_length', U32, struct.pack('<I', 64)),
            kv('llama.embedding_length', U32, struct.pack('<I', dim)),
            kv('llama.block_count', U32, struct.pack('<I', 1)),
            kv('llama.feed_forward_length', U32, struct.pack('<I', ff)),
            kv('llama.attention.head_count', U32, struct.pack('<I', heads)),
            kv('llama.attention.head_count_kv', U32, struct.pack('<I', 1)),
            kv('llama.attention.layer_norm_rms_epsilon', F32, struct.pack('<f', 1e-5)),
            kv('tokenizer.ggml.model', STR, s('llama')),
            kv('tokenizer.ggml.tokens', ARR, struct.pack('<IQ', STR, len(toks)) + b''.join(s(t) for t in toks)),
            kv('tokenizer.ggml.scores', ARR, struct.pack('<IQ', F32, len(toks)) + b''.join(struct.pack('<f', -i) for i in range(len(toks)))),
            kv('tokenizer.ggml.token_type', ARR, struct.pack('<IQ', 5, len(toks)) + struct.pack('<8i', 2, 3, 3, 1, 1, 1, 1, 6))]
    shapes = [('token_embd.weight', [dim, vocab]), ('output_norm.weight', [dim]),
              ('blk.0.attn_norm.weight', [dim]), ('blk.0.ffn_norm.weight', [dim]),
              ('blk.0.attn_q.weight', [dim, dim]), ('blk.0.attn_k.weight', [dim, dim // heads]),
              ('blk.0.attn_v.weight', [dim, dim // heads]), ('blk.0.attn_output.weight', [dim, dim]),
              ('blk.0.ffn_gate.weight', [dim, ff]), ('blk.0.ffn_up.weight', [dim, ff]), ('blk.0.ffn_down.weight', [ff, dim])]
    rnd = random.Random(1)
    infos, data = b'', b''
    for name, ne in shapes:
        t = 0 if len(ne) == 1 else wtype
        n = 1
        for d in ne: n *= d
        if t == 0: blob = b''.join(struct.pack('<f', rnd.uniform(-1, 1)) for _ in range(n))
        elif t == 1: blob = b''.join(struct.pack('<e', rnd.uniform(-1, 1)) for _ in range(n))
        elif t == 8: blob = b''.join(struct.pack('<e', 0.01) + bytes(rnd.randrange(256) for _ in range(32)) for _ in range(n // 32))
        else: blob = b''.join(struct.pack('<e', 0.01) + bytes(rnd.randrange(256) for _ in range(16)) for _ in range(n // 32))
        infos += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne) + struct.pack('<IQ', t, len(data))
        data += blob + b'\0' * (-len(blob) % 32)
    head = b'GGUF' + struct.pack('<IQQ', 3, len(shapes), len(meta)) + b''.join(meta) + infos
    head += b'\0' * (-len(head) % 32)
    with open(path, 'wb') as f: f.write(head + data)

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus', 'gguf')
os.makedirs(out, exist_ok=True)
for name, t in [('tiny-f32', 0), ('tiny-f16', 1), ('tiny-q8_0', 8), ('tiny-q4_0', 2)]:
    model(t, os.path.join(out, name + '.gguf'))

#!/usr/bin/env python3
"""Writes the fuzz seed corpus: tiny but complete llama GGUF models (a few KiB each) in each
weight type, so the fuzzer starts from files that get past the reader into the model loader; and
one with a byte-level BPE vocabulary (merges, pre-tokenizer, special tokens) so that it reaches
the BPE tokenizer. `fuzz.text` holds text that the target tokenizes (the fuzzer mutates it)."""
import struct, sys, os, random

def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
def kv(key, t, payload): return s(key) + struct.pack('<I', t) + payload
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9

def strs(key, xs): return kv(key, ARR, struct.pack('<IQ', STR, len(xs)) + b''.join(s(x) for x in xs))

def spm_vocab():
    toks = ['<unk>', '<s>', '</s>', '\u2581a', '\u2581b', 'a', 'b', '<0x0A>']
    return len(toks), [
            kv('tokenizer.ggml.model', STR, s('llama')),
            strs('tokenizer.ggml.tokens', toks),
            kv('tokenizer.ggml.scores', ARR, struct.pack('<IQ', F32, len(toks)) + b''.join(struct.pack('<f', -i) for i in range(len(toks)))),
            kv('tokenizer.ggml.token_type', ARR, struct.pack('<IQ', 5, len(toks)) + struct.pack('<8i', 2, 3, 3, 1, 1, 1, 1, 6))]

def bpe_vocab():
    # GPT-2's bytes_to_unicode spelling of every byte, then merged tokens and special tokens.
    direct = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    spell, n = {}, 0
    for b in range(256):
        if b in direct: spell[b] = chr(b)
        else: spell[b] = chr(256 + n); n += 1
    sp = lambda bs: ''.join(spell[b] for b in bs)
    toks = [spell[b] for b in range(256)]
    merges = []
    def add_merge(l, r):  # l, r: bytes that are tokens already
        merges.append(sp(l) + ' ' + sp(r))
        if sp(l + r) not in toks: toks.append(sp(l + r))
    def ensure(bs):  # a token for bs, built byte by byte (every merge part must be a token)
        if sp(bs) in toks: return
        ensure(bs[:-1])
        add_merge(bs[:-1], bs[-1:])
    for l, r in [(' ', 't'), ('h', 'e'), (' t', 'he'), ('i', 'n'), (' ', 'a'), ('1', '2'), ('12', '3'), (' ', ' '),
                 ('\n', '\n'), ('\u00e9', 't'), ('\u4f60', '\u597d')]:
        l, r = l.encode(), r.encode()
        ensure(l)
        ensure(r)
        add_merge(l, r)
    types = [1] * len(toks) + [3, 4]
    toks += ['<|end|>', '<user>']
    text = 'Hello the in 123 \u00e9t\u00e9 \u4f60\u597d!\n\n  <user> <|end|> I\'ll \U0001f999'
    return len(toks), [
            kv('tokenizer.ggml.model', STR, s('gpt2')),
            kv('tokenizer.ggml.pre', STR, s('llama-bpe')),
            strs('tokenizer.ggml.tokens', toks),
            kv('tokenizer.ggml.token_type', ARR, struct.pack('<IQ', I32, len(types)) + b''.join(struct.pack('<i', t) for t in types)),
            strs('tokenizer.ggml.merges', merges),
            kv('tokenizer.ggml.bos_token_id', U32, struct.pack('<I', len(toks) - 2)),
            kv('tokenizer.ggml.eos_token_id', U32, struct.pack('<I', len(toks) - 2)),
            kv('fuzz.text', STR, s(text))]

def model(wtype, path, tokenizer=spm_vocab):
    dim, ff, heads = 32, 32, 2
    vocab, tok_meta = tokenizer()
    meta = [kv('general.architecture', STR, s('llama')),
            kv('llama.context_length', U32, struct.pack('<I', 64)),
            kv('llama.embedding_length', U32, struct.pack('<I', dim)),
            kv('llama.block_count', U32, struct.pack('<I', 1)),
            kv('llama.feed_forward_length', U32, struct.pack('<I', ff)),
            kv('llama.attention.head_count', U32, struct.pack('<I', heads)),
            kv('llama.attention.head_count_kv', U32, struct.pack('<I', 1)),
            kv('llama.attention.layer_norm_rms_epsilon', F32, struct.pack('<f', 1e-5))] + tok_meta
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
model(8, os.path.join(out, 'tiny-bpe-q8_0.gguf'), bpe_vocab)

// A fingerprint of a tokenizer vocabulary: two models with the same fingerprint give every token
// id the same meaning, so one can draft tokens for the other (speculative decoding). The server
// publishes it in GET /v1/models; a device computes it over its draft model with this function.
#pragma once
#include <string>

#include "engine/vocab.h"

namespace tandem {

// "sha256:" + hex SHA-256 of this byte string (integers little-endian):
//   "tandem-vocab-v1\0"
//   u32 length + bytes of tokenizer.ggml.model (e.g. "llama")
//   u32 n_tokens, then per token: u32 length + bytes of its text, u8 its type (TokenAttr:
//     0 normal, 1 unknown, 2 control, 3 user-defined, 4 unused, 5 byte, 6 undefined)
//   i32 bos, eos, unk, eot, pad (-1 when absent)
//   u32 count + i32 ids of the end-of-generation tokens (ascending)
// Scores, merges and the add_bos / space-prefix flags are not included: they change how text
// is cut into tokens, not what a token id means.
std::string vocab_fingerprint(const Vocab& vocab);

}  // namespace tandem

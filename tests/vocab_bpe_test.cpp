// Byte-level BPE tokenizer tests against references no one here wrote: llama.cpp's tokenizer
// test cases (tests/test-tokenizer-0 inputs and the ids llama.cpp produced) for the GPT-2,
// Llama 3 (llama-bpe) and Qwen2 vocabularies.
#include <algorithm>
#include <chrono>

#include "engine/bpe.h"
#include "engine/bpe_pretokenizer.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "test_util.h"
#include "vocab_test_util.h"

using namespace tandem;
using namespace tandem::test;

TEST(VocabBpeReference, Gpt2MatchesLlamaCpp) { check_reference_cases("ggml-vocab-gpt-2.gguf"); }
TEST(VocabBpeReference, Llama3MatchesLlamaCpp) { check_reference_cases("ggml-vocab-llama-bpe.gguf"); }
TEST(VocabBpeReference, Qwen2MatchesLlamaCpp) { check_reference_cases("ggml-vocab-qwen2.gguf"); }

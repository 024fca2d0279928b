// libFuzzer target for the GGUF reader, the tokenizer and the model loader on top of them: any
// byte string must either parse or raise tandem::Error — never crash, hang or read out of bounds.
// When the vocabulary loads, text is tokenized (SPM or byte-level BPE, with and without special
// tokens) and detokenized: the file's `fuzz.text` string if it has one (the seeds do, so the
// fuzzer mutates it), and the input's last bytes (arbitrary, mostly invalid UTF-8).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "model/llama_model.h"

namespace {

void tokenize_all(const tandem::Vocab& vocab, std::string_view text) {
  for (bool special : {false, true}) {
    auto ids = vocab.tokenize(text, true, special);
    for (int32_t id : ids)
      if (!vocab.valid(id)) __builtin_trap();  // tokenize must only produce ids of the vocabulary
    (void)vocab.detokenize(ids, true);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tandem::GgufFile f = tandem::GgufFile::parse(data, size);
    for (const auto& k : f.keys()) (void)f.find(k);
    try {
      (void)tandem::Vocab::from_gguf(f);
    } catch (const tandem::Error&) {
    }
    try {
      const tandem::Vocab vocab = tandem::Vocab::from_gguf_ids_only(f);
      if (vocab.can_tokenize()) {
        if (auto text = f.opt_string("fuzz.text")) tokenize_all(vocab, *text);
        const size_t tail = std::min<size_t>(size, 48);
        tokenize_all(vocab, std::string_view(reinterpret_cast<const char*>(data + size - tail), tail));
      }
    } catch (const tandem::Error&) {
    }
    auto model = tandem::LlamaModel::from_gguf(std::move(f));
    (void)model->weight_bytes_per_token();
  } catch (const tandem::Error&) {
  }
  return 0;
}

// libFuzzer target for the GGUF reader and the model loader on top of it: any byte string must
// either parse or raise tandem::Error — never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>

#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "model/llama_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tandem::GgufFile f = tandem::GgufFile::parse(data, size);
    for (const auto& k : f.keys()) (void)f.find(k);
    try {
      (void)tandem::Vocab::from_gguf(f);
    } catch (const tandem::Error&) {
    }
    auto model = tandem::LlamaModel::from_gguf(std::move(f));
    (void)model->weight_bytes_per_token();
  } catch (const tandem::Error&) {
  }
  return 0;
}

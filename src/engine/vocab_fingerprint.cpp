#include "engine/vocab_fingerprint.h"

#include "engine/sha256.h"

namespace tandem {

namespace {
void put_u32(Sha256& h, uint32_t v) {
  const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  h.update(b, 4);
}
void put_str(Sha256& h, std::string_view s) {
  put_u32(h, uint32_t(s.size()));
  h.update(s);
}
}  // namespace

std::string vocab_fingerprint(const Vocab& v) {
  Sha256 h;
  h.update("tandem-vocab-v1", 16);  // with its terminating NUL
  put_str(h, v.model_name());
  put_u32(h, uint32_t(v.n_tokens()));
  for (int32_t id = 0; id < v.n_tokens(); ++id) {
    put_str(h, v.token_text(id));
    const uint8_t type = uint8_t(v.attr(id));
    h.update(&type, 1);
  }
  for (int32_t id : {v.bos(), v.eos(), v.unk(), v.eot(), v.pad()}) put_u32(h, uint32_t(id));
  put_u32(h, uint32_t(v.eog_ids().size()));
  for (int32_t id : v.eog_ids()) put_u32(h, uint32_t(id));
  return "sha256:" + h.finish_hex();
}

}  // namespace tandem

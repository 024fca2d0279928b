// Synthesized LoRA adapters for the tests: random low-rank matrices for chosen base tensors,
// written in llama.cpp's GGUF adapter format with GgufWriter (model/lora.h describes it).
#pragma once
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "format/gguf.h"
#include "format/gguf_writer.h"

namespace tandem::test {

struct LoraTensor {
  std::string name;  // base tensor name
  int64_t n_in = 0, n_out = 0, rank = 0;
  std::vector<float> a;  // [rank][n_in]
  std::vector<float> b;  // [n_out][rank]
};

struct Adapter {
  float alpha = 0;
  std::vector<LoraTensor> tensors;
};

inline std::vector<std::string> all_targets(const GgufFile& base) {
  std::vector<std::string> names;
  for (const auto& t : base.tensors())
    if (t.n_dims == 2 && t.name != "token_embd.weight") names.push_back(t.name);
  return names;
}

inline Adapter random_adapter(const GgufFile& base, const std::vector<std::string>& targets, int rank, float alpha,
                              uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> na(0.f, 0.15f), nb(0.f, 0.07f);
  Adapter ad;
  ad.alpha = alpha;
  for (const auto& name : targets) {
    const GgufTensorInfo* t = base.find_tensor(name);
    LoraTensor lt{name, t->ne[0], t->ne[1], rank, {}, {}};
    lt.a.resize(size_t(rank * lt.n_in));
    lt.b.resize(size_t(lt.n_out * rank));
    for (auto& x : lt.a) x = na(rng);
    for (auto& x : lt.b) x = nb(rng);
    ad.tensors.push_back(std::move(lt));
  }
  return ad;
}

// Writes the adapter in llama.cpp's format; `edit` may change the metadata, `extra` adds tensors
// (name, ne0, ne1) filled with zeros.
inline void write_adapter(const std::string& path, const Adapter& ad, const std::string& arch = "llama",
                          const std::function<void(GgufWriter&)>& edit = {},
                          const std::vector<std::tuple<std::string, int64_t, int64_t>>& extra = {}) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", ad.alpha);
  for (const auto& t : ad.tensors) {
    w.add_tensor(t.name + ".lora_a", TensorType::F32, {t.n_in, t.rank});
    w.add_tensor(t.name + ".lora_b", TensorType::F32, {t.rank, t.n_out});
  }
  for (const auto& [name, ne0, ne1] : extra) w.add_tensor(name, TensorType::F32, {ne0, ne1});
  if (edit) edit(w);
  w.open(path);
  size_t i = 0;
  for (const auto& t : ad.tensors) {
    w.write_tensor_data(i++, t.a.data(), t.a.size() * 4);
    w.write_tensor_data(i++, t.b.data(), t.b.size() * 4);
  }
  for (const auto& [name, ne0, ne1] : extra) {
    const std::vector<float> z(size_t(ne0 * ne1), 0.f);
    w.write_tensor_data(i++, z.data(), z.size() * 4);
  }
  w.finish();
}

}  // namespace tandem::test

// The LoRA tests' fixture (the stories260K f32 model as the base) and the independent
// construction they compare against: the base model with adapters merged into its weights.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/context.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "lora_test_util.h"
#include "model/llama_model.h"
#include "test_util.h"

namespace tandem::test {

// The base f32 model with every adapter merged into its weights: W += scale * B·A with
// scale = user_scale * alpha / rank (user_scale when alpha is 0), summed in double.
inline void write_merged(const std::string& base_path, const std::string& out_path,
                  const std::vector<std::pair<const Adapter*, float>>& adapters) {
  GgufFile base = GgufFile::open(base_path);
  GgufWriter w;
  for (const auto& k : base.keys()) w.copy(k, *base.find(k));
  for (const auto& t : base.tensors())
    w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims));
  w.open(out_path);
  for (size_t i = 0; i < base.tensors().size(); ++i) {
    const auto& t = base.tensors()[i];
    std::vector<double> acc;
    for (const auto& [ad, user_scale] : adapters)
      for (const auto& lt : ad->tensors) {
        if (lt.name != t.name) continue;
        EXPECT_EQ(t.type, TensorType::F32);
        if (acc.empty()) acc.assign(size_t(t.n_elements()), 0.0);
        // llama.cpp: without alpha (0) the user's scale applies as is.
        const double s = ad->alpha != 0 ? double(user_scale) * ad->alpha / double(lt.rank) : double(user_scale);
        for (int64_t o = 0; o < lt.n_out; ++o)
          for (int64_t c = 0; c < lt.n_in; ++c) {
            double d = 0;
            for (int64_t r = 0; r < lt.rank; ++r) d += double(lt.b[size_t(o * lt.rank + r)]) * lt.a[size_t(r * lt.n_in + c)];
            acc[size_t(o * lt.n_in + c)] += s * d;
          }
      }
    if (acc.empty()) {
      w.write_tensor_data(i, t.data, t.nbytes);
    } else {
      std::vector<float> v(acc.size());
      const float* src = reinterpret_cast<const float*>(t.data);
      for (size_t j = 0; j < v.size(); ++j) v[j] = float(double(src[j]) + acc[j]);
      w.write_tensor_data(i, v.data(), v.size() * 4);
    }
  }
  w.finish();
}

class Lora : public ::testing::Test {
 protected:
  void SetUp() override {
    base_path_ = model_path("stories260K-f32.gguf");
    if (!std::filesystem::exists(base_path_)) GTEST_SKIP() << "missing " << base_path_;
    model_ = LlamaModel::load(base_path_);
  }
  static std::string tmp(const std::string& stem) { return temp_path("lora-" + stem) + ".gguf"; }
  static ContextParams small_ctx() {
    ContextParams cp;
    cp.n_ctx = 96;
    return cp;
  }
  std::string base_path_;
  std::unique_ptr<LlamaModel> model_;
};

}  // namespace tandem::test

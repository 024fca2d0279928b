// LoRA adapters where the tests need the `tandem` program: `tandem run` and `tandem perplexity`
// with --lora equal to the merged model, and malformed adapters refused with errors that name the
// problem (one of them: an adapter on a model of another shape, made by `tandem synth`).
#include <cmath>
#include <string>
#include <vector>

#include "format/error.h"
#include "lora_fixture.h"
#include "lora_test_util.h"
#include "test_util.h"

using namespace tandem;
using test::Adapter;
using test::all_targets;
using test::Lora;
using test::random_adapter;
using test::write_adapter;
using test::write_merged;

TEST_F(Lora, CliRunWithAdapterEqualsMergedModel) {
  const Adapter ad = random_adapter(model_->gguf(), all_targets(model_->gguf()), 4, 8.0f, 51);
  const std::string ap = tmp("cli"), mp = tmp("cli-merged");
  write_adapter(ap, ad);
  write_merged(base_path_, mp, {{&ad, 0.5f}});
  const std::string args = " -p 'Once upon a time' -n 24 --temp 0 --json -c 64";
  std::string with, merged, plain;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + base_path_ + " --lora " + ap + ":0.5" + args, &with), 0)
      << with;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + mp + args, &merged), 0) << merged;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + base_path_ + args, &plain), 0) << plain;
  auto tokens = [](const std::string& json) { return json.substr(json.find("\"tokens\"")); };
  EXPECT_EQ(tokens(with).substr(0, tokens(with).find(']')), tokens(merged).substr(0, tokens(merged).find(']')));
  EXPECT_NE(tokens(with).substr(0, tokens(with).find(']')), tokens(plain).substr(0, tokens(plain).find(']')));
  // perplexity --lora: the same perplexity as the merged model.
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  if (std::filesystem::exists(corpus)) {
    const std::string pargs = " -f " + corpus + " --ctx 64 --chunks 3 --json -q";
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + base_path_ + " --lora " + ap + ":0.5" + pargs,
                                &with), 0) << with;
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + mp + pargs, &merged), 0) << merged;
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + base_path_ + pargs, &plain), 0) << plain;
    auto ppl = [](const std::string& json) {
      const size_t at = json.find("\"perplexity\":");
      return at == std::string::npos ? -1.0 : std::stod(json.substr(at + 13));
    };
    EXPECT_NEAR(ppl(with), ppl(merged), 1e-3 * ppl(merged));
    EXPECT_GT(std::fabs(ppl(with) - ppl(plain)), 0.05 * ppl(plain));
  }
  std::string out;
  EXPECT_NE(test::run_command(test::tandem_binary() + " run -m " + base_path_ + " --lora " + base_path_ + args, &out), 0);
  EXPECT_NE(out.find("not a LoRA adapter"), std::string::npos) << out;
  std::filesystem::remove(ap);
  std::filesystem::remove(mp);
}

TEST_F(Lora, MalformedAdaptersAreRefused) {
  const auto targets = all_targets(model_->gguf());
  const Adapter good = random_adapter(model_->gguf(), {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}, 4, 8.0f, 61);
  const std::string p = tmp("bad");
  auto expect_error = [&](const std::string& what) {
    try {
      LoraAdapter::load(p, *model_);
      ADD_FAILURE() << "expected an error mentioning '" << what << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  write_adapter(p, good);
  EXPECT_NO_THROW(LoraAdapter::load(p, *model_));

  Adapter bad = good;  // lora_a of the wrong input width
  bad.tensors[0].n_in = 32;
  bad.tensors[0].a.resize(size_t(4 * 32));
  write_adapter(p, bad);
  expect_error("expected lora_a [64, rank]");

  bad = good;  // lora_b of the wrong output height (ffn_down: 172 -> 64)
  bad.tensors[1].n_out = 63;
  bad.tensors[1].b.resize(size_t(63 * 4));
  write_adapter(p, bad);
  expect_error("lora_b [rank, 64]");

  {
    // Hand-build the mismatch: A declared with rank 4, B with rank 3.
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.type", "adapter");
    w.set_string("adapter.type", "lora");
    w.add_tensor("blk.0.attn_q.weight.lora_a", TensorType::F32, {64, 4});
    w.add_tensor("blk.0.attn_q.weight.lora_b", TensorType::F32, {3, 64});
    w.open(p);
    std::vector<float> z(64 * 4, 0.f);
    w.write_tensor_data(0, z.data(), 64 * 4 * 4);
    w.write_tensor_data(1, z.data(), 64 * 3 * 4);
    w.finish();
  }
  expect_error("rank 4 in lora_a but 3 in lora_b");

  write_adapter(p, good, "qwen2");
  expect_error("architecture 'qwen2'");

  write_adapter(p, good, "llama", [](GgufWriter& w) { w.set_string("general.type", "model"); });
  expect_error("not a LoRA adapter");

  write_adapter(p, good, "llama", [](GgufWriter& w) { w.set_string("adapter.type", "control_vector"); });
  expect_error("expected 'lora'");

  bad = good;  // a layer the model does not have
  bad.tensors[0].name = "blk.9.attn_q.weight";
  write_adapter(p, bad);
  expect_error("does not exist in the base model");

  write_adapter(p, good, "llama", {}, {{"blk.2.attn_k.weight.lora_a", 64, 4}});
  expect_error("missing its lora_b");

  write_adapter(p, good, "llama", {}, {{"blk.2.attn_k.weight.dora", 64, 4}});
  expect_error("neither NAME.lora_a nor NAME.lora_b");

  write_adapter(p, good, "llama", {}, {{"token_embd.weight.lora_a", 4, 512}, {"token_embd.weight.lora_b", 64, 4}});
  expect_error("token_embd.weight are not supported");

  write_adapter(p, good, "llama", {}, {{"blk.0.attn_norm.weight", 64, 1}});  // skipped, as llama.cpp does
  EXPECT_NO_THROW(LoraAdapter::load(p, *model_));

  bad = good;
  bad.tensors[0].a[5] = NAN;
  write_adapter(p, bad);
  expect_error("non-finite");

  // The model file itself, loaded as an adapter.
  EXPECT_THROW(LoraAdapter::load(base_path_, *model_), Error);

  // An adapter loaded for one model does not run on a model of another shape.
  write_adapter(p, good);
  auto adapter = LoraAdapter::load(p, *model_);
  const std::string other = test::temp_path("lora-other") + ".gguf";
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape smollm2-135m --layers 1 --type f32 --vocab " +
                                  base_path_ + " -o " + other,
                              &out),
            0)
      << out;
  auto m2 = LlamaModel::load(other);
  Context c2(*m2, small_ctx());
  EXPECT_THROW(c2.set_loras({{adapter, 1.0f}}), Error);
  EXPECT_THROW(c2.set_loras({{nullptr, 1.0f}}), Error);
  std::filesystem::remove(other);
  std::filesystem::remove(p);
}

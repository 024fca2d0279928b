// Every synth shape of `tandem synth`, cut to a layer or two, loads with its architecture's
// details and runs, in process and through `tandem run`.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context.h"
#include "model/llama_model.h"
#include "test_util.h"

using namespace tandem;

// Every synth shape added for this engine, cut to a layer or two and given the 512-token
// stories vocabulary so the test stays small, loads with the right architecture details and
// runs through `tandem run`. The full-size shapes with their real vocabularies are too big for
// the test budget (see docs/measured.md for the measured runs).
TEST(Arch, NewSynthShapesLoadAndRun) {
  const std::string vocab = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(vocab);
  struct Case { const char* shape; int layers; const char* arch; bool freqs, bias; int n_embd; };
  for (const Case c : {Case{"qwen2.5-0.5b", 2, "qwen2", false, true, 896},
                       Case{"qwen2.5-1.5b", 1, "qwen2", false, true, 1536},
                       Case{"llama-3.2-1b", 1, "llama", true, false, 2048},
                       Case{"smollm2-135m", 2, "llama", false, false, 576}}) {
    SCOPED_TRACE(c.shape);
    const std::string path = test::temp_path(std::string("synth-") + c.shape) + ".gguf";
    std::string out;
    ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape " + c.shape + " --type q4_0 --layers " +
                                    std::to_string(c.layers) + " --vocab " + vocab + " -o " + path,
                                &out),
              0)
        << out;
    auto m = LlamaModel::load(path);
    EXPECT_EQ(m->hparams().arch, c.arch);
    EXPECT_EQ(m->hparams().n_embd, c.n_embd);
    EXPECT_EQ(m->hparams().n_layer, c.layers);
    EXPECT_TRUE(m->output_tied());
    EXPECT_EQ(m->rope_freq_factors().size(), c.freqs ? size_t(m->hparams().n_rot / 2) : 0u);
    EXPECT_EQ(m->layers()[0].bq.empty(), !c.bias);
    if (c.freqs) {  // Llama 3.2: high frequencies untouched, the lowest divided by 32
      EXPECT_EQ(m->rope_freq_factors().front(), 1.0f);
      EXPECT_EQ(m->rope_freq_factors().back(), 32.0f);
    }
    ContextParams cp;
    cp.n_ctx = 16;
    Context ctx(*m, cp);
    const float* lg = ctx.eval(0, std::vector<int32_t>{1, 100, 200, 300});
    for (int v = 0; v < m->hparams().n_vocab; ++v) ASSERT_TRUE(std::isfinite(lg[v]));
    ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + path + " -p 'Once upon' -n 4 --temp 0 --json -c 32",
                                &out),
              0)
        << out;
    EXPECT_NE(out.find("\"tokens\""), std::string::npos) << out;
    std::filesystem::remove(path);
  }
}

// tandem: one program, several subcommands (see commands.h).
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/commands.h"

using namespace tandem::tools;

static const Command kCommands[] = {
    {"run", "generate text with a model (streams to stdout; --json for one object)", cmd_run},
    {"bench", "prefill/decode speed, peak memory and memory-bandwidth fraction", cmd_bench},
    {"perplexity", "perplexity and KL-divergence of a model on a text file", cmd_perplexity},
    {"quantize", "convert a GGUF model's weights to q8_0 or q4_0", cmd_quantize},
    {"synth", "write a GGUF model of a real shape with seeded random weights", cmd_synth},
    {"info", "print a GGUF file's metadata and tensors", cmd_info},
    {"pull", "download a GGUF model over http(s) (resumable, --sha256 verified)", cmd_pull},
    {"serve", "OpenAI-compatible HTTP server with continuous batching and /v1/verify", cmd_serve},
    {"netsim", "TCP proxy that emulates the network: delay, jitter, bandwidth, loss, cuts", cmd_netsim},
    {"report", "the ledger's economics: cost vs all-cloud, P50/P99 latency per route, share on device", cmd_report},
    {"edge", "the on-device gateway: routes each OpenAI request to device, cloud or peer", cmd_edge},
    {"pii", "find, redact and evaluate personal data in text (privacy levels, docs/privacy.md)", cmd_pii},
};

static void usage(FILE* to) {
  std::fprintf(to, "usage: tandem COMMAND [options]   (tandem COMMAND --help for its options)\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(to, "  %-11s %s\n", c.name, c.summary);
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) {
      std::string name = std::string("tandem ") + c.name;
      argv[1] = name.data();
      return c.main(argc - 1, argv + 1);
    }
  }
  std::fprintf(stderr, "tandem: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}

// Temporary: subcommands whose implementation is being written. Each line goes when its cmd_*.cpp lands.
#include <cstdio>
#include "tools/commands.h"
namespace tandem::tools {
static int pending(const char* n) { std::fprintf(stderr, "tandem %s: not built yet\n", n); return 1; }
int cmd_run(int, char**) { return pending("run"); }
int cmd_bench(int, char**) { return pending("bench"); }
int cmd_synth(int, char**) { return pending("synth"); }
int cmd_quantize(int, char**) { return pending("quantize"); }
int cmd_perplexity(int, char**) { return pending("perplexity"); }
}  // namespace tandem::tools

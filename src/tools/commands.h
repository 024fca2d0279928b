// The subcommands of the `tandem` program. Each lives in its own cmd_*.cpp and parses its own
// flags with CLI11; main.cpp only dispatches on the first argument.
#pragma once

namespace tandem::tools {

struct Command {
  const char* name;
  const char* summary;
  int (*main)(int argc, char** argv);  // argv[0] is "tandem NAME"
};

int cmd_info(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_netsim(int argc, char** argv);
int cmd_report(int argc, char** argv);
int cmd_edge(int argc, char** argv);
int cmd_pii(int argc, char** argv);

}  // namespace tandem::tools

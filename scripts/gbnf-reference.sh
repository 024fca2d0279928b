#!/usr/bin/env bash
# llama.cpp's own verdicts on GBNF inputs, for GrammarLlamaCpp.* (tests/grammar_llamacpp_test.cpp):
# builds llama.cpp's GBNF validator (tests/test-gbnf-validator.cpp) from the reference source
# (../shared/anchors/llama.cpp.sh fetches it) in a build folder of its own, runs it on every
# (grammar, string) pair of tests/data/grammar/llamacpp-inputs.json and writes
# tests/data/grammar/llamacpp-verdicts.tsv: grammar file, the string as a JSON string, and
# accept, reject or error (llama.cpp refused the grammar).
# Usage: scripts/gbnf-reference.sh    (the first build takes several minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${TANDEM_ANCHORS:-$HOME/.cache/tandem-anchors}"
src="$root/llama.cpp"
if [ ! -f "$src/tests/test-gbnf-validator.cpp" ]; then
  echo "no llama.cpp source in $src: run ../shared/anchors/llama.cpp.sh first" >&2
  exit 1
fi
validator="$src/build-gbnf/bin/test-gbnf-validator"
if [ ! -x "$validator" ]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src" -B "$src/build-gbnf" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=ON \
    -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DGGML_NATIVE=ON "${launcher[@]}" >&2
  cmake --build "$src/build-gbnf" -j2 --target test-gbnf-validator >&2
fi

python3 - "$validator" tests/data/grammar <<'EOF'
import json, os, subprocess, sys, tempfile

validator, data = sys.argv[1], sys.argv[2]
inputs = json.load(open(os.path.join(data, "llamacpp-inputs.json"), encoding="utf-8"))
rows = []
with tempfile.TemporaryDirectory() as tmp:
    text_file = os.path.join(tmp, "input.txt")
    for grammar, texts in inputs.items():
        for text in texts:
            with open(text_file, "wb") as f:
                f.write(text.encode("utf-8"))
            run = subprocess.run([validator, os.path.join(data, grammar), text_file], capture_output=True)
            out = run.stdout.decode("utf-8", "replace")
            if "Input string is valid" in out:
                verdict = "accept"
            elif "Input string is invalid" in out:
                verdict = "reject"
            elif "Failed to initialize" in out or run.returncode != 0:
                verdict = "error"
            else:
                sys.exit(f"{grammar} {text!r}: unexpected validator output: {out}")
            rows.append(f"{grammar}\t{json.dumps(text, ensure_ascii=False)}\t{verdict}\n")
with open(os.path.join(data, "llamacpp-verdicts.tsv"), "w", encoding="utf-8") as f:
    f.write("# grammar\tinput (a JSON string)\tllama.cpp's verdict; written by scripts/gbnf-reference.sh\n")
    f.writelines(rows)
print(f"{len(rows)} verdicts written to {data}/llamacpp-verdicts.tsv", file=sys.stderr)
EOF

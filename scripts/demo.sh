#!/usr/bin/env bash
# The main job: installs the dependencies, builds tandem, and runs the device model and the
# cloud model of the shared pair (../shared/models: q4_0 on the device, f32 in the cloud) on
# the same prompt, with speed and the quantized model's cost in quality (perplexity, KLD).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j2 --target tandem
models="${TANDEM_MODELS:-../shared/models}"
device="$models/stories260K-q4_0.gguf" cloud="$models/stories260K-f32.gguf"
if [ ! -f "$device" ] || [ ! -f "$cloud" ]; then
  # No shared models: download the F32 stories260K GGUF from Hugging Face and quantize the
  # device model from it here. (The build machines cannot reach Hugging Face, so this branch
  # is exercised only through tests/pull_test.cpp's local server; the file there may differ
  # from ../shared/models, so no sha256 is pinned.)
  models="${TANDEM_MODELS:-build/models}"
  mkdir -p "$models"
  device="$models/stories260K-q4_0.gguf" cloud="$models/stories260K-f32.gguf"
  [ -f "$cloud" ] || ./build/tandem pull \
    https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf -o "$cloud"
  [ -f "$device" ] || ./build/tandem quantize "$cloud" "$device" --type q4_0
fi
prompt="${1:-Once upon a time}"
echo "== device model (q4_0), greedy"
./build/tandem run -m "$device" -p "$prompt" -n 64 --temp 0
echo "== cloud model (f32), greedy"
./build/tandem run -m "$cloud" -p "$prompt" -n 64 --temp 0
echo "== what quantization costs the device model (llama.cpp's method, vs the cloud model)"
corpus="$models/../reference/corpus/stories260K-samples.txt"
[ -f "$corpus" ] && ./build/tandem perplexity -m "$device" --kl-base "$cloud" -f "$corpus" --ctx 256 -q
echo "== device model speed"
./build/tandem bench -m "$device" -p 128 -n 64 -r 3 -q

#!/usr/bin/env bash
# The main job: installs the dependencies, builds tandem, and runs a hybrid session on the shared
# pair (../shared/models: q4_0 on the device, f32 in the cloud), all on loopback:
#   tandem serve (the cloud) <- tandem netsim (20 ms RTT) <- the device:
#   1. speculative decoding: the device model drafts, the cloud verifies; the text is the cloud
#      model's own, which the cloud model alone then shows;
#   2. tandem edge (the gateway) through a scripted day of device and network states: where each
#      request ran and why;
#   3. tandem report: the ledger's economics;
#   4. what quantization costs the device model (perplexity, KLD) and its speed.
# Ports: TANDEM_DEMO_PORT (default 18080) and the next three.
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
base="${TANDEM_DEMO_PORT:-18080}"
p_serve=$base p_net=$((base + 1)) p_ctl=$((base + 2)) p_edge=$((base + 3))
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_http() {  # URL: until it answers 200 (30 s at most)
  node -e '
    const url = process.argv[1];
    (async () => {
      for (let i = 0; i < 300; ++i) {
        try { if ((await fetch(url)).ok) return; } catch {}
        await new Promise((r) => setTimeout(r, 100));
      }
      console.error("no answer from " + url); process.exit(1);
    })();' "$1"
}

echo "== the cloud: tandem serve with the f32 model on 127.0.0.1:$p_serve"
./build/tandem serve -m "$cloud" --port "$p_serve" -t 1 --parallel 2 -c 512 2> "$work/serve.log" &
pids+=($!)
wait_http "http://127.0.0.1:$p_serve/health"
echo "== the network: tandem netsim, 10 ms each way (20 ms RTT), 127.0.0.1:$p_net -> :$p_serve"
./build/tandem netsim --listen "127.0.0.1:$p_net" --upstream "127.0.0.1:$p_serve" --delay-ms 10 \
  --control "127.0.0.1:$p_ctl" 2> "$work/netsim.log" &
pids+=($!)
wait_http "http://127.0.0.1:$p_ctl/stats"

echo
echo "== 1. speculative decoding: the device model (q4_0) drafts, the cloud model (f32) verifies"
./build/tandem run -m "$device" --verify-url "http://127.0.0.1:$p_net" -p "$prompt" -n 64 --temp 0
echo "== the cloud model alone, greedy (the same text: speculation is lossless)"
./build/tandem run -m "$cloud" -p "$prompt" -n 64 --temp 0

echo
echo "== 2. tandem edge on 127.0.0.1:$p_edge: device q4_0, the cloud behind netsim, a scripted day"
cat > "$work/edge.toml" << TOML
[edge]
port = $p_edge
ledger = "$work/ledger.sqlite"
default_max_tokens = 48

[device]
model = "$(realpath "$device")"
threads = 1
state_source = "push"

[[cloud]]
name = "cloud"
url = "http://127.0.0.1:$p_net"
price_input_per_1m = 0.50
price_output_per_1m = 1.50
timeout_ms = 1500

[connectivity]
probe_interval_ms = 500
breaker_open_ms = 1000
TOML
./build/tandem edge --config "$work/edge.toml" 2> "$work/edge.log" &
pids+=($!)
wait_http "http://127.0.0.1:$p_edge/health"
node scripts/demo-scenario.mjs "http://127.0.0.1:$p_edge" "http://127.0.0.1:$p_ctl"

echo
echo "== 3. tandem report: the ledger of those requests (all-cloud counterfactual at the same prices)"
./build/tandem report --db "$work/ledger.sqlite" --format table

echo
echo "== 4. what quantization costs the device model (llama.cpp's method, vs the cloud model)"
corpus="$models/../reference/corpus/stories260K-samples.txt"
[ -f "$corpus" ] && ./build/tandem perplexity -m "$device" --kl-base "$cloud" -f "$corpus" --ctx 256 -q
echo "== device model speed"
./build/tandem bench -m "$device" -p 128 -n 64 -r 3 -q

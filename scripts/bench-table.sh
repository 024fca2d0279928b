#!/usr/bin/env bash
# Speed table of the README: `tandem bench` on synthesized models of real shapes in every
# weight type, one markdown row per (shape, type): prefill and decode tokens/s, decode's share of
# the memory read bandwidth measured in the same run, peak resident memory.
#   scripts/bench-table.sh [--shapes "stories110M tinyllama-1.1b"] [--types "f32 f16 ..."]
#                          [-p 128] [-n 32] [-r 3] [-t 2] [--dir /tmp/tandem-bench]
# Models are written to --dir (several GB for the 1.1B shape in f32) and removed after each row.
set -euo pipefail
cd "$(dirname "$0")/.."
SHAPES="stories110M tinyllama-1.1b"
TYPES="f32 f16 bf16 q8_0 q6_k q5_k q5_1 q5_0 q4_k q4_1 q4_0"
P=128; N=32; R=3; T=2; DIR=/tmp/tandem-bench; EXTRA=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shapes) SHAPES="$2"; shift 2 ;;
    --types) TYPES="$2"; shift 2 ;;
    -p) P="$2"; shift 2 ;;
    -n) N="$2"; shift 2 ;;
    -r) R="$2"; shift 2 ;;
    -t) T="$2"; shift 2 ;;
    --dir) DIR="$2"; shift 2 ;;
    --verify-curve) EXTRA="--verify-curve"; shift ;;
    *) echo "bench-table: unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN=build/tandem
[ -x "$BIN" ] || { echo "bench-table: build first (cmake --build build)" >&2; exit 1; }
mkdir -p "$DIR"
echo "| shape | type | prefill pp$P tok/s | decode tg$N tok/s | weights/token | decode GB/s | memory GB/s | share | peak RSS |"
echo "|---|---|---|---|---|---|---|---|---|"
for shape in $SHAPES; do
  for type in $TYPES; do
    f="$DIR/$shape-$type.gguf"
    "$BIN" synth --shape "$shape" --type "$type" -o "$f" >/dev/null 2>&1
    "$BIN" bench -m "$f" -p "$P" -n "$N" -r "$R" -t "$T" --json -q $EXTRA > "$DIR/$shape-$type.json"
    rm -f "$f"
    node -e '
      const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const f = (x, d) => x.toFixed(d);
      console.log(`| ${process.argv[2]} | ${j.type} | ${f(j.prefill_tokens_per_s.mean, 1)} | ${f(j.decode_tokens_per_s.mean, 1)} | ` +
                  `${f(j.weight_bytes_per_token / 1e6, 0)} MB | ${f(j.decode_bandwidth_gbs, 1)} | ${f(j.memory_read_bandwidth_gbs, 1)} | ` +
                  `${f(100 * j.bandwidth_fraction, 0)} % | ${f(j.peak_rss_mib, 0)} MiB |`);
      if (j.verify_curve) console.error(`${process.argv[2]} ${j.type} verify: ` +
          j.verify_curve.map(p => `k=${p.k} ${p.ratio_vs_k_single.toFixed(2)}`).join(", "));
    ' "$DIR/$shape-$type.json" "$shape"
  done
done

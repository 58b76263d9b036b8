#!/usr/bin/env bash
# CUDA, on a machine with an NVIDIA GPU: build the engine for this GPU's architecture only, run the GPU-vs-CPU
# engine parity tests (test/gpu-backend.test.ts), the capture and generation benchmarks with every layer offloaded,
# and a layer-parity check of valuelens' capture against Hugging Face transformers' output_hidden_states.
# Needs: Node ≥ 20 with this repository installed (npm ci; the CPU build is the parity reference), nvcc, CMake,
# Python with torch + transformers. Makes everything it uses on the machine; no network. About 6–9 minutes.
#   bash bench/gpu/cuda.sh            (OUT=bench/out/gpu by default; figures land in $OUT/*.json and *.log)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/out/gpu}
mkdir -p "$OUT"
for tool in node nvcc cmake python3 nvidia-smi; do
  command -v "$tool" >/dev/null || { echo "cuda.sh: $tool not found on PATH" >&2; exit 1; }
done
python3 -c "import torch, transformers" 2>/dev/null || { echo "cuda.sh: python3 lacks torch or transformers" >&2; exit 1; }
[ -f build/Release/valuelens.node ] || { echo "cuda.sh: no CPU build (run npm ci first)" >&2; exit 1; }

ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
echo "== GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1), sm_$ARCH" | tee "$OUT/summary.log"

t0=$(date +%s)
if [ ! -f build-cuda/Release/valuelens.node ]; then
  VALUELENS_GPU=cuda VALUELENS_RPC=0 VALUELENS_BUILD_DIR=build-cuda VALUELENS_CUDA_ARCH="$ARCH" \
    node scripts/build-native.mjs 2>&1 | tail -n 5 | tee "$OUT/build.log"
fi
echo "== build: $(( $(date +%s) - t0 )) s" | tee -a "$OUT/summary.log"
ADDON=$PWD/build-cuda/Release/valuelens.node

echo "== engine parity (CUDA vs CPU build)" | tee -a "$OUT/summary.log"
VALUELENS_GPU_ADDON=$ADDON VALUELENS_GPU_BACKEND=CUDA npx vitest run test/gpu-backend.test.ts 2>&1 | tee "$OUT/parity.log" | tail -n 8 | tee -a "$OUT/summary.log"

echo "== benchmarks (every layer offloaded)" | tee -a "$OUT/summary.log"
VALUELENS_BINARY=$ADDON node bench/capture.mjs --gpu-layers=-1 --texts 512 --rounds 3 --compare-methods --json > "$OUT/capture.json"
VALUELENS_BINARY=$ADDON node bench/generate.mjs --gpu-layers=-1 --json > "$OUT/generate.json"
node -e '
  const c = require(process.argv[1]), g = require(process.argv[2]);
  console.log(`capture (${c.captureMethod}): plain ${c.tokensPerSecond.plain.toFixed(0)} tok/s; all layers at the last token ${c.ratio.lastOverPlain.toFixed(3)}x plain; every token ${c.ratio.allOverPlain.toFixed(3)}x plain`);
  for (const m of ["graph", "callback"]) console.log(`  ${m}: last ${c.ratio[`last:${m}OverPlain`].toFixed(3)}x, mean ${c.ratio[`mean:${m}OverPlain`].toFixed(3)}x, every token ${c.ratio[`all:${m}OverPlain`].toFixed(3)}x plain`);
  console.log(`generate: ${JSON.stringify(g.ratio ?? g)}`);
' "$PWD/$OUT/capture.json" "$PWD/$OUT/generate.json" | tee -a "$OUT/summary.log"

echo "== layer parity against transformers (output_hidden_states)" | tee -a "$OUT/summary.log"
node bench/gpu/hf-parity-capture.mjs "$OUT" "$ADDON" 2>&1 | tee -a "$OUT/summary.log"
python3 bench/gpu/hf_parity.py "$OUT" 2>&1 | tee -a "$OUT/summary.log"
echo "== total: $(( $(date +%s) - t0 )) s" | tee -a "$OUT/summary.log"

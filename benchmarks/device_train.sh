#!/usr/bin/env bash
# The H200 run of benchmarks/bench_train.py (one call of the device tool per policy):
#   bash benchmarks/device_train.sh act|diffusion [variants]
#   e.g. bash benchmarks/device_train.sh diffusion fp32,compile,lerobot@2000,graphs
# Wheels (carried in .whl_train, Python 3.12, for the machine's torch 2.11): LeRobot 0.6.1 and its
# missing deps, PyAV 15.1, tensordict 0.14.3, cattrs, tomli_w. Results under $OUT: the summary is
# written after every run, so a call cut at BENCH_SECONDS keeps what finished.
set -uo pipefail
KIND=${1:-act}
VARIANTS=${2:-fp32,bf16}
OUT=${OUT:-/tmp/out}
if [ ! -d /tmp/site/lerobot ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl_train/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch, torchvision, lerobot, av; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'av', av.__version__)" | tee -a "$OUT/gpu.txt"
ROOT=/tmp/data_$KIND
timeout "${BENCH_SECONDS:-540}" python3 benchmarks/bench_train.py "$KIND" --root "$ROOT" --out /tmp/bench --steps ${STEPS:-500} \
  --warmup 100 --workers 12 --variants "$VARIANTS" --summary "$OUT/${KIND}_summary.json" 2>&1 | tail -40
for f in /tmp/bench/${KIND}_*.log; do tail -c 100000 "$f" > "$OUT/$(basename "$f")"; done
ls -la "$OUT"

#!/usr/bin/env bash
# One call on the lent GPU machine (Python 3.12, torch 2.11, no network): SmolVLA at SmolVLM2-500M size,
# lerobot-fn vs LeRobot 0.6.1 in the same process (benchmarks/bench_smolvla.py). Needs, carried beside the repo:
#   .whl/  wheels: tensordict==0.14.3 pyvers orjson lerobot==0.6.1 draccus==0.11.6 mergedeep toml gymnasium
#          farama-notifications multiprocess dill av pytz termcolor transformers==5.5.4 tokenizers==0.22.2
#          num2words regex (LeRobot's smolvla imports; diffusers and datasets are not needed for it)
# Extra arguments go to bench_smolvla.py (e.g. --variants fp32,bf16,compile-bf16,graphs-bf16 --curve-steps 0).
# Results land in $OUT: smolvla.log (table + progress) and smolvla.json.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, transformers, tensordict, lerobot; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tensordict', tensordict.__version__)"
timeout "${BENCH_SECONDS:-220}" python3 benchmarks/bench_smolvla.py --device cuda --json "$OUT/smolvla.json" "$@" > "$OUT/smolvla.log" 2>&1
echo "rc=$?"
grep -E '^(#|\|)|Error|error:' "$OUT/smolvla.log" | tail -40

#!/usr/bin/env bash
# One call on the lent GPU machine (Python 3.12, torch 2.11, no network): policy benchmarks on GPU and
# on its 16 CPU cores, lerobot-fn vs LeRobot 0.6.1 side by side. Needs, carried beside the repo:
#   .whl/        wheels: tensordict pyvers orjson importlib_metadata lerobot==0.6.1 draccus mergedeep
#                diffusers datasets dill multiprocess gymnasium farama-notifications av pytz termcolor
#   .benchdata/  <name>/pretrained_model/ with config + processor files (weights are made there, seeded)
# Results land in $OUT: <run>.log (table + progress) and <run>.json, 8 files in all.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi -L; nproc; python3 -c "import torch, tensordict, lerobot, diffusers; print('torch', torch.__version__, 'tensordict', tensordict.__version__, 'diffusers', diffusers.__version__)"
rm -rf /tmp/ckpts && cp -r .benchdata /tmp/ckpts
B="python3 benchmarks/bench_policies.py --fixtures /tmp/ckpts"
run() {  # run NAME SECONDS ARGS...
  local name=$1 secs=$2; shift 2
  echo "== $name"
  timeout "$secs" $B "$@" --json "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  echo "rc=$?"; grep -E '^(#|\|)|FAILED' "$OUT/$name.log"
}
run gpu_eager 120 --device cuda --variants eager,bf16 --lerobot-python python3
run cpu_eager 100 --device cpu --variants eager --lerobot-python python3 --steps 30 --repeats 2
run gpu_compiled 220 --device cuda --variants compile,graphs,graphs-bf16 --lerobot-python none
run cpu_compiled 90 --device cpu --variants compile --lerobot-python none --steps 30 --repeats 2

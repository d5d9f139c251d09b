#!/usr/bin/env bash
# One call on the lent GPU machine (Python 3.12, torch 2.11, no network): SmolVLA at SmolVLM2-500M size,
# lerobot-fn vs LeRobot 0.6.1 in the same process (benchmarks/bench_smolvla.py). Needs, carried beside the repo
# (18 MB; PyAV is not needed: the benchmark imports LeRobot's smolvla without lerobot/policies/__init__.py):
#   $WHEELS (default .whl_vla/): tensordict==0.14.3 pyvers orjson importlib_metadata cattrs tomli_w lerobot==0.6.1
#          draccus==0.11.6 mergedeep toml gymnasium farama-notifications multiprocess dill pytz termcolor jsonlines
#          lazy_importer transformers==5.5.4 tokenizers==0.22.2 num2words regex
# Extra arguments go to bench_smolvla.py (e.g. --variants bf16,train:gqa,train:compile --sections train --profile 3).
# Results land in $OUT: smolvla.log (table + progress), smolvla.json and, with --profile, profile_*.txt.
set -u
python3 -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(torch|transformers|tokenizers|tensordict|safetensors|huggingface.hub) '
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "${WHEELS:-.whl_vla}"/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, transformers, tensordict, lerobot; print('torch', torch.__version__, 'transformers', transformers.__version__, 'tensordict', tensordict.__version__)"
timeout "${BENCH_SECONDS:-220}" python3 benchmarks/bench_smolvla.py --device cuda --json "$OUT/smolvla.json" "$@" > "$OUT/smolvla.log" 2>&1
echo "rc=$?"
grep -E '^(#|\|)|Error|error:' "$OUT/smolvla.log" | tail -40

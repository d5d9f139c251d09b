"""Policy inference speed, lerobot-fn vs LeRobot 0.6.1, on the fixtures' checkpoints.

    .venv/bin/python benchmarks/bench_policies.py [--device cpu|cuda] [--variants eager,compile,...]

For every checkpoint in ../shared/fixtures/policies it measures, through the public API (raw
observations in, raw actions out, processors included):
- select_action latency at batch 1: mean over `--steps` consecutive calls after a reset (queue
  pops included, as a control loop sees it) and the max (a call that computes a new chunk);
- the median select_action call (a queue pop: the processors plus the queue, no model call);
- the processor hot path alone: preprocessing one frame plus postprocessing one action (median);
- predict_chunk throughput at batch `--chunk-batch` (samples/s, median of `--repeats`).
LeRobot runs in its own venv as a subprocess (benchmarks/lerobot_policy_worker.py) on the same
checkpoint in the same run, when that venv exists. Prints a markdown table.
Variants: eager (float32), compile (torch.compile), bf16 (autocast), fast (compile + bf16 +
channels_last), graphs (torch.compile mode="reduce-overhead": CUDA graphs), graphs-bf16. bf16 changes numerics; the table's last column gives the max abs diff of
predict_chunk vs eager float32 on the same inputs.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from lerobot_fn import policies
from lerobot_fn.policies import api
from lerobot_fn.process import from_flat_dict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "policies"
WORKER = Path(__file__).with_name("lerobot_policy_worker.py")

VARIANTS = {
    "eager": {},
    "compile": {"compile": True},
    "bf16": {"autocast": torch.bfloat16},
    "fast": {"compile": True, "autocast": torch.bfloat16, "channels_last": True},
    "graphs": {"compile": True, "compile_mode": "reduce-overhead"},
    "graphs-bf16": {"compile": True, "compile_mode": "reduce-overhead", "autocast": torch.bfloat16},
}


def random_obs(config, batch: int, history: int | None, generator: torch.Generator):
    flat = {}
    for name, feature in config.input_features.items():
        full = (batch, history, *feature.shape) if history else (batch, *feature.shape)
        flat[name] = (torch.rand if feature.type.value == "VISUAL" else torch.randn)(full, generator=generator)
    return from_flat_dict(flat, batch_size=[batch])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_ours(ckpt: Path, variant: str, args) -> dict:
    device = torch.device(args.device)
    policy = policies.optimize(policies.load(ckpt, device=device), **VARIANTS[variant])
    config = policy.config
    g = torch.Generator().manual_seed(0)
    frames = [random_obs(config, 1, None, g) for _ in range(args.steps)]  # on the host, as from a robot
    history = config.n_obs_steps if policy.type == "diffusion" else None
    chunk_obs = random_obs(config, args.chunk_batch, history, g)
    t0 = time.perf_counter()
    state = policies.initial_state(policy)
    for f in frames[: max(3, args.warmup)]:
        _, state = policies.select_action(policy, f, state)
    policies.predict_chunk(policy, chunk_obs)
    policies.predict_chunk(policy, chunk_obs)
    warm_s = time.perf_counter() - t0
    state = policies.initial_state(policy)
    per_call = []
    for f in frames:
        _sync(device)
        t = time.perf_counter()
        _, state = policies.select_action(policy, f, state)
        _sync(device)
        per_call.append(time.perf_counter() - t)
    chunk_times = []
    for _ in range(args.repeats):
        _sync(device)
        t = time.perf_counter()
        out = policies.predict_chunk(policy, chunk_obs)
        _sync(device)
        chunk_times.append(time.perf_counter() - t)
    action, _ = policies.select_action(policy, frames[0], policies.initial_state(policy))
    processors = []
    for f in frames:  # the processor hot path alone: preprocess a frame, postprocess an action
        _sync(device)
        t = time.perf_counter()
        policies.preprocess(policy, f)
        policies.postprocess(policy, action)
        _sync(device)
        processors.append(time.perf_counter() - t)
    result = {
        "select_action_mean_ms": 1e3 * statistics.mean(per_call),
        "select_action_max_ms": 1e3 * max(per_call),
        "select_action_median_ms": 1e3 * statistics.median(per_call),
        "processors_median_ms": 1e3 * statistics.median(processors),
        "predict_chunk_samples_per_s": args.chunk_batch / statistics.median(chunk_times),
        "warmup_s": warm_s,
    }
    if variant != "eager" and policy.type == "act":  # Diffusion samples noise: compare deterministic ACT only
        ref = policies.predict_chunk(policies.load(ckpt, device=device), chunk_obs)
        result["max_abs_diff_vs_eager"] = (out - ref).abs().max().item()
    return result


def ensure_weights(ckpt: Path) -> None:
    """A checkpoint copied without its model.safetensors gets seeded random weights (same shapes, same
    cost), so the benchmark can run where the fixtures' weight files are not available."""
    if (ckpt / "model.safetensors").exists():
        return
    from lerobot_fn.data import pretrained
    from lerobot_fn.policies import registry

    raw = json.loads((ckpt / "config.json").read_text())
    family = registry.family(raw["type"])
    torch.manual_seed(0)
    model = api.untrained_model(family, family.Config.from_dict(raw))
    pretrained.write_model(model, ckpt)


def bench_lerobot(ckpt: Path, args) -> dict | None:
    python = shutil.which(args.lerobot_python)
    if python is None:
        return None
    cmd = [str(python), str(WORKER), "bench", str(ckpt), "--steps", str(args.steps), "--chunk-batch",
           str(args.chunk_batch), "--repeats", str(args.repeats), "--device", args.device]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(f"LeRobot worker failed on {ckpt}:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1][len("RESULT "):])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--variants", default="eager,compile,bf16,fast")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--chunk-batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--policies", default=None, help="comma-separated fixture names (default: all)")
    parser.add_argument("--lerobot-python", default=str(ROOT / ".lerobot-venv" / "bin" / "python"))
    parser.add_argument("--fixtures", default=str(FIXTURES), help="folder of <name>/pretrained_model checkpoints")
    parser.add_argument("--json", default=None, help="also write all results to this JSON file")
    args = parser.parse_args()
    fixtures = Path(args.fixtures)
    names = args.policies.split(",") if args.policies else sorted(p.name for p in fixtures.iterdir())
    print(f"# {platform.node()} | {platform.processor() or platform.machine()} | torch {torch.__version__} | "
          f"threads {torch.get_num_threads()} | device {args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device.startswith("cuda") else ""))
    rows, everything = [], {}
    for name in names:
        ckpt = fixtures / name / "pretrained_model"
        ensure_weights(ckpt)
        theirs = bench_lerobot(ckpt, args)
        everything[name] = {"lerobot": theirs}
        if theirs:
            rows.append((name, "LeRobot 0.6.1", theirs["select_action_mean_ms"], theirs["select_action_max_ms"],
                         theirs["select_action_median_ms"], theirs["processors_median_ms"],
                         theirs["predict_chunk_samples_per_s"], None, None))
        for variant in args.variants.split(","):
            try:
                ours = bench_ours(ckpt, variant, args)
            except Exception as err:  # noqa: BLE001  a variant that fails to compile is reported, the others still run
                print(f"  {name} {variant}: FAILED {type(err).__name__}: {str(err)[:500]}", file=sys.stderr)
                everything[name][variant] = {"error": f"{type(err).__name__}: {str(err)[:500]}"}
                continue
            everything[name][variant] = ours
            ratio = ours["select_action_mean_ms"] / theirs["select_action_mean_ms"] if theirs else None
            rows.append((name, f"lerobot-fn {variant}", ours["select_action_mean_ms"], ours["select_action_max_ms"],
                         ours["select_action_median_ms"], ours["processors_median_ms"],
                         ours["predict_chunk_samples_per_s"], ratio, ours.get("max_abs_diff_vs_eager")))
            print(f"  {name} {variant}: {json.dumps(ours)}", file=sys.stderr)
    print("| policy | run | select_action mean ms (b=1) | max ms | median ms (queue pop) | processors ms | "
          f"predict_chunk samples/s (b={args.chunk_batch}) | latency vs LeRobot | max abs diff vs fp32 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, run, mean, mx, med, proc, thr, ratio, diff in rows:
        print(f"| {name} | {run} | {mean:.2f} | {mx:.2f} | {med:.3f} | {proc:.3f} | {thr:.1f} | "
              f"{'' if ratio is None else f'{ratio:.2f}x'} | {'' if diff is None else f'{diff:.2g}'} |")
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training throughput, lerobot-fn vs LeRobot 0.6.1 (`lerobot-train`), same dataset/config/batch, one run.

    python benchmarks/bench_train.py act --root /tmp/act_data --steps 500 --out /tmp/bench
    python benchmarks/bench_train.py diffusion --root /tmp/pusht_data --steps 500 --out /tmp/bench

First writes a realistic AV1 dataset with our writer (unless `--root` already holds one): ACT, 3
cameras 480x640 at 50 fps, 14-D state/action (ALOHA-like); Diffusion, a 96x96 camera at 10 fps,
2-D state/action (PushT-like). Then trains `--steps` steps with each library as a subprocess, data
loading included, logging every 10 steps, and samples the GPU's busy fraction (NVML) meanwhile.
Throughput is measured between the log lines of steps `--warmup` and `--steps` (arrival times of
the lines, the same clock for both), so start-up, compilation and the final save are excluded.
The loss curves (LeRobot's log: means over each 10-step window; ours: the same) are compared by
their mean absolute difference relative to the mean loss. Prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LOG_EVERY = 10

POLICY = {  # the same config for both libraries (LeRobot's defaults; no ImageNet download on the GPU box)
    "act": {"batch_size": 8, "overrides": {"chunk_size": 100, "n_action_steps": 100, "pretrained_backbone_weights": None}},
    "diffusion": {"batch_size": 64, "overrides": {"n_obs_steps": 2, "horizon": 16, "n_action_steps": 8,
                                                 "crop_shape": [84, 84], "use_group_norm": True,
                                                 "pretrained_backbone_weights": None}},
}


# ---- the dataset ------------------------------------------------------------------------------
def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random colour field (upsampled noise): compresses like a real scene, unlike flat colour."""
    small = rng.integers(0, 255, (h // 16 + 2, w // 16 + 2, 3)).astype(np.float32)
    big = np.kron(small, np.ones((16, 16, 1), np.float32))[:h, :w]
    return big


def make_dataset(kind: str, root: Path, episodes: int, frames: int) -> None:
    from lerobot_fn import data
    from lerobot_fn.data.synthetic import render, trajectory

    rng = np.random.default_rng(0)
    if kind == "act":
        cams, (h, w), fps, dim = ("top", "left_wrist", "right_wrist"), (480, 640), 50, 14
    else:
        cams, (h, w), fps, dim = ("image",), (96, 96), 10, 2
    names = [f"observation.images.{c}" if kind == "act" else "observation.image" for c in cams]
    features = {n: {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]} for n in names}
    features["observation.state"] = {"dtype": "float32", "shape": (dim,), "names": None}
    features["action"] = {"dtype": "float32", "shape": (dim,), "names": None}
    import torch

    gen = torch.Generator().manual_seed(0)
    with data.create(root, fps=fps, features=features, robot_type="bench") as writer:
        for _ in range(episodes):
            base = [_texture(rng, h + 64, w + 64) for _ in names]
            positions, goal = trajectory(gen, frames)
            joints = np.cumsum(rng.normal(0, 0.02, (frames + 1, dim)), axis=0).astype(np.float32)
            for t in range(frames):
                frame = {"task": "bench"}
                for n, b in zip(names, base, strict=True):
                    dx, dy = int(32 + 30 * np.sin(t / 17)), int(32 + 30 * np.cos(t / 23))
                    img = b[dy:dy + h, dx:dx + w].copy()
                    if kind != "act":
                        img = 0.5 * img + 0.5 * render(positions[t], goal, h, w)
                    noise = rng.normal(0, 4, img.shape)
                    frame[n] = np.clip(img + noise, 0, 255).astype(np.uint8)
                frame["observation.state"] = joints[t] if kind == "act" else positions[t].astype(np.float32)
                frame["action"] = joints[t + 1] if kind == "act" else positions[t + 1].astype(np.float32)
                writer.add_frame(frame)
            writer.save_episode()


# ---- running a trainer while timing its log lines and sampling the GPU ---------------------------
class GpuSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self):
        try:
            import pynvml

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception:  # noqa: BLE001 - no NVML: no busy fraction
            return
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))
            time.sleep(0.1)

    def busy(self, start: float, end: float) -> float | None:
        window = [u for t, u in self.samples if start <= t <= end]
        return float(np.mean(window)) / 100 if window else None


def run_trainer(cmd: list[str], log_path: Path, step_pattern: re.Pattern, env: dict) -> tuple[dict[int, float], int]:
    """Run `cmd`; returns {step: arrival time of its log line} and the exit code."""
    arrivals: dict[int, float] = {}
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                                start_new_session=True)
        for line in proc.stdout:
            log.write(line)
            m = step_pattern.search(line)
            if m:
                arrivals.setdefault(int(m.group(1)), time.monotonic())
        return arrivals, proc.wait(timeout=60)


def _ours_cmd(kind: str, root: Path, out: Path, steps: int, workers: int, variant: dict) -> tuple[list[str], Path]:
    cfg = POLICY[kind]
    overrides = {k: ("" if v is None else v) for k, v in cfg["overrides"].items()}
    lines = ['job = "train"', "[dataset]", f'root = "{root}"', "[policy]", f'type = "{kind}"', "[policy.overrides]"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in overrides.items()]
    lines += ["[train]", f"steps = {steps}", f"batch_size = {cfg['batch_size']}", f"num_workers = {workers}",
              f'device = "{variant.get("device", "cuda")}"', f"log_every = {LOG_EVERY}", "save_every = 0",
              f'mixed_precision = "{variant.get("mixed_precision", "no")}"',
              f"compile = {'true' if variant.get('compile') else 'false'}",
              f'compile_mode = "{variant.get("compile_mode", "")}"', f"seed = {variant.get('seed', 1000)}",
              "[log]", "progress = false",
              "[run]", f'output_dir = "{out}"']
    spec = out.with_suffix(".toml")
    spec.write_text("\n".join(lines) + "\n")
    return [sys.executable, "-m", "lerobot_fn.cli", str(spec)], out / "metrics.jsonl"


def _lerobot_cmd(kind: str, root: Path, out: Path, steps: int, workers: int, python: str, device: str,
                 seed: int = 1000) -> list[str]:
    cfg = POLICY[kind]
    args = [python, "-m", "lerobot.scripts.lerobot_train", f"--dataset.repo_id=bench/{kind}", f"--dataset.root={root}",
            "--dataset.video_backend=pyav", f"--policy.type={kind}", f"--policy.device={device}", "--policy.push_to_hub=false",
            f"--batch_size={cfg['batch_size']}", f"--steps={steps}", f"--num_workers={workers}",
            f"--log_freq={LOG_EVERY}", "--save_checkpoint=false", "--env_eval_freq=0", "--wandb.enable=false",
            f"--output_dir={out}", f"--seed={seed}"]
    for k, v in cfg["overrides"].items():
        args.append(f"--policy.{k}=" + ("null" if v is None else json.dumps(v).replace(" ", "")))
    return args


def _curve_lerobot(log: Path) -> dict[int, float]:
    curve = {}
    for line in log.read_text().splitlines():
        m = re.search(r"step:(\S+) .*?loss:([0-9.eE+-]+)", line)
        if m and m.group(1).isdigit():
            curve[int(m.group(1))] = float(m.group(2))
    return curve


def curve_difference(ref: dict[int, float], curve: dict[int, float]) -> float | None:
    """Mean |ref - curve| over the common log steps, relative to the mean reference loss."""
    common = sorted(set(ref) & set(curve))
    if not common:
        return None
    return float(np.mean([abs(ref[s] - curve[s]) for s in common]) / np.mean([ref[s] for s in common]))


def _compare(summary: dict, names: list[str]) -> None:
    """Loss-curve difference and speed-up of every finished run against the first lerobot run."""
    ref = summary.get("lerobot")
    for name in names[1:]:
        if ref is None or name not in summary:
            continue
        result = summary[name]
        diff = curve_difference(ref["curve"], result["curve"])
        if diff is not None:
            result["loss_mad_over_scale"] = diff
        if "samples_per_s" in result and "samples_per_s" in ref:
            result["speedup"] = result["samples_per_s"] / ref["samples_per_s"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["act", "diffusion"])
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--episodes", type=int, default=0)
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--lerobot-python", default=sys.executable)
    p.add_argument("--variants", default="fp32", help="comma-separated runs after the reference lerobot-train run "
                   "(seed 1000), in order: ours fp32, bf16, compile, graphs (compile with CUDA graphs), combined with "
                   "'+' (bf16+compile); '@SEED' another seed (fp32@2000); lerobot@SEED another lerobot-train run, "
                   "whose difference to the reference is the seed-to-seed noise floor of the loss curve")
    p.add_argument("--summary", type=Path, default=None, help="also write the summary here after every run")
    p.add_argument("--skip-lerobot", action="store_true")
    p.add_argument("--device", default="cuda")
    a = p.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"kind": a.kind, "steps": a.steps, "warmup": a.warmup, "workers": a.workers,
                     "batch_size": POLICY[a.kind]["batch_size"]}
    if not (a.root / "meta" / "info.json").is_file():
        t0 = time.perf_counter()
        make_dataset(a.kind, a.root, a.episodes or (6 if a.kind == "act" else 30), a.frames)
        summary["dataset_write_s"] = time.perf_counter() - t0
    from lerobot_fn import data

    meta = data.DatasetMeta.load(a.root)
    summary["dataset"] = {"frames": meta.total_frames, "episodes": meta.total_episodes, "fps": meta.fps,
                          "cameras": list(meta.camera_keys)}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    runs = [] if a.skip_lerobot else [("lerobot", "lerobot@1000")]
    for v in filter(None, a.variants.split(",")):
        prefix = "" if v.startswith("lerobot") else "ours_"
        runs.append((prefix + v.replace("@", "_seed").replace("+", "_"), v))
    for name, variant in runs:
        out = a.out / f"{a.kind}_{name}"
        kind_of_run, _, seed = variant.partition("@")
        seed = int(seed or 1000)
        if kind_of_run == "lerobot":
            cmd = _lerobot_cmd(a.kind, a.root, out, a.steps, a.workers, a.lerobot_python, a.device, seed)
            pattern = re.compile(r"step:(\d+) ")
        else:
            parts = set(kind_of_run.split("+"))
            options = {"mixed_precision": "bf16" if "bf16" in parts else "no", "compile": bool(parts & {"compile", "graphs"}),
                       "compile_mode": "reduce-overhead" if "graphs" in parts else "", "device": a.device, "seed": seed}
            cmd, _ = _ours_cmd(a.kind, a.root, out, a.steps, a.workers, options)
            pattern = re.compile(r"INFO step (\d+)/")
        sampler = GpuSampler()
        sampler.start()
        start = time.monotonic()
        arrivals, code = run_trainer(cmd, a.out / f"{a.kind}_{name}.log", pattern, env)
        sampler.stop.set()
        result = {"exit_code": code, "wall_s": time.monotonic() - start}
        if a.warmup in arrivals and a.steps in arrivals:
            seconds = arrivals[a.steps] - arrivals[a.warmup]
            result["samples_per_s"] = (a.steps - a.warmup) * POLICY[a.kind]["batch_size"] / seconds
            result["gpu_busy"] = sampler.busy(arrivals[a.warmup], arrivals[a.steps])
        if kind_of_run == "lerobot":
            result["curve"] = _curve_lerobot(a.out / f"{a.kind}_{name}.log")
        else:
            metrics = out / "metrics.jsonl"
            lines = [json.loads(t) for t in metrics.read_text().splitlines()] if metrics.is_file() else []
            result["curve"] = {r["step"]: r["loss"] for r in lines if "loss" in r}
        summary[name] = result
        _compare(summary, [n for n, _ in runs])
        print(json.dumps({name: {k: v for k, v in result.items() if k != "curve"}}), flush=True)
        for path in (a.out / f"{a.kind}_summary.json", a.summary):
            if path is not None:
                path.write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: ({kk: vv for kk, vv in v.items() if kk != "curve"} if isinstance(v, dict) else v)
                      for k, v in summary.items()}))


if __name__ == "__main__":
    main()

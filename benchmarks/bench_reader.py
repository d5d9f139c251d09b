"""Dataset reader throughput: lerobot-fn vs LeRobot 0.6.1 on the same video dataset, same settings.

Generates (once, outside git) a realistic dataset with LeRobot's own writer, then iterates a
shuffled DataLoader over it with ACT-style (`action` chunk of 100) and Diffusion-style (2
observation frames, 16 actions) `delta_timestamps`, with 0 and 2 workers, for both readers,
each in a fresh subprocess. Prints items/s, decoded video frames/s, peak RSS (main; sum over workers)
and the ratio ours/LeRobot. LeRobot runs in its own venv (Python >= 3.12):

    .venv/bin/python benchmarks/bench_reader.py [--lerobot-python .lerobot-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path(os.environ.get("LEROBOT_FN_BENCH_CACHE", "~/.cache/lerobot-fn-bench")).expanduser()

GENERATE = textwrap.dedent(
    """
    import sys, numpy as np
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    root, episodes, frames, h, w, fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    cam = {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]}
    features = {
        "observation.images.top": cam,
        "observation.images.wrist": cam,
        "observation.state": {"dtype": "float32", "shape": (14,), "names": None},
        "action": {"dtype": "float32", "shape": (14,), "names": None},
    }
    ds = LeRobotDataset.create("bench/reader", fps=fps, features=features, root=root, robot_type="aloha")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    for e in range(episodes):
        for t in range(frames):
            def img(phase):
                r = (np.sin((xx + 3 * t + phase) / 17.0) * 100 + 128)
                g = (np.cos((yy - 2 * t + phase) / 23.0) * 100 + 128)
                b = ((xx + yy + 5 * t) % 255)
                im = np.stack([r, g, b], -1) + rng.integers(0, 12, (h, w, 3))
                return np.clip(im, 0, 255).astype(np.uint8)
            ds.add_frame({
                "observation.images.top": img(0), "observation.images.wrist": img(40 * e),
                "observation.state": rng.standard_normal(14).astype(np.float32),
                "action": rng.standard_normal(14).astype(np.float32),
                "task": f"task {e % 3}",
            })
        ds.save_episode()
    ds.finalize()
    print("generated", root)
    """
)

# One measurement, run in a fresh interpreter: which reader, which delta_timestamps, workers.
MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time, torch
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(1)
    if cfg["reader"] == "lerobot":
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
        ds = LeRobotDataset("bench/reader", root=cfg["root"], delta_timestamps=cfg["delta"], video_backend="pyav")
        dl = torch.utils.data.DataLoader(ds, batch_size=cfg["batch_size"], shuffle=True,
                                         num_workers=cfg["workers"], drop_last=True,
                                         persistent_workers=cfg["workers"] > 0)
    else:
        from lerobot_fn import data
        ds = data.open(cfg["root"], delta_timestamps=cfg["delta"], video_backend="pyav",
                       return_uint8=cfg["reader"] == "lerobot-fn-uint8")
        dl = data.loader(ds, batch_size=cfg["batch_size"], shuffle=True, num_workers=cfg["workers"],
                         drop_last=True, generator=torch.Generator().manual_seed(0))
    it = iter(dl)
    for _ in range(cfg["warmup"]):
        next(it)
    t0 = time.perf_counter()
    n = 0
    for _ in range(cfg["batches"]):
        next(it)
        n += cfg["batch_size"]
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = 0  # sum of the live workers' peak RSS (VmHWM; pages shared with the parent count in each)
    for w in getattr(it, "_workers", []):
        with open(f"/proc/{w.pid}/status") as f:
            child += next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    del it, dl
    print(json.dumps({"items_per_s": n / dt, "seconds": dt, "items": n,
                      "peak_rss_mb": rss / 1024, "peak_worker_rss_mb": child / 1024}))
    """
)


def generate(lerobot_python: str, root: Path, episodes: int, frames: int, h: int, w: int, fps: int) -> None:
    if (root / "meta/info.json").is_file():
        return
    root.parent.mkdir(parents=True, exist_ok=True)
    script = root.parent / "generate_dataset.py"
    script.write_text(GENERATE)
    subprocess.run(
        [lerobot_python, str(script), str(root), str(episodes), str(frames), str(h), str(w), str(fps)],
        check=True,
    )


def measure(python: str, cfg: dict) -> dict:
    out = subprocess.run(
        [python, "-c", MEASURE, json.dumps(cfg)], check=True, capture_output=True, text=True, cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def delta_configs(fps: int) -> dict[str, dict]:
    cams = ["observation.images.top", "observation.images.wrist"]
    act = {"action": [i / fps for i in range(100)]}
    diffusion = {k: [-1 / fps, 0.0] for k in [*cams, "observation.state"]}
    diffusion["action"] = [i / fps for i in range(-1, 15)]
    return {"act": act, "diffusion": diffusion}


def frames_per_item(name: str) -> int:
    return {"act": 2, "diffusion": 4}[name]  # 2 cameras x (1 or 2) frames


def versions(python: str, module: str) -> str:
    code = f"import {module}, torch, av; print({module}.__version__ if hasattr({module}, '__version__') else '?', torch.__version__, av.__version__)"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--lerobot-python", default=str(REPO / ".lerobot-venv/bin/python"))
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--batches", type=int, default=25)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--repeat", type=int, default=3, help="runs per reader, interleaved; the median is kept")
    p.add_argument("--configs", nargs="+", default=["act", "diffusion"])
    p.add_argument("--readers", nargs="+", default=["lerobot-fn", "lerobot-fn-uint8", "lerobot"])
    args = p.parse_args()

    have_lerobot = Path(args.lerobot_python).exists()
    root = args.cache_dir / f"reader_{args.episodes}x{args.frames}_{args.height}x{args.width}_{args.fps}fps"
    if have_lerobot:
        generate(args.lerobot_python, root, args.episodes, args.frames, args.height, args.width, args.fps)
    elif not (root / "meta/info.json").is_file():
        sys.exit(f"no dataset at {root} and no LeRobot venv at {args.lerobot_python} to generate one")

    print(f"# machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(
        f"# lerobot-fn: python {platform.python_version()}, torch/av {versions(sys.executable, 'lerobot_fn')}"
    )
    if have_lerobot:
        print(f"# lerobot: {versions(args.lerobot_python, 'lerobot')}")
    print(f"# dataset: {root.name} (AV1 via LeRobot's writer, 2 cameras)")
    print(
        "| config | workers | reader | items/s | video frames/s | peak RSS MB main/workers(sum) | vs LeRobot |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    deltas = delta_configs(args.fps)
    for name in args.configs:
        for workers in args.workers:
            runs: dict[str, list[dict]] = {}
            for _ in range(args.repeat):  # interleaved, so load drift hits every reader alike
                for reader in args.readers:
                    if reader == "lerobot" and not have_lerobot:
                        continue
                    python = args.lerobot_python if reader == "lerobot" else sys.executable
                    cfg = {
                        "reader": reader,
                        "root": str(root),
                        "delta": deltas[name],
                        "workers": workers,
                        "batch_size": args.batch_size,
                        "batches": args.batches,
                        "warmup": args.warmup,
                    }
                    runs.setdefault(reader, []).append(measure(python, cfg))
            results = {r: _median_run(v) for r, v in runs.items()}
            base = results.get("lerobot", {}).get("items_per_s")
            for reader, r in results.items():
                ratio = f"{r['items_per_s'] / base:.2f}x" if base else "-"
                workers_rss = f"{r['peak_worker_rss_mb']:.0f}" if workers else "-"
                print(
                    f"| {name} | {workers} | {reader} | {r['items_per_s']:.1f} | "
                    f"{r['items_per_s'] * frames_per_item(name):.1f} | "
                    f"{r['peak_rss_mb']:.0f}/{workers_rss} | {ratio} |",
                    flush=True,
                )


def _median_run(runs: list[dict]) -> dict:
    """The run with the median items/s (its RSS numbers come with it)."""
    return sorted(runs, key=lambda r: r["items_per_s"])[len(runs) // 2]


if __name__ == "__main__":
    main()

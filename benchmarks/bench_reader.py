"""Dataset reader throughput: lerobot-fn vs LeRobot 0.6.1 on the same video dataset, same settings.

Generates (once, outside git) a realistic dataset with LeRobot's own writer, then iterates a
shuffled DataLoader over it with ACT-style (`action` chunk of 100) and Diffusion-style (2
observation frames, 16 actions) `delta_timestamps`, with 0 and 2 workers, for both readers,
each in a fresh subprocess. Prints items/s, decoded video frames/s, the share of the codec-alone
limit (measured in the same rounds as the readers), peak RSS (main; sum over workers) and the ratio
ours/LeRobot. LeRobot runs in its own venv (Python >= 3.12):

    .venv/bin/python benchmarks/bench_reader.py [--lerobot-python .lerobot-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
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
    import json, os, resource, sys, time, torch
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(0)
    if cfg["torch_threads"]:  # 0: torch's default (one per core), what a user's script gets
        torch.set_num_threads(cfg["torch_threads"])
    if cfg["reader"] == "lerobot":
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
        ds = LeRobotDataset("bench/reader", root=cfg["root"], delta_timestamps=cfg["delta"], video_backend="pyav")
        dl = torch.utils.data.DataLoader(ds, batch_size=cfg["batch_size"], shuffle=True,
                                         num_workers=cfg["workers"], drop_last=True,
                                         persistent_workers=cfg["workers"] > 0)
    else:
        from lerobot_fn import data
        backend = "torchcodec" if "torchcodec" in cfg["reader"] else "pyav"
        ds = data.open(cfg["root"], delta_timestamps=cfg["delta"], video_backend=backend,
                       return_uint8=cfg["reader"].endswith("uint8"))
        dl = data.loader(ds, batch_size=cfg["batch_size"], shuffle=True, num_workers=cfg["workers"],
                         drop_last=True, generator=torch.Generator().manual_seed(0))
    it = iter(dl)

    def next_batch():  # a run longer than an epoch starts the next one, as training does
        global it
        try:
            return next(it)
        except StopIteration:
            it = iter(dl)
            return next(it)

    for _ in range(cfg["warmup"]):
        next_batch()
    inner = getattr(getattr(it, "gi_frame", None), "f_locals", {}).get("it", it)  # ours wraps torch's iterator
    workers = getattr(inner, "_workers", [])
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_s(pid):  # utime + stime of one process, seconds
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    main0, work0 = cpu_s(os.getpid()), [cpu_s(w.pid) for w in workers]
    t0 = time.perf_counter()
    n = batches = 0
    # at least `batches` batches and `min_seconds`: the VM's speed dips for 0.25-2 s at a time
    while batches < cfg["batches"] or time.perf_counter() - t0 < cfg["min_seconds"]:
        next_batch()
        n += cfg["batch_size"]
        batches += 1
    dt = time.perf_counter() - t0
    main_cpu = (cpu_s(os.getpid()) - main0) / dt
    work_cpu = [(cpu_s(w.pid) - c) / dt for w, c in zip(workers, work0)]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = 0  # sum of the live workers' peak RSS (VmHWM; pages shared with the parent count in each)
    for w in workers:
        with open(f"/proc/{w.pid}/status") as f:
            child += next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    del it, dl
    print(json.dumps({"items_per_s": n / dt, "seconds": dt, "items": n, "main_cpu": main_cpu,
                      "worker_cpu": work_cpu, "peak_rss_mb": rss / 1024, "peak_worker_rss_mb": child / 1024}))
    """
)

# The decode limit: each backend's decoder alone (benchmarks/codec_alone.py) decoding the same
# frames the readers are asked for (same shuffled items), one process per core.
CODEC = textwrap.dedent(
    """
    import itertools, json, sys, time, multiprocessing as mp
    import torch
    from lerobot_fn import data
    sys.path.insert(0, sys.argv[2])  # benchmarks/, for codec_alone
    import codec_alone
    cfg = json.loads(sys.argv[1])
    ds = data.open(cfg["root"], delta_timestamps=cfg["delta"])
    # enough items for `min_seconds` at up to `max_items_per_s` (cycled through if it is not)
    per_proc = cfg["batch_size"] * (cfg["batches"] + cfg["warmup"])
    per_proc = max(per_proc, int(cfg["min_seconds"] * cfg["max_items_per_s"]) // cfg["procs"])
    gen, order = torch.Generator().manual_seed(0), []
    while len(order) < per_proc * cfg["procs"]:  # a new shuffled epoch whenever one runs out
        order += torch.randperm(len(ds), generator=gen).tolist()
    requests = codec_alone.requests(ds, cfg["delta"], order[: per_proc * cfg["procs"]])

    def run(share, out):
        codec = codec_alone.Codec(cfg["backend"], ds.meta.fps)
        warm = cfg["batch_size"] * cfg["warmup"]
        for calls in codec_alone.by_batch(share[:warm], cfg["batch_size"], cfg["backend"]):
            codec.decode_batch(calls)
        measured = itertools.cycle(codec_alone.by_batch(share[warm:], cfg["batch_size"], cfg["backend"]))
        t0 = time.perf_counter()
        frames = batches = 0
        while batches < cfg["batches"] or time.perf_counter() - t0 < cfg["min_seconds"]:
            frames += codec.decode_batch(next(measured))
            batches += 1
        out.put((frames, time.perf_counter() - t0))

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=run, args=(requests[i * per_proc:(i + 1) * per_proc], q)) for i in range(cfg["procs"])]
    for p in procs:
        p.start()
    res = [q.get() for _ in procs]
    for p in procs:
        p.join()
    frames, wall = sum(r[0] for r in res), max(r[1] for r in res)
    print(json.dumps({"frames_per_s": frames / wall, "seconds": wall, "frames": frames}))
    """
)


def complete(root: Path, episodes: int, frames: int) -> bool:
    """A finished generation: LeRobot writes info.json at create(), so its existence says nothing;
    the episode and frame counts it reaches after the last save_episode and the episodes parquet
    that finalize() flushes do."""
    info = root / "meta/info.json"
    if not info.is_file():
        return False
    meta = json.loads(info.read_text())
    return (
        meta.get("total_episodes") == episodes
        and meta.get("total_frames") == episodes * frames
        and any((root / "meta/episodes").rglob("*.parquet"))
    )


def generate(lerobot_python: str, root: Path, episodes: int, frames: int, h: int, w: int, fps: int) -> None:
    if complete(root, episodes, frames):
        return
    if root.exists():
        print(f"# {root}: an interrupted generation, removed and made again", flush=True)
        shutil.rmtree(root)
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
    return subprocess.run([python, "-c", code], check=False, capture_output=True, text=True).stdout.strip()


SIZES = {"240x320": (10, 300), "480x640": (4, 150)}  # HxW -> (episodes, frames per episode)


def codec_limit(root: Path, delta: dict, backend: str, args) -> dict:
    cfg = {
        "backend": backend,
        "root": str(root),
        "delta": delta,
        "batch_size": args.batch_size,
        "batches": args.batches,
        "warmup": args.warmup,
        "min_seconds": args.min_seconds,
        "max_items_per_s": 3000,  # above any reader's rate here (the fastest: about 1200)
        "procs": os.cpu_count(),
    }
    out = subprocess.run(
        [sys.executable, "-c", CODEC, json.dumps(cfg), str(REPO / "benchmarks")],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--lerobot-python", default=str(REPO / ".lerobot-venv/bin/python"))
    p.add_argument(
        "--sizes",
        nargs="+",
        default=list(SIZES),
        choices=list(SIZES),
        help="camera sizes HxW (each its own LeRobot-written dataset)",
    )
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--batches", type=int, default=60, help="measured batches a run (after the warmup)")
    p.add_argument(
        "--min-seconds",
        type=float,
        default=4.0,
        help="a run measures for at least this long, past --batches if need be (this VM's speed dips for 0.25-2 s)",
    )
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument(
        "--torch-threads",
        type=int,
        default=1,
        help="torch.set_num_threads in each reader's main process (0: torch's default, one per core)",
    )
    p.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    p.add_argument("--repeat", type=int, default=3, help="runs per reader, interleaved; the median is kept")
    p.add_argument("--configs", nargs="+", default=["act", "diffusion"])
    p.add_argument(
        "--readers",
        nargs="+",
        default=["lerobot-fn", "lerobot-fn-uint8", "lerobot"],
        choices=[
            "lerobot-fn",
            "lerobot-fn-uint8",
            "lerobot-fn-torchcodec",
            "lerobot-fn-torchcodec-uint8",
            "lerobot",
        ],
        help="ours (PyAV; -torchcodec: video_backend='torchcodec'; -uint8: return_uint8=True) and LeRobot's",
    )
    p.add_argument("--no-codec-limit", action="store_true", help="skip the codec-alone decode limit")
    args = p.parse_args()

    have_lerobot = Path(args.lerobot_python).exists()
    print(f"# machine: {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(
        f"# lerobot-fn: python {platform.python_version()}, torch/av {versions(sys.executable, 'lerobot_fn')}"
    )
    if have_lerobot:
        print(f"# lerobot: {versions(args.lerobot_python, 'lerobot')}")
    print(
        "| size | config | workers | reader | items/s (runs) | median | video frames/s | of codec limit, median (runs) "
        "| CPU main/workers | peak RSS MB main/workers | vs LeRobot median (per-run range) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    deltas = delta_configs(args.fps)
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        episodes, frames = SIZES[size]
        root = args.cache_dir / f"reader_{episodes}x{frames}_{h}x{w}_{args.fps}fps"
        if have_lerobot:
            generate(args.lerobot_python, root, episodes, frames, h, w, args.fps)
        elif not complete(root, episodes, frames):
            sys.exit(
                f"no complete dataset at {root} and no LeRobot venv at {args.lerobot_python} to generate one"
            )
        for name in args.configs:
            fpi = frames_per_item(name)
            backends = [] if args.no_codec_limit else sorted({_backend(r) for r in args.readers})
            for workers in args.workers:
                # each round: the codec limit of every backend, then every reader, so load drift
                # hits the limit and the readers alike; a reader's share of the limit is taken
                # run by run (its run over the limit of the same round)
                limits: dict[str, list[float]] = {}  # backend -> frames/s of its decoder alone, per round
                runs: dict[str, list[dict]] = {}
                for _ in range(args.repeat):
                    for backend in backends:
                        limits.setdefault(backend, []).append(
                            codec_limit(root, deltas[name], backend, args)["frames_per_s"]
                        )
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
                            "min_seconds": args.min_seconds,
                            "torch_threads": args.torch_threads,
                        }
                        runs.setdefault(reader, []).append(measure(python, cfg))
                for backend, lim in limits.items():
                    print(
                        f"| {size} | {name} | {workers} | codec alone, {backend} ({os.cpu_count()} procs) | "
                        f"{' / '.join(f'{v / fpi:.1f}' for v in lim)} | {_median(lim) / fpi:.1f} | "
                        f"{_median(lim):.1f} | 100% | - | - | - |",
                        flush=True,
                    )
                base = runs.get("lerobot")
                for reader, rs in runs.items():
                    r = _median_run(rs)
                    speeds = [x["items_per_s"] for x in rs]
                    ratio = "-"
                    if base:
                        per_run = [a / b["items_per_s"] for a, b in zip(speeds, base, strict=True)]
                        ratio = (
                            f"{r['items_per_s'] / _median_run(base)['items_per_s']:.2f}x "
                            f"({min(per_run):.2f}-{max(per_run):.2f})"
                        )
                    cpu = f"{r['main_cpu']:.0%}/" + (
                        "+".join(f"{c:.0%}" for c in r["worker_cpu"]) if workers else "-"
                    )
                    rss = f"{r['peak_rss_mb']:.0f}/" + (f"{r['peak_worker_rss_mb']:.0f}" if workers else "-")
                    lim = limits.get(_backend(reader))
                    of_limit = "-"
                    if lim:
                        shares = [v * fpi / c for v, c in zip(speeds, lim, strict=True)]
                        of_limit = (
                            f"{_median(shares):.0%} ({min(shares):.0%}-{max(shares):.0%}) {_backend(reader)}"
                        )
                    print(
                        f"| {size} | {name} | {workers} | {reader} | {' / '.join(f'{v:.1f}' for v in speeds)} | "
                        f"{r['items_per_s']:.1f} | {r['items_per_s'] * fpi:.1f} | {of_limit} | {cpu} | {rss} | "
                        f"{ratio} |",
                        flush=True,
                    )


def _backend(reader: str) -> str:
    """The video backend a reader decodes with (LeRobot's runs here with "pyav")."""
    return "torchcodec" if "torchcodec" in reader else "pyav"


def _median(values: list[float]) -> float:
    """The middle value (of an even count, the upper of the two middle ones)."""
    return sorted(values)[len(values) // 2]


def _median_run(runs: list[dict]) -> dict:
    """The run with the median items/s (its RSS and CPU numbers come with it)."""
    return sorted(runs, key=lambda r: r["items_per_s"])[len(runs) // 2]


if __name__ == "__main__":
    main()

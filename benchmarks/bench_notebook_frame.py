"""Frame-slider latency of notebooks/explore_dataset.py: decode one frame (all cameras) on an open
reader, lerobot-fn vs LeRobot 0.6.1 (`LeRobotDataset[idx]`, what LeRobot's own viewers call per
frame), same fixtures, same frame sequence, in one run. Also times the whole slider update of the
notebook (decode + the marker redrawn on the episode's curves, and the curves drawn for a new episode).

Two access patterns: "step" (frame after frame, like dragging the slider) and "jump" (random
episode and frame, like clicking around). Each side runs in a fresh subprocess:

    .venv/bin/python benchmarks/bench_notebook_frame.py [--lerobot-python .lerobot-venv/bin/python]
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
FIXTURES = REPO.parent / "shared" / "fixtures" / "datasets"
DATASETS = ("pusht_mini", "aloha_sim_mini", "images_inline_mini")

OURS = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from lerobot_fn.data.read.browse import DatasetBrowser
    from lerobot_fn.data.read import summary
    from lerobot_fn import viz
    root, pattern = sys.argv[1], json.loads(sys.argv[2])
    browser = DatasetBrowser(root)
    opened = time.perf_counter() - t0
    browser.frame(*pattern[0])  # first decode opens the containers
    out = {"open_s": opened, "frame_ms": [], "update_ms": [], "episode_ms": []}
    for e, f in pattern:
        t = time.perf_counter()
        browser.frame(e, f)
        out["frame_ms"].append((time.perf_counter() - t) * 1000)
    # the notebook: curves drawn once per episode, then per frame a decode + the marker redraw
    plots = {}
    for e, f in pattern:
        if e not in plots:
            t = time.perf_counter()
            panels, labels = summary.signal_panels(browser.meta, browser.signals(e))
            plots[e] = viz.MarkedCurves(panels, labels=labels)
            out["episode_ms"].append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        browser.frame(e, f)
        plots[e].png(f)
        out["update_ms"].append((time.perf_counter() - t) * 1000)
    print(json.dumps(out))
    """
)

LEROBOT = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    root, pattern = sys.argv[1], json.loads(sys.argv[2])
    ds = LeRobotDataset("bench/" + root.rsplit("/", 1)[-1], root=root, video_backend="pyav")
    opened = time.perf_counter() - t0
    ranges = {e: int(ds.meta.episodes[e]["dataset_from_index"]) for e in range(ds.meta.total_episodes)}
    ds[ranges[pattern[0][0]] + pattern[0][1]]
    out = {"open_s": opened, "frame_ms": []}
    for e, f in pattern:
        t = time.perf_counter()
        ds[ranges[e] + f]
        out["frame_ms"].append((time.perf_counter() - t) * 1000)
    print(json.dumps(out))
    """
)


def patterns(root: Path) -> dict[str, list[tuple[int, int]]]:
    from lerobot_fn import data

    meta = data.open(root).meta
    lengths = {e: meta.episode_range(e)[1] - meta.episode_range(e)[0] for e in meta.episode_indices}
    import random

    rng = random.Random(0)
    step = [(e, f) for e in meta.episode_indices for f in range(lengths[e])]
    jump = [(e, rng.randrange(lengths[e])) for e in rng.choices(meta.episode_indices, k=len(step))]
    return {"step": step, "jump": jump}


def run(python: str, code: str, root: Path, pattern) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [python, "-c", code, str(root), json.dumps(pattern)],
        check=False, capture_output=True, text=True, env=env, cwd=REPO, timeout=600,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed on {root}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lerobot-python", default=str(REPO / ".lerobot-venv/bin/python"))
    args = p.parse_args()
    have_lerobot = Path(args.lerobot_python).exists()
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, OMP_NUM_THREADS=1")  # fmt: skip
    if not have_lerobot:
        print(f"# {args.lerobot_python} missing: LeRobot side skipped")
    print("| dataset | pattern | frames | lerobot-fn median ms | p95 | max | LeRobot 0.6.1 median ms | p95 | "
          "ratio (median) | frame update median ms (decode + marker) | new episode median ms (curves) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in DATASETS:
        root = FIXTURES / name
        for label, pattern in patterns(root).items():
            ours = run(sys.executable, OURS, root, pattern)
            theirs = run(args.lerobot_python, LEROBOT, root, pattern) if have_lerobot else None
            om = pct(ours["frame_ms"], 0.5)
            row = [name, label, str(len(pattern)), f"{om:.2f}", f"{pct(ours['frame_ms'], 0.95):.2f}",
                   f"{max(ours['frame_ms']):.2f}"]  # fmt: skip
            if theirs:
                tm = pct(theirs["frame_ms"], 0.5)
                row += [f"{tm:.2f}", f"{pct(theirs['frame_ms'], 0.95):.2f}", f"{om / tm:.2f}x"]
            else:
                row += ["", "", ""]
            row += [f"{pct(ours['update_ms'], 0.5):.1f}", f"{pct(ours['episode_ms'], 0.5):.0f}"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()

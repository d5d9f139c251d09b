"""Recording benchmark: a 30 fps control loop with two 640x480 cameras, lerobot-fn vs LeRobot 0.6.1.

    .venv/bin/python benchmarks/bench_writer.py [--episodes 2] [--seconds 10] [--fps 30]
        [--lerobot-python .lerobot-venv/bin/python] [--skip-lerobot]

Each writer records the same synthetic frames (camera-like content: gradients and a moving
square, 2 cameras HxW, float32 state/action of 6) in a real-time loop: every 1/fps s a frame is
built and passed to `add_frame`, then the loop sleeps until the next tick. Reported per writer:
add_frame latency p50 / p99 / max (ms), frames dropped (ticks the loop missed because add_frame
and the frame's capture did not fit in the period), achieved loop rate, and `save_episode` time
per episode (s). Both use their default video settings (AV1 libsvtav1, yuv420p, g 2, crf 30);
LeRobot runs with lerobot-record's defaults (4 image-writer threads per camera, batch encoding 1)
in its own venv as a subprocess (this script with `--lerobot-worker`). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def frame_pool(h: int, w: int, n: int = 30) -> list[np.ndarray]:
    y, x = np.mgrid[0:h, 0:w]
    pool = []
    for t in range(n):
        img = np.stack([(x * 255 // w), (y * 255 // h), np.full_like(x, (t * 8) % 255)], -1).astype(np.uint8)
        s = (t * 12) % (w - 60)
        img[h // 3 : h // 3 + 60, s : s + 60] = [230, 40, 40]
        pool.append(img)
    return pool


def features(h: int, w: int) -> dict:
    cam = {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]}
    vec = {"dtype": "float32", "shape": (6,), "names": [f"j{i}" for i in range(6)]}
    return {
        "observation.images.front": cam,
        "observation.images.wrist": dict(cam),
        "observation.state": vec,
        "action": dict(vec),
    }


def control_loop(add_frame, save_episode, *, episodes: int, seconds: float, fps: int, h: int, w: int) -> dict:
    pool = frame_pool(h, w)
    period = 1.0 / fps
    lat, saves, dropped, ticks = [], [], 0, 0
    t_start = time.perf_counter()
    for _ in range(episodes):
        n = int(seconds * fps)
        next_tick = time.perf_counter()
        for i in range(n):
            frame = {
                "observation.images.front": pool[i % len(pool)],
                "observation.images.wrist": pool[(i + 7) % len(pool)],
                "observation.state": np.full(6, i, np.float32),
                "action": np.full(6, -i, np.float32),
                "task": "pick the cube",
            }
            t0 = time.perf_counter()
            add_frame(frame)
            lat.append(time.perf_counter() - t0)
            ticks += 1
            next_tick += period
            late = time.perf_counter() - next_tick
            if late > 0:  # the loop overran its period: the camera frame of the next tick is lost
                missed = int(late // period) + 1
                dropped += missed
                next_tick += missed * period
            else:
                time.sleep(-late)
        t0 = time.perf_counter()
        save_episode()
        saves.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_start
    lat_ms = np.array(lat) * 1000
    return {
        "add_frame_p50_ms": float(np.percentile(lat_ms, 50)),
        "add_frame_p99_ms": float(np.percentile(lat_ms, 99)),
        "add_frame_max_ms": float(lat_ms.max()),
        "frames": ticks,
        "dropped": dropped,
        "loop_fps": ticks / (total - sum(saves)),
        "save_episode_s": [round(s, 3) for s in saves],
        "total_s": round(total, 2),
    }


def run_ours(root: Path, args) -> dict:
    from lerobot_fn import data

    feats = features(args.height, args.width)
    with data.create(
        root, fps=args.fps, features=feats, robot_type="bench", encoder_threads=args.encoder_threads
    ) as w:
        return control_loop(
            w.add_frame,
            w.save_episode,
            episodes=args.episodes,
            seconds=args.seconds,
            fps=args.fps,
            h=args.height,
            w=args.width,
        )


def run_lerobot(root: Path, args) -> dict:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset.create(
        "bench/writer",
        fps=args.fps,
        features=features(args.height, args.width),
        root=root,
        robot_type="bench",
        use_videos=True,
        image_writer_processes=0,
        image_writer_threads=4 * 2,
    )
    try:
        return control_loop(
            ds.add_frame,
            ds.save_episode,
            episodes=args.episodes,
            seconds=args.seconds,
            fps=args.fps,
            h=args.height,
            w=args.width,
        )
    finally:
        ds.finalize()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--episodes", type=int, default=2)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--lerobot-python", default=str(ROOT / ".lerobot-venv" / "bin" / "python"))
    p.add_argument("--skip-lerobot", action="store_true")
    p.add_argument(
        "--encoder-threads", type=int, default=None, help="threads per camera's encoder (codec default)"
    )
    p.add_argument("--lerobot-worker", metavar="ROOT")
    args = p.parse_args()
    if args.lerobot_worker:
        print("RESULT " + json.dumps(run_lerobot(Path(args.lerobot_worker), args)), flush=True)
        return 0
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["lerobot-fn"] = run_ours(Path(tmp) / "ours", args)
        if not args.skip_lerobot and Path(args.lerobot_python).exists():
            cmd = [
                args.lerobot_python,
                __file__,
                "--lerobot-worker",
                str(Path(tmp) / "lerobot"),
                "--episodes",
                str(args.episodes),
                "--seconds",
                str(args.seconds),
                "--fps",
                str(args.fps),
                "--height",
                str(args.height),
                "--width",
                str(args.width),
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if lines:
                results["LeRobot 0.6.1"] = json.loads(lines[-1][7:])
            else:
                print(f"LeRobot run failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}; "
        f"{args.episodes} episodes x {args.seconds:g} s at {args.fps} fps, 2 cameras {args.width}x{args.height}"
    )
    print("| writer | add_frame p50 / p99 / max (ms) | dropped / frames | loop fps | save_episode (s) |")
    print("| --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(
            f"| {name} | {r['add_frame_p50_ms']:.3f} / {r['add_frame_p99_ms']:.3f} / {r['add_frame_max_ms']:.1f} "
            f"| {r['dropped']} / {r['frames']} | {r['loop_fps']:.1f} | {', '.join(map(str, r['save_episode_s']))} |"
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

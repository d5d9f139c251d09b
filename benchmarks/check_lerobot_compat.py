"""Manual compatibility check: datasets written by lerobot-fn load in LeRobot 0.6.1 with the same items.

    .venv/bin/python benchmarks/check_lerobot_compat.py [--lerobot-python .lerobot-venv/bin/python]

Writes datasets with `lerobot_fn.data.create` (AV1 default videos + inline images + float32/float64/
int64/bool features, two tasks, resumed once) and with the tools (delete_episodes, merge,
images_to_video, convert_v21 output), then runs LeRobot's `LeRobotDataset(repo_id, root=...,
video_backend="pyav")` in its own venv (this script re-invoked with `--lerobot-dump`), which saves
every item (plain and with delta_timestamps) to safetensors. Each is compared with
`lerobot_fn.data.open(...)[i]`: same keys, dtypes and shapes, exact values for non-image tensors,
images within 1/255, same task string. Also checks LeRobot's own meta loading (total_episodes,
total_frames, stats keys). Prints one line per dataset; exit status 0 when all match.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "datasets"


def lerobot_dump(root: str, out: str, deltas: str) -> None:
    """Runs inside LeRobot's venv: dump every item of the dataset at `root`."""
    import torch
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from safetensors.torch import save_file

    delta = json.loads(deltas) or None
    ds = LeRobotDataset("local/check", root=root, video_backend="pyav", delta_timestamps=delta)
    tensors, tasks = {}, {}
    for i in range(len(ds)):
        item = ds[i]
        for k, v in item.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{i}/{k}"] = v.contiguous()
            elif k == "task":
                tasks[i] = v
    save_file(tensors, out)
    meta = ds.meta
    summary = {
        "len": len(ds),
        "total_episodes": meta.total_episodes,
        "total_frames": meta.total_frames,
        "stats_keys": sorted(meta.stats),
        "tasks": tasks,
    }
    Path(out).with_suffix(".json").write_text(json.dumps(summary))


def flat(td) -> dict:
    return {
        ".".join(k) if isinstance(k, tuple) else k: v
        for k, v in td.items(include_nested=True, leaves_only=True)
    }


def compare(
    root: Path, lerobot_python: str, tmp: Path, deltas: dict | None, ours_root: Path | None = None
) -> tuple[bool, str]:
    import torch
    from safetensors.torch import load_file

    from lerobot_fn import data

    out = tmp / f"{root.name}_{'delta' if deltas else 'plain'}.safetensors"
    proc = subprocess.run(
        [lerobot_python, __file__, "--lerobot-dump", str(root), str(out), json.dumps(deltas or {})],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return False, f"LeRobot failed to load it:\n{proc.stderr[-2500:]}"
    theirs = load_file(str(out))
    summary = json.loads(out.with_suffix(".json").read_text())
    ours = data.open(ours_root or root, delta_timestamps=deltas)
    problems = []
    n = len(ours)
    note = ""
    if ours_root is not None and summary["len"] < len(ours):
        # killed after the episodes row: recover() rolled the complete episode forward; LeRobot
        # counts it once info.json says so. The items LeRobot does see must be ours exactly.
        n, note = summary["len"], f"; recover() kept {len(ours) - summary['len']} more frames (complete episode)"
    elif summary["len"] != len(ours):
        problems.append(f"len {summary['len']} vs {len(ours)}")
    worst_img = 0.0
    for i in range(n):
        item = ours[i]
        mine = flat(item)
        mine["task"] = item["task"]  # TensorDict indexing unwraps NonTensorData
        keys = {k[len(f"{i}/") :] for k in theirs if k.startswith(f"{i}/")}
        tensor_keys = {k for k, v in mine.items() if torch.is_tensor(v)}
        if keys != tensor_keys:
            problems.append(
                f"item {i}: keys differ: only LeRobot {sorted(keys - tensor_keys)}, "
                f"only ours {sorted(tensor_keys - keys)}"
            )
            break
        for k in keys:
            a, b = theirs[f"{i}/{k}"], mine[k]
            if a.dtype != b.dtype or a.shape != b.shape:
                problems.append(f"item {i} {k}: {a.dtype}{tuple(a.shape)} vs ours {b.dtype}{tuple(b.shape)}")
            elif a.is_floating_point() and "image" in k:
                worst_img = max(worst_img, float((a - b).abs().max()))
            elif not torch.equal(a, b):
                problems.append(f"item {i} {k}: values differ")
        if summary["tasks"].get(str(i)) != mine.get("task"):
            problems.append(f"item {i}: task {summary['tasks'].get(str(i))!r} vs {mine.get('task')!r}")
        if len(problems) > 5:
            break
    if worst_img > 1 / 255 + 1e-6:
        problems.append(f"images differ by up to {worst_img:.4f}")
    ok = not problems
    return ok, ("same items" if ok else "; ".join(problems[:6])) + (
        f" ({summary['len']} items, {summary['total_episodes']} episodes, max image diff {worst_img:.2g}{note})"
    )


def write_datasets(tmp: Path) -> list[Path]:
    import numpy as np

    from lerobot_fn import data
    from lerobot_fn.data import tools

    features = {
        "observation.images.top": {
            "dtype": "video",
            "shape": (48, 64, 3),
            "names": ["height", "width", "channels"],
        },
        "observation.images.wrist": {
            "dtype": "image",
            "shape": (24, 32, 3),
            "names": ["height", "width", "channels"],
        },
        "observation.state": {"dtype": "float32", "shape": (6,), "names": [f"j{i}" for i in range(6)]},
        "observation.force": {"dtype": "float64", "shape": (3,), "names": None},
        "observation.step": {"dtype": "int64", "shape": (1,), "names": None},
        "action": {"dtype": "float32", "shape": (6,), "names": [f"j{i}" for i in range(6)]},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    }
    rng = np.random.default_rng(0)

    def record(w, lengths):
        for n in lengths:
            e = w.total_episodes
            for i in range(n):
                y, x = np.mgrid[0:48, 0:64]
                top = np.stack([x * 4, y * 5, np.full_like(x, (i * 9) % 255)], -1).astype(np.uint8)
                w.add_frame(
                    {
                        "observation.images.top": top,
                        "observation.images.wrist": rng.integers(0, 256, (24, 32, 3), dtype=np.uint8),
                        "observation.state": rng.normal(size=6).astype(np.float32),
                        "observation.force": rng.normal(size=3),
                        "observation.step": np.int64(i),
                        "action": rng.normal(size=6).astype(np.float32),
                        "next.done": i == n - 1,
                        "task": ["pick the cube", "place the cube"][e % 2],
                    }
                )
            w.save_episode()

    written = tmp / "written"
    with data.create(written, fps=30, features=features, robot_type="so100") as w:
        record(w, [12, 9])
    with data.resume(written) as w:
        record(w, [7])
    out = [written]
    out += crashed_copies(written, tmp)
    out.append(tools.delete_episodes(written, [1], tmp / "deleted"))
    out.append(tools.merge([written, tmp / "deleted"], tmp / "merged"))
    out.append(tools.images_to_video(FIXTURES / "images_inline_mini", tmp / "images_to_video"))
    out.append(tools.split(FIXTURES / "aloha_sim_mini", tmp / "split", {"a": 0.34, "b": 0.66})["b"])
    return out


CRASH_CHILD = r"""
import os, signal, sys, numpy as np
from lerobot_fn import data
def stop_at(step):  # the writer's commit_hook: stop (SIGSTOP) at the named step, to be killed there
    if step == sys.argv[2]:
        print(f"PAUSED {step}", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)
w = data.resume(sys.argv[1], commit_hook=stop_at)
for i in range(5):
    w.add_frame({"observation.images.top": np.zeros((48, 64, 3), np.uint8),
                 "observation.images.wrist": np.zeros((24, 32, 3), np.uint8),
                 "observation.state": np.zeros(6, np.float32), "observation.force": np.zeros(3),
                 "observation.step": np.int64(i), "action": np.zeros(6, np.float32), "next.done": False,
                 "task": "a task never saved"})
w.save_episode()
"""


def crashed_copies(written: Path, tmp: Path) -> list[Path]:
    """Copies of `written` whose writer was killed (SIGKILL) inside save_episode, not recovered."""
    import os
    import shutil
    import signal

    out = []
    for point in ("after_videos", "after_data", "after_episodes"):
        root = tmp / f"crashed_{point}"
        shutil.copytree(written, root)
        proc = subprocess.Popen(
            [sys.executable, "-c", CRASH_CHILD, str(root), point],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in proc.stdout:
            if line.startswith("PAUSED"):
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        out.append(root)
    return out


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--lerobot-dump":
        lerobot_dump(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--lerobot-python", default=str(ROOT / ".lerobot-venv" / "bin" / "python"))
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        for root in write_datasets(tmp):
            for deltas in (None, {"action": [0.0, 1 / 30, 2 / 30], "observation.state": [-1 / 30, 0.0]}):
                if deltas and root.name in ("images_to_video", "b"):
                    fps = json.loads((root / "meta/info.json").read_text())["fps"]
                    deltas = {"action": [0.0, 1 / fps, 2 / fps]}
                ours_root = None
                if root.name.startswith("crashed_"):  # LeRobot reads it as left; ours after recover()
                    import shutil

                    from lerobot_fn import data

                    ours_root = tmp / f"{root.name}_recovered"
                    if not ours_root.exists():
                        shutil.copytree(root, ours_root)
                        data.recover(ours_root)
                good, line = compare(root, args.lerobot_python, tmp, deltas, ours_root)
                ok &= good
                print(
                    f"{'OK ' if good else 'BAD'} {root.name} ({'delta_timestamps' if deltas else 'plain'}): {line}",
                    flush=True,
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

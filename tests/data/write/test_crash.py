"""kill -9 a recording process at named points and at random times; saved episodes survive.

The child records deterministic frames (content is a function of episode and frame index).
It pauses itself (SIGSTOP) at a named step of save_episode when LEROBOT_FN_WRITER_PAUSE says
so; the test then SIGKILLs it, checks what is on disk, resumes, records one more episode and
checks every frame of every saved episode.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from lerobot_fn import data
from lerobot_fn.data.remux import video_duration_s

CHILD = r"""
import sys, numpy as np
from pathlib import Path
from lerobot_fn import data
from lerobot_fn.data.write.encode import VideoEncoding
root, mode, lengths = Path(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
FEATURES = {
    "observation.images.top": {"dtype": "video", "shape": (16, 24, 3), "names": ["height", "width", "channels"]},
    "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
}
def frame(e, i):
    rng = np.random.default_rng(1000 * e + i)
    return {"observation.images.top": rng.integers(0, 256, (16, 24, 3), dtype=np.uint8),
            "observation.state": np.array([e, i, 0.5], np.float32), "task": f"task {e % 2}"}
w = data.create(root, fps=10, features=FEATURES, encoding=VideoEncoding.lossless()) if mode == "create" \
    else data.resume(root)
for n in lengths:
    e = w.total_episodes
    for i in range(n):
        w.add_frame(frame(e, i))
        print(f"FRAME {e} {i}", flush=True)
    print(f"SAVING {e}", flush=True)
    w.save_episode()
    print(f"SAVED {e}", flush=True)
w.finalize()
print("DONE", flush=True)
"""


def frame(e, i):
    rng = np.random.default_rng(1000 * e + i)
    return rng.integers(0, 256, (16, 24, 3), dtype=np.uint8), np.array([e, i, 0.5], np.float32)


def start(root, mode, lengths, pause=None):
    env = dict(os.environ)
    env.pop("LEROBOT_FN_WRITER_PAUSE", None)
    if pause:
        env["LEROBOT_FN_WRITER_PAUSE"] = pause
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), mode, ",".join(map(str, lengths))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def wait_for(proc, marker, timeout=60):
    """Read the child's stdout until a line starts with `marker`; returns the lines seen."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if line.startswith(marker):
            return lines
    proc.kill()
    raise AssertionError(f"child never printed {marker!r}; got {lines[-5:]}")


def kill9(proc):
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def lerobot_view(root):
    """What LeRobot 0.6.1 relies on: info.json totals, the first total_frames rows of the
    sorted data files in index order, one episodes row per counted episode, each video file
    long enough for its episodes."""
    info = json.loads((root / "meta/info.json").read_text())
    n_ep, n_fr = info["total_episodes"], info["total_frames"]
    index = pa.concat_tables(
        [pq.read_table(p, columns=["index"]) for p in sorted(root.glob("data/*/*.parquet"))]
    )
    assert index.column("index").to_numpy()[:n_fr].tolist() == list(range(n_fr))
    rows = [r for p in sorted(root.glob("meta/episodes/*/*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert len(rows) >= n_ep
    for r in rows[:n_ep]:
        path = (
            root
            / "videos/observation.images.top"
            / (
                f"chunk-{r['videos/observation.images.top/chunk_index']:03d}/"
                f"file-{r['videos/observation.images.top/file_index']:03d}.mp4"
            )
        )
        covered_s = video_duration_s(path)  # the mp4 holds every frame the row points at
        assert covered_s >= r["videos/observation.images.top/to_timestamp"] - 0.05
    return n_ep


def check_saved(root, lengths):
    """Our reader opens the dataset and every frame of the expected episodes is exact."""
    ds = data.open(root)
    assert ds.num_episodes == len(lengths), (ds.num_episodes, lengths)
    k = 0
    for e, n in enumerate(lengths):
        for i in range(n):
            item = ds[k]
            img, state = frame(e, i)
            got = (
                (item["observation", "images", "top"] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            )
            np.testing.assert_array_equal(got, img, err_msg=f"episode {e} frame {i}")
            np.testing.assert_array_equal(item["observation", "state"].numpy(), state)
            k += 1
    assert len(ds) == k


def resume_and_finish(root, lengths_before, extra=3):
    proc = start(root, "resume", [extra])
    wait_for(proc, "DONE")
    proc.wait()
    check_saved(root, [*lengths_before, extra])
    assert not (root / ".staging").exists()
    assert not list(root.rglob(".*.tmp-*"))


def test_kill_at_named_points(tmp_path):
    """One dataset, killed in turn during add_frame (encoder busy) and between the files that
    save_episode commits. Earlier episodes always load (ours and LeRobot's view); the episode
    being saved is absent, or complete once its episodes row is written (info.json is then
    rolled forward by recover/resume)."""
    root = tmp_path / "ds"
    proc = start(root, "create", [4, 3, 50])
    wait_for(proc, "FRAME 2 5")
    kill9(proc)
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_videos")  # video files gained trailing frames
    wait_for(proc, "PAUSED")
    kill9(proc)
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_data")  # data file gained trailing rows
    wait_for(proc, "PAUSED")
    kill9(proc)
    assert lerobot_view(root) == 2  # LeRobot reads the first total_frames rows: unaffected
    check_saved(root, [4, 3])  # ours skips rows of episodes meta/episodes does not know
    data.recover(root)  # cuts the trailing rows for good
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_episodes")  # episode complete, info.json not yet
    wait_for(proc, "PAUSED")
    kill9(proc)
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3, 5])
    data.recover(root)
    assert lerobot_view(root) == 3
    resume_and_finish(root, [4, 3, 5])


def test_kill_at_random_times(tmp_path):
    """Kill a child that records short episodes back to back at random moments."""
    rng = np.random.default_rng(7)
    root = tmp_path / "ds"
    saved: list[int] = []
    for attempt in range(2):
        proc = start(root, "create" if attempt == 0 else "resume", [3, 4, 2, 5, 3, 4, 2])
        wait_for(proc, "SAVED" if attempt == 0 else "FRAME")
        time.sleep(float(rng.uniform(0.05, 0.5)))
        kill9(proc)
        data.recover(root)
        info = json.loads((root / "meta/info.json").read_text())
        ds = data.open(root)
        lengths = [
            ds.meta.episode_range(e)[1] - ds.meta.episode_range(e)[0] for e in range(info["total_episodes"])
        ]
        assert lengths[: len(saved)] == saved  # nothing saved before was lost
        saved = lengths
        assert lerobot_view(root) == len(saved)
        check_saved(root, saved)
    resume_and_finish(root, saved)

"""kill -9 a recording process at named points and at random times; saved episodes survive.

The child records deterministic frames (content is a function of episode and frame index).
Asked to, it passes the writer a `commit_hook` that stops the child (SIGSTOP) at a named step
of save_episode; the test then SIGKILLs it, waits for its encoder processes to end, checks what
is on disk, resumes, records one more episode and checks every frame of every saved episode.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.remux import video_duration_s

CHILD = r"""
import os, signal, sys, numpy as np
from pathlib import Path
from lerobot_fn import data
from lerobot_fn.data.write.encode import VideoEncoding
root, mode, lengths = Path(sys.argv[1]), sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
pause = sys.argv[4]
def stop_at(step):
    if step == pause:
        print(f"PAUSED {step}", flush=True)
        os.kill(os.getpid(), signal.SIGSTOP)  # the test kills us here
hook = stop_at if pause else None
FEATURES = {
    "observation.images.top": {"dtype": "video", "shape": (16, 24, 3), "names": ["height", "width", "channels"]},
    "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
}
def frame(e, i):
    rng = np.random.default_rng(1000 * e + i)
    return {"observation.images.top": rng.integers(0, 256, (16, 24, 3), dtype=np.uint8),
            "observation.state": np.array([e, i, 0.5], np.float32), "task": f"task {e % 2}"}
w = data.create(root, fps=10, features=FEATURES, encoding=VideoEncoding.lossless(), commit_hook=hook) \
    if mode == "create" else data.resume(root, commit_hook=hook)
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


class Child:
    """The recording child in its own process group, its stdout read with deadlines."""

    def __init__(self, root, mode, lengths, pause=""):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(root), mode, ",".join(map(str, lengths)), pause],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
        )
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer, self.lines = b"", []

    def wait_for(self, marker, timeout=60):
        """Read the child's stdout until a line starts with `marker`; returns the lines seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self.lines.append(line.decode())
                if self.lines[-1].startswith(marker):
                    return self.lines
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.fd, 65536) if ready else b""
            if ready and not chunk:
                break  # the child closed its stdout (exited)
            self.buffer += chunk
        self.kill_group()
        raise AssertionError(f"child never printed {marker!r}; got {self.lines[-5:]}")

    def kill9(self):
        """SIGKILL the recording process, then wait for its encoder processes to see the end of
        their input and exit (none may be left behind)."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        deadline = time.monotonic() + 20
        while group_members(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = group_members(self.proc.pid)
        self.kill_group()
        assert not left, f"processes left behind by the killed recorder: {left}"

    def finish(self, timeout=60):
        self.wait_for("DONE", timeout)
        assert self.proc.wait(timeout=10) == 0
        self.proc.stdout.close()

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


def group_members(pgid):
    """Live (not zombie) processes of process group `pgid`."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(stat.parent.name))
    return live


@pytest.fixture
def start():
    """Start recording children; any still running when the test ends is killed with its group."""
    children = []

    def _start(root, mode, lengths, pause=""):
        children.append(Child(root, mode, lengths, pause))
        return children[-1]

    yield _start
    for child in children:
        if child.proc.poll() is None or group_members(child.proc.pid):
            child.kill_group()


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


def resume_and_finish(start, root, lengths_before, extra=3):
    start(root, "resume", [extra]).finish()
    check_saved(root, [*lengths_before, extra])
    assert not (root / ".staging").exists()
    assert not list(root.rglob(".*.tmp-*"))


def test_kill_at_named_points(tmp_path, start):
    """One dataset, killed in turn during add_frame (encoder busy) and between the files that
    save_episode commits. Earlier episodes always load (ours and LeRobot's view); the episode
    being saved is absent, or complete once its episodes row is written (info.json is then
    rolled forward by recover/resume)."""
    root = tmp_path / "ds"
    proc = start(root, "create", [4, 3, 50])
    proc.wait_for("FRAME 2 5")
    proc.kill9()
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_videos")  # video files gained trailing frames
    assert proc.wait_for("PAUSED")[-1] == "PAUSED after_videos"
    proc.kill9()
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_data")  # data file gained trailing rows
    assert proc.wait_for("PAUSED")[-1] == "PAUSED after_data"
    proc.kill9()
    assert lerobot_view(root) == 2  # LeRobot reads the first total_frames rows: unaffected
    check_saved(root, [4, 3])  # ours skips rows of episodes meta/episodes does not know
    data.recover(root)  # cuts the trailing rows for good
    check_saved(root, [4, 3])

    proc = start(root, "resume", [5], pause="after_episodes")  # episode complete, info.json not yet
    assert proc.wait_for("PAUSED")[-1] == "PAUSED after_episodes"
    proc.kill9()
    assert lerobot_view(root) == 2
    check_saved(root, [4, 3, 5])
    data.recover(root)
    assert lerobot_view(root) == 3
    resume_and_finish(start, root, [4, 3, 5])


def test_kill_at_random_times(tmp_path, start):
    """Kill a child that records short episodes back to back at random moments."""
    rng = np.random.default_rng(7)
    root = tmp_path / "ds"
    saved: list[int] = []
    for attempt in range(2):
        proc = start(root, "create" if attempt == 0 else "resume", [3, 4, 2, 5, 3, 4, 2])
        proc.wait_for("SAVED" if attempt == 0 else "FRAME")
        time.sleep(float(rng.uniform(0.05, 0.5)))
        proc.kill9()
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
    resume_and_finish(start, root, saved)

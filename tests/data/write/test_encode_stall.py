"""A stuck encoder process cannot hang the recording process: a stalled encoder is
killed with an EncoderError, and libsvtav1's known hanging frame sizes are refused up front."""

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lerobot_fn.data.write.encode import BackgroundEncoder, EncoderError, VideoEncoding

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[3]


def alive(pid):
    """Whether `pid` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def killed_if_left(*pids):
    """SIGKILL whichever of `pids` is still alive when the block ends (a failed test leaves nothing)."""
    try:
        yield
    finally:
        for pid in pids:
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)


def small_h264_encoder(tmp_path, **kwargs):
    """A 32x48 H.264 encoder that counts as stalled after 2 s without progress."""
    return BackgroundEncoder(
        "cam", tmp_path / "cam.mp4", fps=10, height=32, width=48, encoding=VideoEncoding.h264(),
        stall_timeout=2.0, **kwargs,
    )


def test_stalled_encoder_is_killed_and_named(tmp_path):
    enc = small_h264_encoder(tmp_path, ring_slots=2)
    pid = enc.pid
    with killed_if_left(pid):
        os.kill(pid, signal.SIGSTOP)  # stuck: frees no slot, never exits
        for _ in range(6):  # more frames than slots: save has frames still pending
            enc.put(np.zeros((32, 48, 3), np.uint8))
        with pytest.raises(EncoderError, match=r"'cam'.*cam\.mp4.*libx264.*32x48.*stalled"):
            enc.finish()
        assert not alive(pid)


def test_encoder_stalled_while_closing_is_killed(tmp_path):
    enc = small_h264_encoder(tmp_path)
    pid = enc.pid
    with killed_if_left(pid):
        enc.put(np.zeros((32, 48, 3), np.uint8))
        os.kill(pid, signal.SIGSTOP)  # nothing pending in the ring: the wait for exit stalls
        with pytest.raises(EncoderError, match="stalled"):
            enc.finish()
        assert not alive(pid)


@pytest.mark.parametrize("hw", [(24, 84), (24, 72), (8, 128)])
def test_svtav1_hanging_sizes_are_refused(tmp_path, hw):
    with pytest.raises(EncoderError, match=r"libsvtav1 hangs.*h264"):
        BackgroundEncoder(
            "cam", tmp_path / "c.mp4", fps=10, height=hw[0], width=hw[1], encoding=VideoEncoding.av1()
        )
    assert not list(tmp_path.iterdir())


class UncheckedAV1(VideoEncoding):
    """AV1 without the size check: reaches libsvtav1's real hang on tiny frames."""

    def check_frame_size(self, height, width):
        pass


def test_real_svtav1_hang_is_killed(tmp_path):
    enc = BackgroundEncoder(
        "cam", tmp_path / "c.mp4", fps=10, height=24, width=84, encoding=UncheckedAV1(), stall_timeout=3.0
    )
    pid = enc.pid
    with killed_if_left(pid):
        for _ in range(4):
            enc.put(np.zeros((24, 84, 3), np.uint8))
        with pytest.raises(EncoderError, match=r"24x84.*stalled.*h264"):
            enc.finish()
        assert not alive(pid)


RECORDER = """
import sys, time, numpy as np
from lerobot_fn.data.write.encode import BackgroundEncoder, VideoEncoding
enc = BackgroundEncoder("cam", sys.argv[1], fps=10, height=32, width=48, encoding=VideoEncoding.h264())
enc.put(np.zeros((32, 48, 3), np.uint8))
print(enc.pid, flush=True)
time.sleep(120)
"""


def children_of(pid):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if entry.name.isdigit() and int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_an_encoder_stuck_in_the_codec_dies_with_the_recording_process(tmp_path):
    """SIGSTOP stands in for a codec that never returns (libsvtav1's hangs): the encoder reads no
    more input and runs none of its own code, so only its watchdog process can end it."""
    recorder = subprocess.Popen([sys.executable, "-c", RECORDER, str(tmp_path / "cam.mp4")], cwd=REPO,
                                env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                                text=True, start_new_session=True)
    encoder, watchdogs = None, []
    try:
        ready, _, _ = select.select([recorder.stdout], [], [], 45)
        assert ready, "the recording process printed no encoder pid in 45 s"
        encoder = int(recorder.stdout.readline())
        assert wait_for(lambda: children_of(encoder), 30), "the encoder started no watchdog"
        watchdogs = children_of(encoder)
        os.kill(encoder, signal.SIGSTOP)
        recorder.kill()  # the recording process dies (SIGKILL: no cleanup of its own)
        recorder.wait(timeout=10)
        assert wait_for(lambda: not alive(encoder), 30), "a stuck encoder outlived the recording process"
        assert wait_for(lambda: not any(alive(w) for w in watchdogs), 30), "the watchdog is left behind"
    finally:
        for pid in [encoder, *watchdogs]:
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)
        if recorder.poll() is None:
            recorder.kill()
        recorder.wait(timeout=10)
        recorder.stdout.close()


def test_a_finished_encoder_leaves_no_watchdog(tmp_path):
    enc = small_h264_encoder(tmp_path)
    pid = enc.pid
    assert wait_for(lambda: children_of(pid), 30), "the encoder started no watchdog"
    watchdogs = children_of(pid)
    enc.put(np.zeros((32, 48, 3), np.uint8))
    enc.finish()
    assert not alive(pid)
    assert wait_for(lambda: not any(alive(w) for w in watchdogs), 30), "the watchdog is left behind"
    assert (tmp_path / "cam.mp4").stat().st_size > 0


ADOPTER = """
import ctypes, os, sys, numpy as np
from lerobot_fn.data.write.encode import BackgroundEncoder, VideoEncoding
ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: orphans of ours come to us
encs = [BackgroundEncoder("cam", f"{sys.argv[1]}/{i}.mp4", fps=10, height=32, width=48,
                          encoding=VideoEncoding.h264()) for i in range(3)]
encs[0].put(np.zeros((32, 48, 3), np.uint8))
encs[0].finish()
encs[1].put(np.zeros((32, 48, 3), np.uint8))
encs[1].cancel()
encs[2].cancel()  # never given a frame: a next episode's encoder when the recording ends
left = []
for entry in os.listdir("/proc"):
    try:
        with open(f"/proc/{entry}/stat") as f:
            if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                left.append(entry)
    except (OSError, ValueError):
        pass
print("children left:", left, flush=True)
"""


def test_finished_and_discarded_encoders_leave_no_orphan(tmp_path):
    """An encoder killed before its watchdog leaves that watchdog to be reaped by init, in the
    recording's process group until then (a finalized writer discards the next episode's
    encoders); the adopting process here sees any such orphan as its own child."""
    proc = subprocess.Popen([sys.executable, "-c", ADOPTER, str(tmp_path)], cwd=REPO, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=45)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err[-2000:]
    assert "children left: []" in out, out
    assert (tmp_path / "0.mp4").stat().st_size > 0
    assert not (tmp_path / "1.mp4").exists() and not (tmp_path / "2.mp4").exists()

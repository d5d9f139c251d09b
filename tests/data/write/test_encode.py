"""Video encoding: LeRobot's settings land in the file, lossless is exact, the background encoder
process returns the stats sample, failures are reported with the camera and codec."""

import os
import threading
import time

import av
import numpy as np
import pytest

from lerobot_fn.data import stats as S
from lerobot_fn.data.remux import video_duration_s
from lerobot_fn.data.write.encode import (
    ENCODER_NICE,
    BackgroundEncoder,
    EncoderError,
    VideoEncoding,
    encode_frames,
)
from lerobot_fn.data.write.scheduling import kept_scheduling


def frames(n, h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def decode(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_background_encoder_lossless_and_stats_sample(tmp_path):
    src = frames(12)
    enc = BackgroundEncoder(
        "cam", tmp_path / "cam.mp4", fps=10, height=32, width=48, encoding=VideoEncoding.lossless()
    )
    for f in src:
        enc.put(f)
        f[:] = 0  # the caller may reuse its buffer: the encoder kept a copy
    sample = enc.finish()
    got = decode(tmp_path / "cam.mp4")
    assert len(got) == 12
    expected = frames(12)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        sample, np.stack([expected[i].transpose(2, 0, 1) for i in S.sample_indices(12)])
    )
    assert video_duration_s(tmp_path / "cam.mp4") == pytest.approx(1.2)
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob("*.log"))


def test_av1_default_settings_in_the_file(tmp_path):
    enc = VideoEncoding.av1()
    assert (enc.vcodec, enc.pix_fmt, enc.g, enc.crf, enc.preset) == ("libsvtav1", "yuv420p", 2, 30, 12)
    assert enc.codec_options() == {"g": "2", "crf": "30", "preset": "12", "svtav1-params": "fast-decode=0"}
    encode_frames(frames(6), tmp_path / "a.mp4", fps=10, encoding=enc)
    with av.open(str(tmp_path / "a.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.codec.name in ("libdav1d", "libaom-av1", "av1") and s.pix_fmt == "yuv420p"
        keys = [p.is_keyframe for p in c.demux(s) if p.dts is not None]
    assert keys == [True, False] * 3  # GOP 2
    assert enc.info(32, 48, 10)["video.codec"] == "av1"


def test_h264_choice(tmp_path):
    encode_frames(frames(4), tmp_path / "h.mp4", fps=10, encoding=VideoEncoding.h264())
    with av.open(str(tmp_path / "h.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    assert len(decode(tmp_path / "h.mp4")) == 4


def test_encoder_failure_names_camera_and_codec(tmp_path):
    bad = VideoEncoding(vcodec="libx264", preset="no-such-preset")
    enc = BackgroundEncoder(
        "observation.images.top", tmp_path / "x.mp4", fps=10, height=32, width=48, encoding=bad
    )
    enc.put(frames(1)[0])
    with pytest.raises(EncoderError, match=r"camera 'observation.images.top'.*codec libx264"):
        enc.finish()
    with pytest.raises(EncoderError, match="not available"):
        VideoEncoding(vcodec="no_such_codec").check_available()


def _policy(pid: int = 0) -> tuple[int, int]:
    return os.sched_getscheduler(pid), os.sched_getparam(pid).sched_priority


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="scheduling policies are Linux's")
def test_av1_encoding_keeps_this_threads_scheduling_policy(tmp_path):
    # libsvtav1 makes the thread that opens an encoder SCHED_FIFO 99 when it may (as root, as CI runs):
    # a real-time recording process starves everything else, and its child processes inherit it
    before = _policy()
    encode_frames(frames(4), tmp_path / "a.mp4", fps=10, encoding=VideoEncoding())
    assert _policy() == before


def _threads_policies(pid: int) -> set[tuple[int, int, int]]:
    """(policy, rt priority, nice) of every thread of process `pid`."""
    out = set()
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            out.add((*_policy(int(t)), os.getpriority(os.PRIO_PROCESS, int(t))))
        except (ProcessLookupError, FileNotFoundError):
            pass
    return out


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="scheduling policies are Linux's")
def test_the_encoder_process_stays_below_the_recording_process(tmp_path):
    # all of its threads: libsvtav1 starts dozens of real-time (SCHED_FIFO 99) workers as root
    enc = BackgroundEncoder(
        "cam", tmp_path / "cam.mp4", fps=10, height=32, width=48, encoding=VideoEncoding()
    )
    seen = []
    try:
        for f in frames(30):
            enc.put(f)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and enc._proc.poll() is None:
            seen.append((len(os.listdir(f"/proc/{enc._proc.pid}/task")), _threads_policies(enc._proc.pid)))
            time.sleep(0.01)
    finally:
        enc.finish()
    # real-time only for the moment the codec opens (inside its first call), never once it encodes
    later = seen[len(seen) // 2 :]
    assert later and max(n for n, _ in later) > 1, "the codec started no threads: nothing checked"
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    expected = {(os.SCHED_OTHER, 0, min(19, mine + ENCODER_NICE))}
    assert all(policies == expected for _, policies in later), later


@pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="scheduling policies are Linux's")
def test_kept_scheduling_demotes_the_realtime_threads_the_block_started():
    started, stop = threading.Event(), threading.Event()
    tids = []

    def realtime_worker():  # as libsvtav1's workers: real-time from their start
        tids.append(threading.get_native_id())
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            tids.append(None)
        started.set()
        stop.wait(10)

    before = _policy()
    worker = threading.Thread(target=realtime_worker)
    with kept_scheduling():
        worker.start()
        started.wait(10)
    try:
        if None in tids:
            pytest.skip("not allowed to make a thread real-time here (not root): nothing to demote")
        assert _policy(tids[0]) == before
    finally:
        stop.set()
        worker.join(10)


def test_frames_pass_through_a_small_ring_in_order_when_the_encoder_falls_behind(tmp_path):
    # 2 shared-memory slots for 40 frames put at once: most wait in process memory, none is lost or reordered
    src = frames(40, seed=3)
    enc = BackgroundEncoder(
        "cam",
        tmp_path / "cam.mp4",
        fps=10,
        height=32,
        width=48,
        encoding=VideoEncoding.lossless(),
        ring_slots=2,
    )
    for f in src:
        enc.put(f)
        f[:] = 0  # the caller's buffer is reused at once
    assert enc.backlog > 2
    enc.finish()
    got = decode(tmp_path / "cam.mp4")
    for i, (a, b) in enumerate(zip(got, frames(40, seed=3), strict=True)):
        np.testing.assert_array_equal(a, b, err_msg=f"frame {i}")


def test_an_encoder_process_that_dies_is_reported_by_put(tmp_path):
    enc = BackgroundEncoder(
        "cam", tmp_path / "cam.mp4", fps=10, height=32, width=48, encoding=VideoEncoding.lossless()
    )
    enc.put(frames(1)[0])
    enc._proc.kill()
    enc._proc.wait(timeout=10)
    with pytest.raises(EncoderError, match=r"camera 'cam'.*encoder process exited"):
        for f in frames(5):
            enc.put(f)
    enc.cancel()
    assert not (tmp_path / "cam.mp4").exists()

"""A stuck encoder process cannot hang the recording process: a stalled encoder is
killed with an EncoderError, and libsvtav1's known hanging frame sizes are refused up front."""

import os
import signal

import numpy as np
import pytest

from lerobot_fn.data.write.encode import BackgroundEncoder, EncoderError, VideoEncoding

pytestmark = pytest.mark.timeout(60)


def alive(pid):
    """Whether `pid` is a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def small_h264_encoder(tmp_path, **kwargs):
    """A 32x48 H.264 encoder that counts as stalled after 2 s without progress."""
    return BackgroundEncoder(
        "cam", tmp_path / "cam.mp4", fps=10, height=32, width=48, encoding=VideoEncoding.h264(),
        stall_timeout=2.0, **kwargs,
    )


def test_stalled_encoder_is_killed_and_named(tmp_path):
    enc = small_h264_encoder(tmp_path, ring_slots=2)
    pid = enc.pid
    try:
        os.kill(pid, signal.SIGSTOP)  # stuck: frees no slot, never exits
        for _ in range(6):  # more frames than slots: save has frames still pending
            enc.put(np.zeros((32, 48, 3), np.uint8))
        with pytest.raises(EncoderError, match=r"'cam'.*cam\.mp4.*libx264.*32x48.*stalled"):
            enc.finish()
        assert not alive(pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_encoder_stalled_while_closing_is_killed(tmp_path):
    enc = small_h264_encoder(tmp_path)
    pid = enc.pid
    try:
        enc.put(np.zeros((32, 48, 3), np.uint8))
        os.kill(pid, signal.SIGSTOP)  # nothing pending in the ring: the wait for exit stalls
        with pytest.raises(EncoderError, match="stalled"):
            enc.finish()
        assert not alive(pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


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
    try:
        for _ in range(4):
            enc.put(np.zeros((24, 84, 3), np.uint8))
        with pytest.raises(EncoderError, match=r"24x84.*stalled.*h264"):
            enc.finish()
        assert not alive(pid)
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)

"""mp4 files edited without re-encoding: episodes appended one after the other keep every frame and
their times, and a file cut short keeps the frames before the cut."""

import av
import numpy as np
import pytest

from lerobot_fn.data.remux import concat_videos, trim_video, video_duration_s
from lerobot_fn.data.write.encode import VideoEncoding, encode_frames


def frames(n, h=32, w=48, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def decode(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_concat_and_trim_keep_frames_and_times(tmp_path):
    a, b = frames(5, seed=1), frames(7, seed=2)
    enc = VideoEncoding.lossless()
    encode_frames(a, tmp_path / "a.mp4", fps=10, encoding=enc)
    encode_frames(b, tmp_path / "b.mp4", fps=10, encoding=enc)
    concat_videos([tmp_path / "a.mp4", tmp_path / "b.mp4"], tmp_path / "ab.mp4")
    assert video_duration_s(tmp_path / "ab.mp4") == pytest.approx(1.2)
    for x, y in zip(decode(tmp_path / "ab.mp4"), a + b, strict=True):
        np.testing.assert_array_equal(x, y)
    trim_video(tmp_path / "ab.mp4", tmp_path / "t.mp4", 0.5)
    assert len(decode(tmp_path / "t.mp4")) == 5

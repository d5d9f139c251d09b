"""PyAV decodes a request from the keyframe at or before its frame to that frame, and no further:
decoding is most of a batch's cost, and the float32 timestamps of the parquet (a hair off the
frames' own times) once made half the requests decode a frame past their own, and every request
on a keyframe start one keyframe early."""

import av
import pytest

from lerobot_fn import data
from lerobot_fn.data.video import _PyAVFile


def test_a_request_decodes_from_its_keyframe_to_its_frame(dataset_fixtures):
    ds = data.open(dataset_fixtures / "aloha_sim_mini")
    key = ds.meta.video_keys[0]
    path = ds.root / ds.meta.video_file(0, key)
    with av.open(str(path)) as c:
        keyframes = [i for i, p in enumerate(c.demux(c.streams.video[0])) if p.is_keyframe and p.size]
    start, end = ds.meta.episode_range(0)
    timestamps = ds._tensors["timestamp"].numpy()  # float32, as stored and as the reader asks
    f = _PyAVFile(path, threads=1)
    try:
        for frame in range(start, end):
            ts = ds.meta.video_from_timestamp(0, key) + float(timestamps[frame])
            frames, loaded = f.decode([ts], 0, ds.tolerance_s)
            keyframe = max(k for k in keyframes if k <= frame - start)
            assert len(frames) == frame - start - keyframe + 1, f"frame {frame}"
            assert loaded[-1] == pytest.approx(ts, abs=ds.tolerance_s)
    finally:
        f.close()

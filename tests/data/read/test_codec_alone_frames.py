"""The codec limit of `benchmarks/bench_reader.py` and `bench_reader_cpu.py` is fair only if the
codec alone is asked for the frames the reader decodes: the same files, the same timestamps,
clamped at episode edges the same way."""

import sys
from pathlib import Path

import pytest

from lerobot_fn import data

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import codec_alone  # noqa: E402


@pytest.mark.parametrize(
    "delta",
    [
        {"action": [i / 50 for i in range(10)]},  # ACT: the current frame of each camera
        {"observation.images.top": [-0.04, -0.02, 0.0], "observation.images.left_wrist": [0.0, 0.02]},
    ],
    ids=["act", "history"],
)
def test_codec_alone_asks_for_the_frames_the_reader_decodes(dataset_fixtures, delta):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps=delta)
    order = [0, 1, 39, 40, 41, 96, 97, 129, 17]  # episode starts and ends, where history is clamped
    asked = codec_alone.requests(ds, delta, order)
    planned = ds._plan(order).videos
    assert len(asked) == len(planned) == len(order)
    for item, plan in zip(asked, planned, strict=True):
        assert [path for path, _ in item] == [str(plan[key][0]) for key in ds.meta.video_keys]
        for (_, ts), key in zip(item, ds.meta.video_keys, strict=True):
            assert ts == pytest.approx(plan[key][1], abs=1e-4)  # float32 parquet timestamps


def test_torchcodec_calls_are_grouped_per_file_and_batch():
    items = [[("a.mp4", [0.1]), ("b.mp4", [0.1])], [("a.mp4", [0.5]), ("b.mp4", [0.6])], [("a.mp4", [0.9])]]
    assert codec_alone.by_batch(items, 2, "torchcodec") == [
        [("a.mp4", [0.1, 0.5]), ("b.mp4", [0.1, 0.6])],
        [("a.mp4", [0.9])],
    ]
    assert codec_alone.by_batch(items, 2, "pyav")[0] == [*items[0], *items[1]]

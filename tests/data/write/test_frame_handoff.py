"""Camera frames are handed to the encoders by reference (copied on a thread after add_frame
returns): `copy=True` lets a caller refill one buffer every tick, and an encoder that dies while
frames are being handed over is reported with the camera's name, saved episodes intact."""

import numpy as np
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data.atomic import DatasetWriteError
from lerobot_fn.data.errors import EncoderError

FEATURES = {
    "observation.images.top": {
        "dtype": "video",
        "shape": (16, 24, 3),
        "names": ["height", "width", "channels"],
    },
    "observation.images.cam": {
        "dtype": "image",
        "shape": (16, 24, 3),
        "names": ["height", "width", "channels"],
    },
    "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
}


def picture(i, salt):
    rng = np.random.default_rng(1000 * salt + i)
    return rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)


def test_copy_true_lets_the_caller_refill_one_buffer(tmp_path):
    top, cam = np.empty((16, 24, 3), np.uint8), np.empty((16, 24, 3), np.uint8)
    with data.create(tmp_path / "ds", fps=10, features=FEATURES, encoding=data.VideoEncoding.lossless()) as w:
        for i in range(30):
            top[:], cam[:] = picture(i, 0), picture(i, 1)
            w.add_frame(
                {
                    "observation.images.top": top,
                    "observation.images.cam": cam,
                    "observation.state": np.full(3, i, np.float32),
                    "task": "t",
                },
                copy=True,
            )
            top[:], cam[:] = 0, 0  # the buffer is refilled (here: cleared) as soon as add_frame returns
        w.save_episode()
    ds = data.open(tmp_path / "ds")
    for i in range(30):
        item = ds[i]
        for key, salt in (("top", 0), ("cam", 1)):
            got = (item["observation", "images", key] * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
            np.testing.assert_array_equal(got, picture(i, salt), err_msg=f"{key} frame {i}")


def test_an_encoder_that_dies_while_recording_is_reported_and_saved_episodes_survive(tmp_path):
    feats = {k: v for k, v in FEATURES.items() if k != "observation.images.cam"}
    root = tmp_path / "ds"

    def frame(i):
        return {
            "observation.images.top": picture(i, 0),
            "observation.state": np.zeros(3, np.float32),
            "task": "t",
        }

    w = data.create(root, fps=10, features=feats, encoding=data.VideoEncoding.lossless())
    try:
        for i in range(5):
            w.add_frame(frame(i))
        w.save_episode()
        w.add_frame(frame(0))
        w._handoff.flush()  # frame 0 reached the encoder before it dies
        proc = w._encoders["observation.images.top"]._proc
        proc.kill()
        proc.wait(timeout=10)
        w.add_frame(frame(1))  # handed over to a dead encoder: the handoff thread finds out
        w._handoff.flush()
        with pytest.raises(EncoderError, match=r"camera 'observation.images.top'"):
            w.add_frame(frame(2))
        with pytest.raises(DatasetWriteError, match=r"episode 1.*observation.images.top"):
            w.save_episode()
    finally:
        w.finalize()
    ds = data.open(root)
    assert ds.num_episodes == 1 and len(ds) == 5


def test_a_failure_in_the_handoff_thread_is_raised_by_flush_instead_of_hanging_it():
    from lerobot_fn.data.write.frame_handoff import FrameHandoff

    class Broken:
        def put(self, frame, **_):
            raise ValueError("ring full of nonsense")

    handoff = FrameHandoff()
    handoff.submit([(Broken(), np.zeros(3))])
    with pytest.raises(RuntimeError, match="ring full of nonsense"):
        handoff.flush()
    handoff.flush()  # the thread lives on; the error was raised once
    handoff.close()

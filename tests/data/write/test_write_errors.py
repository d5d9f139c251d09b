"""Bad input and a hostile disk give clear errors naming what and where; saved data survives."""

import json
import os
import resource
import signal

import numpy as np
import pytest

from lerobot_fn import data
from lerobot_fn.data.errors import EncoderError

FEATURES = {
    "observation.images.top": {
        "dtype": "video",
        "shape": (16, 24, 3),
        "names": ["height", "width", "channels"],
    },
    "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
}


def good_frame(i=0):
    return {
        "observation.images.top": np.full((16, 24, 3), i, np.uint8),
        "observation.state": np.zeros(3, np.float32),
        "task": "t",
    }


@pytest.fixture
def writer(tmp_path):
    w = data.create(tmp_path / "ds", fps=10, features=FEATURES, encoding=data.VideoEncoding.lossless())
    yield w
    w.finalize()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"observation.state": np.zeros(4, np.float32)},
            r"'observation.state' expects shape \(3,\), got \(4,\)",
        ),
        ({"observation.state": np.zeros(3, np.complex64)}, r"'observation.state' expects dtype float32"),
        (
            {"observation.images.top": np.zeros((16, 20, 3), np.uint8)},
            r"camera 'observation.images.top' expects",
        ),
        ({"observation.images.top": np.full((16, 24, 3), 2.0, np.float32)}, r"outside \[0, 1\]"),
        ({"task": None}, r"needs a 'task' string"),
        ({"extra.key": 1.0}, r"unknown features \['extra.key'\]"),
        ({"timestamp": 0.0}, r"filled in automatically"),
    ],
)
def test_bad_frames_name_feature_episode_and_frame(writer, change, message):
    writer.add_frame(good_frame())
    frame = {**good_frame(), **change}
    with pytest.raises(ValueError, match=message) as err:
        writer.add_frame(frame)
    assert "episode 0, frame 1" in str(err.value)
    assert writer.episode_frames == 1  # the bad frame was not added


def test_missing_feature(writer):
    frame = good_frame()
    del frame["observation.state"]
    with pytest.raises(ValueError, match=r"missing features \['observation.state'\]"):
        writer.add_frame(frame)


def test_empty_episode_and_finalized_writer(writer):
    with pytest.raises(ValueError, match="episode 0 has no frames"):
        writer.save_episode()
    writer.finalize()
    with pytest.raises(RuntimeError, match="finalized"):
        writer.add_frame(good_frame())


def test_create_refuses_bad_arguments(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(FileExistsError, match="use data.resume"):
        data.create(tmp_path / "full", fps=10, features=FEATURES)
    with pytest.raises(ValueError, match="fps must be a positive int"):
        data.create(tmp_path / "a", fps=0, features=FEATURES)
    with pytest.raises(ValueError, match="'observation.q': unsupported dtype 'float128x'"):
        data.create(tmp_path / "b", fps=10, features={"observation.q": {"dtype": "float128x", "shape": (2,)}})
    with pytest.raises(ValueError, match="camera shape must be"):
        data.create(tmp_path / "c", fps=10, features={"cam": {"dtype": "video", "shape": (16, 24)}})
    with pytest.raises(ValueError, match="added automatically"):
        data.create(tmp_path / "d", fps=10, features={**FEATURES, "index": {"dtype": "int64", "shape": (1,)}})
    with pytest.raises(EncoderError, match="not available"):
        data.create(tmp_path / "e", fps=10, features=FEATURES, encoding=data.VideoEncoding(vcodec="nocodec"))
    assert not (tmp_path / "a").exists()


def in_child(fn):
    """Run `fn()` in a forked child; return ("ok", value) or (exception type name, message)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            out = ("ok", fn())
        except BaseException as e:  # noqa: BLE001
            out = (type(e).__name__, str(e))
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        payload = f.read()
    os.waitpid(pid, 0)
    return tuple(json.loads(payload))


def test_unwritable_directory_gives_clear_error(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o555)

    def attempt():
        if os.geteuid() == 0:  # root ignores permissions: drop to nobody for the attempt
            os.setgid(65534)
            os.setuid(65534)
        data.create(parent / "ds", fps=10, features=FEATURES)

    os.chmod(tmp_path, 0o755)
    kind, message = in_child(attempt)
    assert kind == "DatasetWriteError", message
    assert str(parent / "ds") in message and "permission denied" in message


def test_disk_full_keeps_saved_episodes(tmp_path):
    """A file-size limit (as a full disk) hits while saving: clear error, earlier episodes intact."""
    root = tmp_path / "ds"
    big = {
        "observation.images.top": FEATURES["observation.images.top"],
        "observation.state": {"dtype": "float32", "shape": (3,), "names": None},
    }

    def record():
        w = data.create(root, fps=10, features=big, encoding=data.VideoEncoding.lossless())
        rng = np.random.default_rng(0)
        for e in range(2):
            for i in range(5):
                w.add_frame(
                    {
                        "observation.images.top": rng.integers(0, 256, (16, 24, 3), dtype=np.uint8),
                        "observation.state": np.full(3, e, np.float32),
                        "task": "t",
                    }
                )
            w.save_episode()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))  # no file may grow past 4 kB now
        for i in range(40):
            w.add_frame(
                {
                    "observation.images.top": rng.integers(0, 256, (16, 24, 3), dtype=np.uint8),
                    "observation.state": np.full(3, 2, np.float32),
                    "task": "t",
                }
            )
        w.save_episode()

    kind, message = in_child(record)
    assert kind == "DatasetWriteError", message
    assert "disk is full" in message and "episode 2 was not saved" in message and "data.resume" in message
    ds = data.open(root)
    assert ds.num_episodes == 2 and len(ds) == 10
    assert float(ds[9]["observation", "state"][0]) == 1.0
    with data.resume(root) as w:  # after freeing space, recording continues
        for i in range(3):
            w.add_frame(good_frame(i))
        w.save_episode()
    assert len(data.open(root)) == 13

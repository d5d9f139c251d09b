"""Loaders without workers fetch batches ahead in threads: the same batches, in the same order,
errors at their batch, and no fetch thread left once the iterator is gone."""

import gc
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from lerobot_fn import data

REPO = Path(__file__).resolve().parents[3]


def _plain(loader):
    """The batches torch's own single-process iterator gives for `loader`."""
    return list(torch.utils.data.DataLoader.__iter__(loader))


def _fetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lerobot_fn-prefetch")]


def _same(a, b):
    keys = sorted(a.keys(include_nested=True, leaves_only=True), key=str)
    assert keys == sorted(b.keys(include_nested=True, leaves_only=True), key=str)
    for key in keys:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


def test_prefetched_batches_are_torchs_in_the_same_order(dataset_fixtures):
    ds = data.open(dataset_fixtures / "aloha_sim_mini", delta_timestamps={"observation.images.top": [-0.02, 0.0]})
    make = lambda: data.loader(ds, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(3))
    ours, theirs = list(make()), _plain(make())
    assert len(ours) == len(theirs) == 9
    for a, b in zip(ours, theirs):
        _same(a, b)
    assert not _fetch_threads()


def test_augmented_batches_are_fetched_one_at_a_time_in_order(dataset_fixtures):
    # two batches fetched at once would draw the augmentations' generator in either order
    def make():
        plain = data.open(dataset_fixtures / "images_inline_mini")
        aug = data.open(dataset_fixtures / "images_inline_mini", image_transforms=data.ImageTransforms(seed=1))
        return data.loader(data.concat([plain, aug]), batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))

    ours = []
    for batch in make():
        ours.append(batch)
        assert len(_fetch_threads()) == 1
    for a, b in zip(ours, _plain(make()), strict=True):
        _same(a, b)


class _FailsAt(torch.utils.data.Dataset):
    def __init__(self, bad: int):
        self.bad = bad

    def __len__(self):
        return 40

    def __getitem__(self, i):
        if i == self.bad:
            raise ValueError(f"frame {i} is unreadable")
        return {"index": torch.tensor(i)}


def test_an_error_is_raised_at_its_batch_after_the_earlier_ones():
    seen = []
    with pytest.raises(ValueError, match="frame 20 is unreadable"):
        for batch in data.loader(_FailsAt(20), batch_size=8):
            seen.append(batch["index"].tolist())
    assert seen == [list(range(8)), list(range(8, 16))]
    gc.collect()
    assert not _fetch_threads()


def test_leaving_the_loop_early_leaves_no_fetch_thread(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini")
    for batch in data.loader(ds, batch_size=4):
        assert batch.batch_size == torch.Size([4])
        break
    gc.collect()
    assert not _fetch_threads()


def test_an_unfinished_iterator_left_at_exit_ends_the_program_cleanly(dataset_fixtures, tmp_path):
    # a script that stops reading mid-epoch and exits: the iterator is collected during the
    # interpreter's shutdown, which must neither print a traceback nor hang
    script = tmp_path / "stop_early.py"
    script.write_text(
        "import sys\n"
        "from lerobot_fn import data\n"
        "ds = data.open(sys.argv[1], delta_timestamps={'observation.images.top': [-0.02, 0.0]})\n"
        "it = iter(data.loader(ds, batch_size=4, shuffle=True))\n"
        "next(it)\n"
        "print('read one batch', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(dataset_fixtures / "aloha_sim_mini")],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert out == "read one batch\n"
    assert "Exception ignored" not in err and "Traceback" not in err, err
    with pytest.raises(ProcessLookupError):  # nothing of its process group is left
        os.killpg(proc.pid, 0)

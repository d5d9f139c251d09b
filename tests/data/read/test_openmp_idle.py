"""A batch is read without torch kernels over its pixels or columns: numpy and the codecs do that
work. A torch kernel of that size starts torch's OpenMP threads, and with torch's default thread
count (one per core) they spin after it through the decode threads' next codec calls: a 240x320
Diffusion batch cost 35-38 ms of CPU instead of 19-20 (benchmarks/bench_reader_cpu.py)."""

import collections

import pytest
from torch.profiler import ProfilerActivity, profile

from lerobot_fn import data
from lerobot_fn.data.read.frames import DecodeThreads
from lerobot_fn.data.video import available_backends

# kernels that compute over a tensor (and may run on torch's OpenMP threads); views, allocations,
# dtype-preserving no-ops and the codec's own op are not among them
COMPUTE = {
    "aten::index",
    "aten::index_select",
    "aten::copy_",
    "aten::div",
    "aten::div_",
    "aten::mul",
    "aten::_to_copy",
    "aten::stack",
    "aten::cat",
    "aten::clone",
    "aten::contiguous",
}


@pytest.mark.parametrize("uint8", [False, True], ids=["float32", "uint8"])
@pytest.mark.parametrize("backend", available_backends())
def test_a_batch_is_read_without_torch_compute_kernels(dataset_fixtures, backend, uint8):
    delta = {"action": [i / 50 for i in range(100)], "observation.images.top": [-0.02, 0.0]}
    ds = data.open(
        dataset_fixtures / "aloha_sim_mini", delta_timestamps=delta, video_backend=backend, return_uint8=uint8
    )
    ds._threads = DecodeThreads(1)  # decoded in this thread, where the profiler sees its ops
    ds.__getitems__([0, 5])  # files opened
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        items = ds.__getitems__([1, 50, 100, 3])
    ops = collections.Counter(e.name for e in prof.events())
    assert items[2]["action"].shape == (100, 14)
    assert items[2]["observation.images.top"].shape == (2, 3, 48, 64)
    assert ops.keys() & {"aten::as_strided", "aten::select"}, "the profiler saw none of the reader's ops"
    assert not ops.keys() & COMPUTE, f"torch kernels in the loading path: {sorted(ops.keys() & COMPUTE)}"

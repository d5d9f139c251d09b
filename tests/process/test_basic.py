"""Rename, add-batch-dim and device/dtype steps on TensorDicts."""

import pytest
import torch
from tensordict import TensorDict

from lerobot_fn.process import AddBatchDim, DeviceMove, RenameObservations


def _frame():
    return TensorDict(
        {"observation": {"state": torch.zeros(4), "images": {"top": torch.rand(3, 8, 6)}}, "task": "pick the cube"},
        batch_size=[],
    )


def test_rename_moves_observation_keys_and_keeps_the_rest():
    td = _frame()
    out = RenameObservations({"observation.images.top": "observation.images.cam_high"})(td)
    assert ("observation", "images", "cam_high") in out.keys(True)
    assert ("observation", "images", "top") not in out.keys(True)
    assert torch.equal(out["observation", "images", "cam_high"], td["observation", "images", "top"])
    assert ("observation", "images", "top") in td.keys(True)  # input untouched
    assert out["task"] == "pick the cube"


def test_add_batch_dim_to_a_single_frame():
    out = AddBatchDim()(_frame())
    assert out.batch_size == (1,)
    assert out["observation", "state"].shape == (1, 4)
    assert out["observation", "images", "top"].shape == (1, 3, 8, 6)
    assert out["task"] == ["pick the cube"]


def test_add_batch_dim_leaves_batched_input_alone():
    td = TensorDict({"observation": {"state": torch.zeros(2, 4)}}, batch_size=[2])
    assert AddBatchDim()(td) is td
    # unbatched TensorDict holding already-batched tensors: LeRobot's per-key dim rule keeps them
    td0 = TensorDict({"observation": {"state": torch.zeros(1, 4)}, "extra": torch.zeros(5)}, batch_size=[])
    assert AddBatchDim()(td0)["observation", "state"].shape == (1, 4)


def test_device_move_casts_floats_only():
    td = TensorDict({"observation": {"state": torch.zeros(2, 4)}, "index": torch.arange(2), "task": ["a", "b"]},
                    batch_size=[2])
    out = DeviceMove("cpu", "bfloat16")(td)
    assert out["observation", "state"].dtype == torch.bfloat16
    assert out["index"].dtype == torch.int64
    assert out["task"] == ["a", "b"]
    assert td["observation", "state"].dtype == torch.float32


def test_device_move_config_like_lerobot():
    assert DeviceMove("cpu").get_config() == {"device": "cpu", "float_dtype": None}
    with pytest.raises(ValueError, match="float_dtype 'int8'"):
        DeviceMove("cpu", "int8")

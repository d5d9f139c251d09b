"""`Pipeline.inv()`: each step's `inverse`, last step first, as torchrl's `Transform.inv`."""

import torch
from tensordict import TensorDict

from lerobot_fn.process import (
    AddBatchDim,
    DeviceMove,
    Normalize,
    Pipeline,
    RelativeActions,
    RenameObservations,
)
from lerobot_fn.process.actions import AbsoluteActions
from lerobot_fn.process.normalize import Unnormalize
from lerobot_fn.types import FeatureType, NormalizationMode, PolicyFeature

FEATURES = {"observation.state": PolicyFeature(FeatureType.STATE, (3,)), "action": PolicyFeature(FeatureType.ACTION, (3,))}
NORM_MAP = {FeatureType.STATE: NormalizationMode.MEAN_STD, FeatureType.ACTION: NormalizationMode.MIN_MAX}
STATS = {"observation.state": {"mean": [0.5, -1.0, 2.0], "std": [2.0, 0.5, 1.0]},
         "action": {"min": [-3.0, -2.0, 0.0], "max": [3.0, 2.0, 10.0]}}


def _preprocessor():
    return Pipeline((RenameObservations({}), AddBatchDim(), DeviceMove(device="cpu"),
                     RelativeActions(enabled=True, exclude_joints=("gripper",), action_names=("x", "y", "gripper")),
                     Normalize.from_stats(FEATURES, NORM_MAP, STATS)), "policy_preprocessor")


def test_inv_reverses_the_steps_that_change_values_and_skips_the_others():
    inverse = _preprocessor().inv()
    assert [type(s) for s in inverse] == [Unnormalize, AbsoluteActions]
    assert inverse[1].exclude_joints == ("gripper",) and inverse[1].action_names == ("x", "y", "gripper")
    assert isinstance(inverse[0].inverse, Normalize)  # inverting twice gives the forward step back


def test_the_inverse_maps_preprocessed_actions_back_to_raw_ones():
    state = torch.tensor([[1.0, 2.0, 3.0]])
    action = torch.tensor([[2.5, 1.0, 7.0]])
    pre = _preprocessor()
    out = pre(TensorDict({"observation": {"state": state}, "action": action}, batch_size=[1]))
    assert not torch.allclose(out["action"], action)
    back = pre.inv()(out)  # the normalised state comes back first, then the actions are made absolute
    torch.testing.assert_close(back["observation", "state"], state)
    torch.testing.assert_close(back["action"], action)

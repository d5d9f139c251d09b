"""Training as pure functions of an explicit state.

    state = train.init(policy, train.OptimSpec(total_steps=1000), torch.Generator().manual_seed(0))
    for batch in batches:
        state, metrics = train.step(state, batch)

`init` builds LeRobot's optimizer and schedule for the policy's family; `step` is one optimizer
step (grad accumulation, bf16 autocast, clipping, EMA, DDP gradient averaging); `BatchOrder` is
the resumable, shardable data order; `checkpoint` turns a state into values and back.
"""

from lerobot_fn.train import checkpoint
from lerobot_fn.train.batch import to_device
from lerobot_fn.train.compile import compile_for_training, compile_targets
from lerobot_fn.train.features import delta_timestamps, policy_features, split_features
from lerobot_fn.train.optim import make_optimizer, make_scheduler
from lerobot_fn.train.sampler import BatchOrder
from lerobot_fn.train.state import OptimSpec, StepOptions, TrainState, init
from lerobot_fn.train.step import augment, step

__all__ = [
    "BatchOrder",
    "OptimSpec",
    "StepOptions",
    "TrainState",
    "augment",
    "checkpoint",
    "compile_for_training",
    "compile_targets",
    "delta_timestamps",
    "init",
    "make_optimizer",
    "make_scheduler",
    "policy_features",
    "split_features",
    "step",
    "to_device",
]

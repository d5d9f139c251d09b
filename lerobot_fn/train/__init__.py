"""Training building blocks: policy features from a dataset, delta_timestamps, one optimisation step."""

from lerobot_fn.train.features import delta_timestamps, policy_features, split_features
from lerobot_fn.train.step import make_optimizer, train_step

__all__ = ["delta_timestamps", "make_optimizer", "policy_features", "split_features", "train_step"]

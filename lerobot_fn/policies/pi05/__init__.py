"""pi0.5 (pi0 with the state in the prompt and time-conditioned norms in the expert), LeRobot 0.6.1
compatible. Built as `policies.pi0` is (see `policies.pi`); it differs in its config's defaults
(QUANTILES normalisation, 200 prompt tokens), its processors (`Pi05StatePrompt`) and its suffix."""

import attrs

from lerobot_fn.policies.features import FeatureType, NormalizationMode
from lerobot_fn.policies.pi.config import PiConfig, quantiles_map
from lerobot_fn.policies.pi.model import PiPolicy, build_model, compile_model
from lerobot_fn.policies.pi.policy import (
    State,
    initial_state,
    loss,
    predict_chunk,
    sample_actions,
    select_action,
)
from lerobot_fn.policies.pi.processors import make_processors
from lerobot_fn.policies.vla.presets import optimizer_preset, param_groups, scheduler_preset

CONFIG_TYPE = "pi05"


@attrs.frozen
class Config(PiConfig):
    """LeRobot's `PI05Config` (type "pi05"): pi0's fields with openpi's pi0.5 defaults."""

    CONFIG_TYPE = CONFIG_TYPE
    normalization_mapping: dict[FeatureType, NormalizationMode] = attrs.field(factory=quantiles_map)
    tokenizer_max_length: int = 200


__all__ = ["CONFIG_TYPE", "Config", "PiPolicy", "State", "build_model", "compile_model", "initial_state", "loss",
           "make_processors", "optimizer_preset", "param_groups", "predict_chunk", "sample_actions",
           "scheduler_preset", "select_action"]

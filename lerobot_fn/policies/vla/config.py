"""The `PreTrainedConfig` fields every LeRobot VLA config starts with, and the JSON value checks.

A family's attrs Config subclasses `PreTrainedFields`: the fields shared with ACT and Diffusion
(`policies.config_dict.PreTrainedFields`, first in config.json's order) plus what a VLA checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from lerobot_fn.policies import config_dict
from lerobot_fn.policies.config_dict import opt_list, opt_str

__all__ = ["COMMON_KINDS", "PreTrainedFields", "check_shapes", "check_values", "float_pair", "opt_int_pair",
           "opt_list", "opt_str"]


def opt_int_pair(value: Any) -> tuple[int, int] | None:
    return None if value is None else tuple(int(v) for v in value)


def float_pair(value: Any) -> tuple[float, float]:
    return tuple(float(v) for v in value)


@attrs.frozen
class PreTrainedFields(config_dict.PreTrainedFields):
    """LeRobot's `PreTrainedConfig` fields (n_obs_steps ... pretrained_revision), and what every VLA
    config derives from its own fields (`chunk_size`, `max_state_dim`, `max_action_dim`, `type`)."""

    def validate_features(self) -> None:
        """The features a VLA needs: a state, an action, at least one camera, within the padded sizes."""
        label = self.type
        if self.robot_state_feature is None:
            raise ValueError(f"{label} config: input_features must contain 'observation.state' of type STATE")
        if self.action_feature is None:
            raise ValueError(f"{label} config: output_features must contain 'action' of type ACTION")
        if not self.image_features:
            raise ValueError(f"{label} config: input_features need at least one VISUAL feature "
                             f"(got {list(self.input_features)})")
        for what, feature, limit in (("state", self.robot_state_feature, self.max_state_dim),
                                     ("action", self.action_feature, self.max_action_dim)):
            if feature.shape[0] > limit:
                raise ValueError(f"{label} config: the {what} has {feature.shape[0]} dimensions, more than "
                                 f"max_{what}_dim={limit}")


COMMON_KINDS: dict[str, tuple[type, ...]] = {
    "n_obs_steps": (int,),
    **dict.fromkeys(("use_amp", "use_peft", "push_to_hub"), (bool,)),
}


def check_values(label: str, fields: Mapping[str, Any], kinds: Mapping[str, tuple[type, ...]]) -> None:
    """Reject wrongly typed JSON values (a bool is not an int here) with a message naming the key."""
    for key, value in fields.items():
        allowed = kinds.get(key)
        if allowed is None:
            continue
        if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            raise ValueError(f"{label} config: key {key!r} has invalid value {value!r}")


def check_shapes(label: str, fields: Mapping[str, Any], pairs: tuple[str, ...], *,
                 positive_int_pairs: tuple[str, ...] = (), mappings: tuple[str, ...] = ("rtc_config",)) -> None:
    """Reject a malformed pair (`[a, b]`), positive-integer pair or optional mapping, naming the key."""
    for key, value in fields.items():
        ok = True
        if key in pairs or key in positive_int_pairs:
            ok = value is None or (isinstance(value, (list, tuple)) and len(value) == 2)
            if ok and value is not None and key in positive_int_pairs:
                ok = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        elif key in mappings:
            ok = value is None or isinstance(value, dict)
        if not ok:
            raise ValueError(f"{label} config: key {key!r} has invalid value {value!r}")

"""Relative (delta) actions: action - state on masked dimensions, and the inverse.

LeRobot's `relative_actions_processor` subtracts `observation.state` from the action in the
preprocessor and its paired `absolute_actions_processor` adds it back in the postprocessor using
a state it cached. Here nothing is cached: `AbsoluteActions` reads `observation.state` from the
TensorDict it receives, so the caller passes the state alongside the action (the policy API does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import torch
from tensordict import TensorDictBase

from lerobot_fn.process.step import ProcessorStep


def action_mask(action_dim: int, action_names: Sequence[str] | None, exclude_joints: Sequence[str]) -> list[bool]:
    """True where the dimension becomes relative; joints whose name contains an excluded token stay absolute."""
    tokens = [str(n).lower() for n in exclude_joints if n]
    if not tokens or action_names is None:
        return [True] * action_dim
    mask = [not any(t == str(n).lower() or t in str(n).lower() for t in tokens) for n in action_names[:action_dim]]
    return mask + [True] * (action_dim - len(mask))


def _offset(actions: torch.Tensor, state: torch.Tensor, mask: Sequence[bool]) -> torch.Tensor:
    mask_t = torch.tensor(list(mask), dtype=actions.dtype, device=actions.device)
    dims = mask_t.shape[0]
    offset = state.to(device=actions.device, dtype=actions.dtype)[..., :dims] * mask_t
    return offset.unsqueeze(-2) if actions.ndim == 3 else offset


def to_relative_actions(actions: torch.Tensor, state: torch.Tensor, mask: Sequence[bool]) -> torch.Tensor:
    """actions (B, [T,] A) minus state (B, S) on the first len(mask) dims where mask is True."""
    out = actions.clone()
    out[..., : len(mask)] -= _offset(actions, state, mask)
    return out


def to_absolute_actions(actions: torch.Tensor, state: torch.Tensor, mask: Sequence[bool]) -> torch.Tensor:
    """Inverse of `to_relative_actions`."""
    out = actions.clone()
    out[..., : len(mask)] += _offset(actions, state, mask)
    return out


def _names(value) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@attrs.frozen
class RelativeActions(ProcessorStep):
    """action -= observation.state (masked); a no-op unless `enabled`."""

    registry_name: ClassVar[str] = "relative_actions_processor"
    enabled: bool = False
    exclude_joints: tuple[str, ...] = attrs.field(factory=tuple, converter=tuple)
    action_names: tuple[str, ...] | None = attrs.field(default=None, converter=_names)

    def _apply(self, td: TensorDictBase, fn) -> TensorDictBase:
        action = td.get("action", None)
        state = td.get(("observation", "state"), None)
        if not self.enabled or action is None or state is None:
            return td
        mask = action_mask(action.shape[-1], self.action_names, self.exclude_joints)
        out = td.copy()
        out.set("action", fn(action, state, mask))
        return out

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        return self._apply(td, to_relative_actions)

    @property
    def inverse(self) -> AbsoluteActions:
        return AbsoluteActions(self.enabled, self.exclude_joints, self.action_names)

    def get_config(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "exclude_joints": list(self.exclude_joints),
            "action_names": None if self.action_names is None else list(self.action_names),
        }


@attrs.frozen
class AbsoluteActions(RelativeActions):
    """action += observation.state (masked): the postprocessor inverse of `RelativeActions`.

    LeRobot saves only `enabled` for this step; the mask settings are taken from the paired
    `RelativeActions` when a pipeline pair is loaded (`pair_with`)."""

    registry_name: ClassVar[str] = "absolute_actions_processor"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        if self.enabled and "action" in td and ("observation", "state") not in td.keys(True):
            raise ValueError(
                "absolute_actions_processor needs 'observation.state' next to 'action' in its input "
                "(the state the actions are relative to)"
            )
        return self._apply(td, to_absolute_actions)

    @property
    def inverse(self) -> RelativeActions:
        return RelativeActions(self.enabled, self.exclude_joints, self.action_names)

    def get_config(self) -> dict[str, Any]:
        return {"enabled": self.enabled}

    def pair_with(self, relative: RelativeActions) -> AbsoluteActions:
        """This step with the mask settings of the preprocessor's `RelativeActions`."""
        return attrs.evolve(self, exclude_joints=relative.exclude_joints, action_names=relative.action_names)

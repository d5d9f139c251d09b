"""The processor step protocol and `Pipeline`, a composition of steps.

A step is a frozen attrs object (its settings and statistics captured at construction) that maps a
TensorDict to a new TensorDict, never mutating its input. Steps that LeRobot also has carry its
`registry_name`, `get_config()` (the JSON config LeRobot writes) and `state_dict()` (the tensors in
the step's safetensors file), so pipelines load from and save to LeRobot's processor files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs
import torch
from tensordict import TensorDictBase


class ProcessorStep:
    """Base for steps: `__call__(td) -> td`; serialisation hooks default to 'no config, no state'."""

    registry_name: ClassVar[str | None] = None

    def __call__(self, td: TensorDictBase) -> TensorDictBase:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def inverse(self) -> ProcessorStep | None:
        """The step that undoes this one on the policy's outputs (torchrl's `Transform.inv`), or
        None when there is nothing to undo (renames, batching, device moves)."""
        return None

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable settings, in LeRobot's `config` form for this registry name."""
        return {}

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors saved beside the JSON (empty for stateless steps)."""
        return {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], state: Mapping[str, torch.Tensor] | None = None):
        """Build from LeRobot's step config (+ state tensors); stateless steps take the config as kwargs."""
        return cls(**dict(config))


def _step_repr(step: Any) -> str:
    return repr(step)


@attrs.frozen
class Pipeline:
    """Steps applied in order. `Pipeline(steps, name)`; `pipeline(td)` returns a new TensorDict."""

    steps: tuple[Any, ...] = attrs.field(converter=tuple)
    name: str = "pipeline"

    def __call__(self, td: TensorDictBase) -> TensorDictBase:
        for step in self.steps:
            td = step(td)
        return td

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int):
        return self.steps[index]

    def __iter__(self):
        return iter(self.steps)

    def inv(self) -> Pipeline:
        """The inverse pipeline: each step's `inverse`, last step first (steps with nothing to undo
        are left out). `pre.inv()` maps normalised (relative) actions back to raw ones."""
        inverses = (getattr(step, "inverse", None) for step in reversed(self.steps))
        return Pipeline(tuple(s for s in inverses if s is not None), f"{self.name}_inverse")

    def then(self, *steps: Any) -> Pipeline:
        """A new pipeline with `steps` appended."""
        return attrs.evolve(self, steps=self.steps + tuple(steps))

    def replace(self, index: int, step: Any) -> Pipeline:
        """A new pipeline with the step at `index` swapped for `step`."""
        steps = list(self.steps)
        steps[index] = step
        return attrs.evolve(self, steps=tuple(steps))

    def find(self, kind: type) -> list[int]:
        """Indices of the steps that are instances of `kind`."""
        return [i for i, s in enumerate(self.steps) if isinstance(s, kind)]

    def __repr__(self) -> str:
        if not self.steps:
            return f"Pipeline(name={self.name!r}, steps=[])"
        body = "\n".join(f"  {i}: {_step_repr(s)}" for i, s in enumerate(self.steps))
        return f"Pipeline(name={self.name!r}, steps=[\n{body}\n])"


def compose(steps: Iterable[Any], name: str = "pipeline") -> Pipeline:
    """`Pipeline(tuple(steps), name)`."""
    return Pipeline(tuple(steps), name)

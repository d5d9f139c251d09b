"""Checkpoints from LeRobot < 0.4: normalisation statistics inside `model.safetensors`.

Before processor pipelines existed, a policy carried `normalize_inputs`, `normalize_targets` and
`unnormalize_outputs` modules whose buffers were saved with the weights under
`<module>.buffer_<feature name with "." replaced by "_">.<stat>`. Loading such a checkpoint means
taking those statistics out (they become the processors' statistics) and loading the remaining
weights strictly. Feature names are matched against the config's features, so names holding "_"
(`observation.images.left_wrist`) are recovered exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch

LEGACY_MODULES = ("normalize_inputs", "normalize_targets", "unnormalize_outputs")


def is_legacy(state: Mapping[str, torch.Tensor]) -> bool:
    """Whether a state dict still carries LeRobot < 0.4 normalisation buffers."""
    return any(key.split(".", 1)[0] in LEGACY_MODULES for key in state)


def split_legacy_state(
    state: Mapping[str, torch.Tensor], feature_names: Iterable[str]
) -> tuple[dict[str, torch.Tensor], dict[str, dict[str, torch.Tensor]]]:
    """(model weights without the normalisation buffers, {feature: {stat: tensor}})."""
    by_buffer = {"buffer_" + name.replace(".", "_"): name for name in feature_names}
    weights: dict[str, torch.Tensor] = {}
    stats: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        module, _, rest = key.partition(".")
        if module not in LEGACY_MODULES:
            weights[key] = tensor
            continue
        buffer, _, stat = rest.rpartition(".")
        name = by_buffer.get(buffer)
        if name is None:
            raise ValueError(
                f"legacy normalisation buffer {key!r} matches no feature of the config "
                f"(features: {sorted(by_buffer.values())})"
            )
        stats.setdefault(name, {})[stat] = tensor.clone()
    for name, values in stats.items():
        if any(torch.isinf(t).any() for t in values.values()):
            raise ValueError(f"legacy statistics of {name!r} are infinite: the checkpoint was saved without stats")
    return weights, stats

"""ACT training loss: masked L1 on the action chunk + kl_weight * KL(q(z | actions, state) || N(0, I)).

Same value as LeRobot's `ACTPolicy.forward(batch)`. In training mode the CVAE latent is sampled
with noise from `generator`, and dropout runs on a forked RNG seeded from `generator`, so a
seeded generator makes the loss reproducible without touching torch's global RNG state.
"""

from __future__ import annotations

import contextlib

import torch
from tensordict import TensorDictBase
from torch import Tensor

from lerobot_fn.process.keys import as_batch, leaf_names

from .config import ACTION, Config
from .inference import _check_batch


def loss(
    model: torch.nn.Module,
    config: Config,
    batch: TensorDictBase,
    *,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """(scalar loss, {"l1_loss", "kld_loss" when the VAE is used} as 0-d tensors) for a preprocessed training batch.

    batch holds the observations plus "action" (B, chunk_size, A) and "action_is_pad" (B, chunk_size).
    """
    batch = as_batch(batch)
    _check_batch(config, batch)
    for key in (ACTION, "action_is_pad"):
        if key not in batch:
            raise KeyError(f"ACT loss batch is missing {key!r} (it has {leaf_names(batch)})")
    actions = batch.get(ACTION)
    if actions.ndim != 3 or actions.shape[1] != config.chunk_size:
        raise ValueError(
            f"ACT loss: batch 'action' must be (B, chunk_size={config.chunk_size}, action_dim), "
            f"got {tuple(actions.shape)}"
        )

    use_vae_encoder = config.use_vae and model.training
    latent_noise = None
    if use_vae_encoder:
        # drawn on the generator's device (a CPU generator may drive a GPU model), then moved
        draw_on = generator.device if generator is not None else actions.device
        latent_noise = torch.randn(
            (actions.shape[0], config.latent_dim), generator=generator, device=draw_on, dtype=actions.dtype
        )
        if latent_noise.device != actions.device:  # pinned and non-blocking: the host never waits for the GPU
            latent_noise = latent_noise.pin_memory().to(actions.device, non_blocking=True)
    with _dropout_rng(generator, actions.device, active=model.training):
        predicted, (mu, log_sigma_x2) = model(batch, latent_noise=latent_noise)

    abs_err = (predicted - actions).abs()  # (B, chunk, A)
    valid = ~batch.get("action_is_pad").unsqueeze(-1)  # (B, chunk, 1)
    n_valid = valid.sum() * abs_err.shape[-1]
    l1 = (abs_err * valid).sum() / n_valid.clamp_min(1)
    metrics = {"l1_loss": l1.detach()}  # tensors: no device sync per step
    if config.use_vae and log_sigma_x2 is not None:
        # KL to N(0, I), summed over latent dims, averaged over the batch (Kingma & Welling, App. B).
        kld = (-0.5 * (1 + log_sigma_x2 - mu.pow(2) - log_sigma_x2.exp())).sum(-1).mean()
        metrics["kld_loss"] = kld.detach()
        return l1 + kld * config.kl_weight, metrics
    return l1, metrics


def _dropout_rng(generator: torch.Generator | None, device: torch.device, *, active: bool):
    """Run dropout on torch's RNG seeded from `generator`, restoring the global RNG afterwards."""
    if generator is None or not active:
        return contextlib.nullcontext()
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device).item())
    return _seeded(seed, device)


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device):
    index = (
        (device.index if device.index is not None else torch.cuda.current_device())
        if device.type == "cuda"
        else None
    )
    with torch.random.fork_rng(devices=[] if index is None else [index]):
        torch.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield

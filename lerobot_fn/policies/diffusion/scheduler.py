"""DDPM and DDIM noise schedulers as pure functions, numerically equal to diffusers' schedulers.

LeRobot builds `diffusers.DDPMScheduler` / `DDIMScheduler` with diffusers' defaults
(variance "fixed_small", timestep spacing "leading", steps_offset 0, DDIM eta 0 and
set_alpha_to_one). The arithmetic here follows the same float32 operations in the same order so
the numbers agree to the last bit on CPU:

- betas: "linear", "scaled_linear", "squaredcos_cap_v2" (Glide cosine, max beta 0.999), "sigmoid";
- alphas_cumprod = cumprod(1 - betas);
- inference timesteps ("leading"): (arange(N) * (T // N))[::-1];
- DDPM posterior step: x0 from epsilon/sample prediction, optional clip, posterior mean, plus
  sqrt(clamped posterior variance) * fresh noise for every t > 0;
- DDIM step (eta 0): deterministic, x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps.
"""

from __future__ import annotations

import math
from functools import lru_cache

import attrs
import torch
from torch import Tensor

BETA_SCHEDULES = ("linear", "scaled_linear", "squaredcos_cap_v2", "sigmoid")


def _cosine_alpha_bar(t: float) -> float:
    return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2


def make_betas(beta_schedule: str, num_train_timesteps: int, beta_start: float, beta_end: float) -> Tensor:
    """The forward-process betas (float32, shape (T,)) for one of diffusers' named schedules."""
    t = num_train_timesteps
    if beta_schedule == "linear":
        return torch.linspace(beta_start, beta_end, t, dtype=torch.float32)
    if beta_schedule == "scaled_linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, t, dtype=torch.float32) ** 2
    if beta_schedule == "squaredcos_cap_v2":
        betas = [min(1 - _cosine_alpha_bar((i + 1) / t) / _cosine_alpha_bar(i / t), 0.999) for i in range(t)]
        return torch.tensor(betas, dtype=torch.float32)
    if beta_schedule == "sigmoid":
        return torch.sigmoid(torch.linspace(-6, 6, t)) * (beta_end - beta_start) + beta_start
    raise ValueError(
        f"diffusion scheduler: beta_schedule {beta_schedule!r} is not one of {list(BETA_SCHEDULES)}"
    )


@attrs.frozen(eq=False)
class NoiseScheduler:
    """A DDPM or DDIM scheduler's fixed settings and its cumulative alphas (float32, CPU)."""

    kind: str  # "DDPM" or "DDIM"
    num_train_timesteps: int
    alphas_cumprod: Tensor
    prediction_type: str
    clip_sample: bool
    clip_sample_range: float

    def timesteps(self, num_inference_steps: int) -> list[int]:
        """diffusers' "leading" spacing: [(N-1)*r, ..., r, 0] with r = T // N."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(
                f"diffusion scheduler: num_inference_steps {num_inference_steps} must be in "
                f"[1, num_train_timesteps={self.num_train_timesteps}]"
            )
        ratio = self.num_train_timesteps // num_inference_steps
        return [i * ratio for i in range(num_inference_steps)][::-1]

    def add_noise(self, original: Tensor, noise: Tensor, timesteps: Tensor) -> Tensor:
        """Forward diffusion q(x_t | x_0): sqrt(a_t) x0 + sqrt(1 - a_t) noise, per batch item."""
        table = self.alphas_cumprod
        if original.device.type == "cuda":  # pinned and non-blocking: a plain copy would wait for the GPU every step
            table = table.pin_memory().to(original.device, non_blocking=True)
        ac = table.to(device=original.device, dtype=original.dtype)[timesteps.to(original.device)]
        shape = (-1,) + (1,) * (original.ndim - 1)
        return (ac**0.5).flatten().reshape(shape) * original + ((1 - ac) ** 0.5).flatten().reshape(
            shape
        ) * noise

    def step_count_with_noise(self, num_inference_steps: int) -> int:
        """How many fresh Gaussian draws one denoising run consumes (DDPM: every t > 0; DDIM: none)."""
        if self.kind == "DDIM":
            return 0
        return sum(1 for t in self.timesteps(num_inference_steps) if t > 0)

    def plan(self, num_inference_steps: int) -> tuple[DenoiseStep, ...]:
        """The per-step coefficients of one denoising run, computed once per N."""
        self.timesteps(num_inference_steps)  # validates N
        return _plan(self, num_inference_steps)


@attrs.frozen
class DenoiseStep:
    """One reverse step's constants (0-d float32 tensors, exactly diffusers' intermediate values)."""

    timestep: int
    sqrt_alpha_prod: Tensor  # sqrt(a_t)
    sqrt_beta_prod: Tensor  # sqrt(1 - a_t)
    x0_coeff: Tensor  # DDPM: posterior mean coeff of x0; DDIM: sqrt(a_prev)
    sample_coeff: Tensor  # DDPM: posterior mean coeff of x_t; DDIM: sqrt(1 - a_prev) (times eps)
    noise_std: Tensor | None  # DDPM: sqrt(posterior variance) when t > 0, else None


@lru_cache(maxsize=64)
def _plan(sched: NoiseScheduler, num_inference_steps: int) -> tuple[DenoiseStep, ...]:
    ac = sched.alphas_cumprod
    one = torch.tensor(1.0)
    ts = sched.timesteps(num_inference_steps)
    steps = []
    for i, t in enumerate(ts):
        a_t = ac[t]
        beta_t = 1 - a_t
        std = None
        if sched.kind == "DDPM":
            prev_t = ts[i + 1] if i + 1 < len(ts) else -1
            a_prev = ac[prev_t] if prev_t >= 0 else one
            current_alpha = a_t / a_prev
            current_beta = 1 - current_alpha
            x0_coeff = (a_prev**0.5 * current_beta) / beta_t
            sample_coeff = current_alpha**0.5 * (1 - a_prev) / beta_t
            if t > 0:
                var = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
                std = torch.clamp(var, min=1e-20) ** 0.5
        else:
            # diffusers' DDIM: prev = t - T // N, alpha_prev = 1 past the end (set_alpha_to_one), eta 0.
            prev_t = t - sched.num_train_timesteps // num_inference_steps
            a_prev = ac[prev_t] if prev_t >= 0 else one
            x0_coeff = a_prev**0.5
            sample_coeff = (1 - a_prev) ** 0.5
        steps.append(DenoiseStep(t, a_t**0.5, beta_t**0.5, x0_coeff, sample_coeff, std))
    return tuple(steps)


def step(
    sched: NoiseScheduler, st: DenoiseStep, model_output: Tensor, sample: Tensor, noise: Tensor | None
) -> Tensor:
    """One reverse step x_t -> x_{t-1} (DDPM uses `noise` when `st.noise_std` is set)."""
    if sched.prediction_type == "epsilon":
        x0 = (sample - st.sqrt_beta_prod * model_output) / st.sqrt_alpha_prod
        eps = model_output
    else:  # "sample"
        x0 = model_output
        eps = (sample - st.sqrt_alpha_prod * x0) / st.sqrt_beta_prod if sched.kind == "DDIM" else None
    if sched.clip_sample:
        x0 = x0.clamp(-sched.clip_sample_range, sched.clip_sample_range)
    if sched.kind == "DDIM":
        return st.x0_coeff * x0 + st.sample_coeff * eps
    prev = st.x0_coeff * x0 + st.sample_coeff * sample
    if st.noise_std is not None:
        if noise is None:
            raise ValueError(f"diffusion scheduler: DDPM step at t={st.timestep} needs a noise draw")
        prev = prev + st.noise_std * noise
    return prev


@lru_cache(maxsize=32)
def make_scheduler(
    kind: str,
    *,
    num_train_timesteps: int = 100,
    beta_schedule: str = "squaredcos_cap_v2",
    beta_start: float = 0.0001,
    beta_end: float = 0.02,
    prediction_type: str = "epsilon",
    clip_sample: bool = True,
    clip_sample_range: float = 1.0,
) -> NoiseScheduler:
    """Build (once per settings) a scheduler from the config fields LeRobot passes to diffusers."""
    if kind not in ("DDPM", "DDIM"):
        raise ValueError(f"diffusion scheduler: unsupported noise scheduler type {kind!r} (DDPM or DDIM)")
    if kind == "DDIM" and beta_schedule == "sigmoid":
        raise ValueError("diffusion scheduler: DDIM does not support beta_schedule 'sigmoid' (as diffusers)")
    betas = make_betas(beta_schedule, num_train_timesteps, beta_start, beta_end)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
    return NoiseScheduler(
        kind, num_train_timesteps, alphas_cumprod, prediction_type, clip_sample, clip_sample_range
    )

"""DDPM / DDIM scheduler maths: closed forms, and equality with diffusers' numbers.

diffusers is not a dependency: `data/diffusion_reference.*` holds numbers diffusers 0.39 produced
(see `data/make_diffusion_reference.py`, run by hand in LeRobot's venv).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn.policies import diffusion as dp
from lerobot_fn.policies.diffusion.scheduler import step

DATA = Path(__file__).parent / "data"
REF = load_file(DATA / "diffusion_reference.safetensors")
META = json.loads((DATA / "diffusion_reference.json").read_text())


def _toy_model_output(sample: torch.Tensor, t: int) -> torch.Tensor:
    # same function as make_diffusion_reference.toy_model_output
    return torch.tanh(0.7 * sample + 0.013 * t) - 0.2 * sample.flip(-1)


def _make(case: dict) -> dp.NoiseScheduler:
    return dp.make_scheduler(
        case["kind"],
        num_train_timesteps=case["T"],
        beta_schedule=case["beta_schedule"],
        prediction_type=case["prediction_type"],
        clip_sample=case["clip_sample"],
        clip_sample_range=case["clip_sample_range"],
    )


def test_cosine_schedule_closed_form():
    """squaredcos_cap_v2: alphas_cumprod[i] = f((i+1)/T) / f(0) with f(t) = cos((t+s)/(1+s) pi/2)^2 (no beta hit the cap)."""
    t_total = 100
    f = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    expected = torch.tensor([f((i + 1) / t_total) / f(0.0) for i in range(t_total - 1)], dtype=torch.float64)
    got = dp.make_scheduler("DDPM", num_train_timesteps=t_total).alphas_cumprod[: t_total - 1].double()
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)
    betas = dp.make_betas("squaredcos_cap_v2", t_total, 1e-4, 0.02)
    assert betas.max().item() == pytest.approx(0.999)  # the last step is capped


def test_linear_schedule_closed_form():
    betas = dp.make_betas("linear", 11, 0.001, 0.011)
    assert torch.allclose(betas, torch.arange(11, dtype=torch.float32) * 0.001 + 0.001)
    sched = dp.make_scheduler(
        "DDPM", num_train_timesteps=11, beta_schedule="linear", beta_start=0.001, beta_end=0.011
    )
    assert torch.allclose(sched.alphas_cumprod, torch.cumprod(1 - betas.double(), 0).float())


def test_leading_timesteps():
    sched = dp.make_scheduler("DDPM", num_train_timesteps=100)
    assert sched.timesteps(10) == [90, 80, 70, 60, 50, 40, 30, 20, 10, 0]
    assert sched.timesteps(3) == [66, 33, 0]
    assert sched.timesteps(100) == list(range(99, -1, -1))
    with pytest.raises(ValueError, match="num_inference_steps 101"):
        sched.timesteps(101)


@pytest.mark.parametrize("name", sorted(META["schedulers"]))
def test_scheduler_matches_diffusers(name):
    case = META["schedulers"][name]
    sched = _make(case)
    assert torch.equal(sched.alphas_cumprod, REF[f"schedulers/{name}/alphas_cumprod"])
    assert sched.timesteps(case["N"]) == case["timesteps"]
    assert sched.step_count_with_noise(case["N"]) == case["n_step_noise"]
    x = REF[f"schedulers/{name}/initial"]
    draws = iter(REF[f"schedulers/{name}/step_noise/{j}"] for j in range(case["n_step_noise"]))
    for st in sched.plan(case["N"]):
        z = next(draws) if st.noise_std is not None else None
        x = step(sched, st, _toy_model_output(x, st.timestep), x, z)
    assert (x - REF[f"schedulers/{name}/final"]).abs().max() <= 1e-6
    noisy = sched.add_noise(
        REF[f"schedulers/{name}/add_noise/clean"],
        REF[f"schedulers/{name}/add_noise/eps"],
        REF[f"schedulers/{name}/add_noise/timesteps"],
    )
    assert (noisy - REF[f"schedulers/{name}/add_noise/noisy"]).abs().max() <= 1e-6


def test_ddim_is_deterministic_and_draws_nothing():
    sched = dp.make_scheduler("DDIM", num_train_timesteps=100)
    assert sched.step_count_with_noise(10) == 0
    x0 = torch.randn(2, 8, 3, generator=torch.Generator().manual_seed(0))
    runs = []
    for _ in range(2):
        x = x0
        for st in sched.plan(10):
            assert st.noise_std is None
            x = step(sched, st, _toy_model_output(x, st.timestep), x, None)
        runs.append(x)
    assert torch.equal(runs[0], runs[1])


def test_ddpm_last_step_adds_no_noise_and_others_need_it():
    sched = dp.make_scheduler("DDPM", num_train_timesteps=100)
    plan = sched.plan(10)
    assert plan[-1].timestep == 0 and plan[-1].noise_std is None
    assert all(st.noise_std is not None and st.noise_std > 0 for st in plan[:-1])
    x = torch.zeros(1, 4, 2)
    with pytest.raises(ValueError, match="t=90 needs a noise draw"):
        step(sched, plan[0], x, x, None)


def test_clip_sample_bounds_the_x0_prediction():
    """With clip_sample the 'sample' prediction is clipped, so the final DDIM sample (= x0 at t=0) is in range."""
    sched = dp.make_scheduler(
        "DDIM", num_train_timesteps=100, prediction_type="sample", clip_sample_range=0.5
    )
    x = torch.randn(2, 8, 3) * 3
    for st in sched.plan(5):
        x = step(sched, st, x * 4, x, None)
    assert x.abs().max() <= 0.5 + 1e-6


def test_unknown_schedule_and_kind_are_named():
    with pytest.raises(ValueError, match="beta_schedule 'cosine'"):
        dp.make_betas("cosine", 10, 1e-4, 0.02)
    with pytest.raises(ValueError, match="'PNDM'"):
        dp.make_scheduler("PNDM")

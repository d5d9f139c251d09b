"""Writes diffusion_reference.{safetensors,json}: numbers produced by LeRobot 0.6.1 + diffusers.

Run by hand (never from the tests) with LeRobot's venv and diffusers (>=0.38,<0.40) importable:

    .lerobot-venv/bin/python tests/policies/data/make_diffusion_reference.py

It records
- schedulers/<case>/...: diffusers' DDPMScheduler / DDIMScheduler alphas_cumprod, inference
  timesteps, add_noise, and a full denoising loop driven by a fixed toy model_output function, with
  every DDPM variance draw recorded;
- default_config: LeRobot's DiffusionConfig() as config.json (its defaults);
- compile_model_state_dict_keys: the keys LeRobot gives a compile_model=True policy (`_orig_mod`);
- policies/<case>/...: LeRobot's DiffusionPolicy for configs unlike the shared fixture (two
  cameras with separate BatchNorm encoders, resize + crop_ratio, env state, DDIM, "sample"
  prediction, bias-only FiLM; and an image-free DDPM config with n_obs_steps 1): its config.json,
  state_dict keys, per-tensor sums of a torch.manual_seed(0) init, predict_action_chunk, select_action sequence and training loss under a seeded
  global RNG, and predict_action_chunk without noise after torch.manual_seed(7). Weights are filled per key by `deterministic_weights` (shared with the tests) so
  nothing large is committed.

`deterministic_weights` and `toy_model_output` import only torch so the tests can reuse them.
"""

from __future__ import annotations

import copy
import json
import zlib
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def deterministic_weights(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Values for every floating tensor, a function of its key and shape only."""
    out = {}
    for key, value in state_dict.items():
        if not value.is_floating_point() or key.endswith("pos_grid"):
            out[key] = value.clone()
            continue
        g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        if key.endswith("running_var"):
            out[key] = torch.rand(value.shape, generator=g) + 0.5
        elif key.endswith("running_mean"):
            out[key] = torch.randn(value.shape, generator=g) * 0.1
        elif value.ndim == 1:  # biases and norm scales
            base = 1.0 if (key.endswith("weight")) else 0.0
            out[key] = base + 0.1 * torch.randn(value.shape, generator=g)
        else:
            fan_in = value[0].numel() if value.shape[0] > 0 else 1
            out[key] = torch.randn(value.shape, generator=g) / fan_in**0.5
    return out


def toy_model_output(sample: torch.Tensor, t: int) -> torch.Tensor:
    """A fixed, t-dependent 'network' for scheduler checks."""
    return torch.tanh(0.7 * sample + 0.013 * t) - 0.2 * sample.flip(-1)


def as_float(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """uint8 images -> float32 in [0, 1] (what the policy sees); other tensors unchanged."""
    return {k: v.float() / 255 if v.dtype == torch.uint8 else v for k, v in batch.items()}


SCHEDULER_CASES = {
    "ddpm_cos_eps": {
        "kind": "DDPM",
        "T": 100,
        "N": 10,
        "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": "epsilon",
        "clip_sample": True,
        "clip_sample_range": 1.0,
    },
    "ddpm_linear_eps_noclip_n7": {
        "kind": "DDPM",
        "T": 50,
        "N": 7,
        "beta_schedule": "linear",
        "prediction_type": "epsilon",
        "clip_sample": False,
        "clip_sample_range": 1.0,
    },
    "ddpm_scaled_sample": {
        "kind": "DDPM",
        "T": 100,
        "N": 100,
        "beta_schedule": "scaled_linear",
        "prediction_type": "sample",
        "clip_sample": True,
        "clip_sample_range": 0.5,
    },
    "ddpm_sigmoid_eps": {
        "kind": "DDPM",
        "T": 30,
        "N": 5,
        "beta_schedule": "sigmoid",
        "prediction_type": "epsilon",
        "clip_sample": True,
        "clip_sample_range": 1.0,
    },
    "ddim_cos_eps": {
        "kind": "DDIM",
        "T": 100,
        "N": 10,
        "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": "epsilon",
        "clip_sample": True,
        "clip_sample_range": 1.0,
    },
    "ddim_linear_sample_n3": {
        "kind": "DDIM",
        "T": 100,
        "N": 3,
        "beta_schedule": "linear",
        "prediction_type": "sample",
        "clip_sample": False,
        "clip_sample_range": 1.0,
    },
}
SCHEDULER_SHAPE = (2, 8, 3)

POLICY_CASES = {
    "two_cams_ddim_sample": {
        "input_features": {
            "observation.images.left": {"type": "VISUAL", "shape": [3, 48, 56]},
            "observation.images.right": {"type": "VISUAL", "shape": [3, 48, 56]},
            "observation.state": {"type": "STATE", "shape": [3]},
            "observation.environment_state": {"type": "ENV", "shape": [5]},
        },
        "output_features": {"action": {"type": "ACTION", "shape": [3]}},
        "n_obs_steps": 3,
        "horizon": 8,
        "n_action_steps": 4,
        "down_dims": [16, 32],
        "kernel_size": 3,
        "n_groups": 4,
        "diffusion_step_embed_dim": 16,
        "use_film_scale_modulation": False,
        "use_separate_rgb_encoder_per_camera": True,
        "use_group_norm": False,
        "pretrained_backbone_weights": None,
        "resize_shape": [44, 52],
        "crop_ratio": 0.9,
        "spatial_softmax_num_keypoints": 8,
        "noise_scheduler_type": "DDIM",
        "num_inference_steps": 5,
        "prediction_type": "sample",
        "beta_schedule": "linear",
        "num_train_timesteps": 50,
        "do_mask_loss_for_padding": True,
        "device": "cpu",
        "push_to_hub": False,
    },
    "env_only_ddpm_one_obs": {
        "input_features": {
            "observation.state": {"type": "STATE", "shape": [2]},
            "observation.environment_state": {"type": "ENV", "shape": [4]},
        },
        "output_features": {"action": {"type": "ACTION", "shape": [2]}},
        "n_obs_steps": 1,
        "horizon": 8,
        "n_action_steps": 3,
        "down_dims": [8, 16, 16],
        "kernel_size": 5,
        "n_groups": 4,
        "diffusion_step_embed_dim": 8,
        "noise_scheduler_type": "DDPM",
        "num_inference_steps": 4,
        "num_train_timesteps": 20,
        "pretrained_backbone_weights": None,
        "device": "cpu",
        "push_to_hub": False,
    },
}
N_SELECT_STEPS = 7


def _scheduler_refs(tensors: dict, meta: dict) -> None:
    import diffusers.schedulers.scheduling_ddpm as ddpm_mod
    from diffusers import DDIMScheduler, DDPMScheduler

    original_randn_tensor = ddpm_mod.randn_tensor

    for name, c in SCHEDULER_CASES.items():
        cls = DDPMScheduler if c["kind"] == "DDPM" else DDIMScheduler
        s = cls(
            num_train_timesteps=c["T"],
            beta_schedule=c["beta_schedule"],
            prediction_type=c["prediction_type"],
            clip_sample=c["clip_sample"],
            clip_sample_range=c["clip_sample_range"],
        )
        s.set_timesteps(c["N"])
        g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        x = torch.randn(SCHEDULER_SHAPE, generator=g)
        tensors[f"schedulers/{name}/alphas_cumprod"] = s.alphas_cumprod.clone()
        tensors[f"schedulers/{name}/initial"] = x.clone()
        draws: list[torch.Tensor] = []
        _record_ddpm_draws(g, draws)
        for t in s.timesteps:
            x = s.step(toy_model_output(x, int(t)), t, x).prev_sample
        for j, z in enumerate(draws):
            tensors[f"schedulers/{name}/step_noise/{j}"] = z
        tensors[f"schedulers/{name}/final"] = x
        clean = torch.randn(SCHEDULER_SHAPE, generator=g)
        eps = torch.randn(SCHEDULER_SHAPE, generator=g)
        ts = torch.tensor([0, c["T"] - 1])
        tensors[f"schedulers/{name}/add_noise/clean"] = clean
        tensors[f"schedulers/{name}/add_noise/eps"] = eps
        tensors[f"schedulers/{name}/add_noise/timesteps"] = ts
        tensors[f"schedulers/{name}/add_noise/noisy"] = s.add_noise(clean, eps, ts)
        meta["schedulers"][name] = {
            **c,
            "timesteps": [int(t) for t in s.timesteps],
            "n_step_noise": len(draws),
        }
    ddpm_mod.randn_tensor = original_randn_tensor


def _batch(
    cfg, g: torch.Generator, b: int, s: int | None, horizon: int | None = None
) -> dict[str, torch.Tensor]:
    lead = (b,) if s is None else (b, s)
    out = {k: torch.randn(*lead, *ft.shape, generator=g) for k, ft in cfg.input_features.items()}
    for k, ft in cfg.image_features.items():  # 8-bit pixels so they are stored as uint8
        out[k] = torch.randint(0, 256, (*lead, *ft.shape), generator=g).to(torch.uint8)
    if horizon is not None:
        out["action"] = torch.randn(b, horizon, cfg.action_feature.shape[0], generator=g).clamp(-1, 1)
        pad = torch.zeros(b, horizon, dtype=torch.bool)
        pad[0, -3:] = True
        out["action_is_pad"] = pad
    return out


def _policy_refs(tensors: dict, meta: dict) -> None:
    import draccus
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig
    from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy

    meta["default_config"] = draccus.encode(DiffusionConfig(), PreTrainedConfig)
    compiled = DiffusionPolicy(
        draccus.decode(DiffusionConfig, {**POLICY_CASES["env_only_ddpm_one_obs"], "compile_model": True})
    )
    meta["compile_model_state_dict_keys"] = list(compiled.state_dict())  # env_only case, compile_model=True
    import diffusers.schedulers.scheduling_ddpm as ddpm_mod

    original_randn_tensor = ddpm_mod.randn_tensor
    for name, overrides in POLICY_CASES.items():
        cfg = draccus.decode(DiffusionConfig, overrides)
        torch.manual_seed(0)
        policy = DiffusionPolicy(cfg)
        sd = policy.state_dict()
        seeded = {k: [float(v.double().sum()), float(v.double().abs().sum())] for k, v in sd.items()}
        policy.load_state_dict(deterministic_weights(sd), strict=True)
        policy.eval()
        p = f"policies/{name}"
        g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        entry: dict = {"config": draccus.encode(cfg, PreTrainedConfig)}
        entry["state_dict"] = {k: list(v.shape) for k, v in sd.items()}
        entry["seeded_init_sums"] = seeded  # torch.manual_seed(0) then construction: sum, abs-sum per tensor

        batch = _batch(cfg, g, 2, cfg.n_obs_steps)
        noise = torch.randn(2, cfg.horizon, cfg.action_feature.shape[0], generator=g)
        draws: list[torch.Tensor] = []
        _record_ddpm_draws(g, draws)
        policy.reset()
        with torch.no_grad():
            chunk = policy.predict_action_chunk(as_float(batch), noise=noise)
        for k, v in batch.items():
            tensors[f"{p}/predict_chunk/{k}"] = v
        tensors[f"{p}/predict_chunk/noise"] = noise
        for j, z in enumerate(draws):
            tensors[f"{p}/predict_chunk/step_noise/{j}"] = z
        tensors[f"{p}/predict_chunk/action"] = chunk
        # no noise given: everything from the default RNG (restore diffusers' own draw function)
        ddpm_mod.randn_tensor = original_randn_tensor
        policy.reset()
        torch.manual_seed(7)
        with torch.no_grad():
            tensors[f"{p}/predict_chunk/action_seed7"] = policy.predict_action_chunk(as_float(batch))
        _record_ddpm_draws(g, draws)

        policy.reset()
        generations = []
        for t in range(N_SELECT_STEPS):
            frame = _batch(cfg, g, 1, None)
            for k, v in frame.items():
                tensors[f"{p}/select_action/{t}/{k}"] = v
            kwargs = {}
            if len(policy._queues["action"]) == 0:
                z0 = torch.randn(1, cfg.horizon, cfg.action_feature.shape[0], generator=g)
                tensors[f"{p}/select_action/noise/{t}"] = z0
                kwargs["noise"] = z0
                draws.clear()
                generations.append(t)
            with torch.no_grad():
                tensors[f"{p}/select_action/{t}/action"] = policy.select_action(as_float(frame), **kwargs)
            if kwargs:
                for j, z in enumerate(draws):
                    tensors[f"{p}/select_action/step_noise/{t}/{j}"] = z
        entry["generations"] = generations

        train_batch = _batch(cfg, g, 3, cfg.n_obs_steps, horizon=cfg.horizon)
        for k, v in train_batch.items():
            tensors[f"{p}/loss/{k}"] = v
        for mode in ("train", "eval"):
            # a copy in training mode: its forward updates BatchNorm statistics
            model = copy.deepcopy(policy).train() if mode == "train" else policy
            torch.manual_seed(123)
            tensors[f"{p}/loss/{mode}"] = model.forward(as_float(train_batch))[0].detach().reshape(1)
        meta["policies"][name] = entry


def _record_ddpm_draws(g: torch.Generator, draws: list) -> None:
    import diffusers.schedulers.scheduling_ddpm as ddpm_mod

    def recorder(shape, generator=None, device=None, dtype=None, **_):
        z = torch.randn(shape, generator=g, dtype=dtype)
        draws.append(z.clone())
        return z

    ddpm_mod.randn_tensor = recorder


def main() -> None:
    import diffusers
    import lerobot
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    meta: dict = {
        "generator": "tests/policies/data/make_diffusion_reference.py",
        "lerobot_version": lerobot.__version__ if hasattr(lerobot, "__version__") else "0.6.1",
        "diffusers_version": diffusers.__version__,
        "torch_version": torch.__version__,
        "schedulers": {},
        "policies": {},
    }
    _scheduler_refs(tensors, meta)
    _policy_refs(tensors, meta)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(HERE / "diffusion_reference.safetensors"))
    (HERE / "diffusion_reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(tensors)} tensors")


if __name__ == "__main__":
    main()

"""SmolVLA's training presets (LeRobot 0.6.1 `SmolVLAConfig`): AdamW(lr 1e-4, betas (0.9, 0.95), eps 1e-8,
weight_decay 1e-10, clip 10) and openpi's cosine decay with linear warm-up (1000 steps, to 2.5e-6 over
30000), as every LeRobot VLA config has them (`policies.vla.presets`). `param_groups` leaves out the
parts `freeze_vision_encoder` / `train_expert_only` / `train_state_proj` freeze."""

from lerobot_fn.policies.vla.presets import optimizer_preset, param_groups, scheduler_preset

__all__ = ["optimizer_preset", "param_groups", "scheduler_preset"]

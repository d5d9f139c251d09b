"""`sample_policy()`: a small ACT checkpoint shaped for the simulated SO-101, generated on first use.

`lerobot-run specs/sim_run_policy.toml` (and a policy-driven `record`) must run on a fresh clone with
no network and no trained model, so `policy.path = "sample:act_so101"` names a checkpoint the project
makes itself: an **untrained** ACT (seeded random weights, resnet18 backbone, 6 joints in degrees, cameras
`front` and `wrist` resized to 96x128), whose statistics keep its actions a few degrees around the
calibrated arm's centre. It exercises the whole path (loading, the chunked runner, the arm) without
doing a task: train your own and point `policy.path` at its `pretrained_model`. Written in LeRobot's
layout into `$HF_LEROBOT_HOME/lerobot_fn_samples/`, built beside its final place and renamed there.
"""

from __future__ import annotations

from pathlib import Path

SAMPLE_PREFIX = "sample:"
JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
CAMERAS = ("front", "wrist")
IMAGE_SIZE = (96, 128)  # height, width
VERSION = 1  # part of the cache folder's name: a changed recipe builds a fresh copy
SAMPLES = ("act_so101",)


def sample_policy_root(name: str = "act_so101") -> Path:
    """Where `sample_policy(name)` lives: `$HF_LEROBOT_HOME/lerobot_fn_samples/<name>_v<N>`."""
    from lerobot_fn.data import lerobot_home

    if name not in SAMPLES:
        raise ValueError(f"no sample policy {name!r}; available: {', '.join(SAMPLES)} "
                         f"(policy.path = \"sample:{SAMPLES[0]}\"), or a pretrained_model directory / Hub repo id")
    return lerobot_home() / "lerobot_fn_samples" / f"{name}_v{VERSION}"


def _build(directory: Path) -> None:
    import numpy as np
    import torch

    from lerobot_fn import policies, train
    from lerobot_fn.data.features import Feature
    from lerobot_fn.policies.registry import family

    names = [f"{j}.pos" for j in JOINTS]
    features = {"observation.state": {"dtype": "float32", "shape": (6,), "names": names},
                "action": {"dtype": "float32", "shape": (6,), "names": names},
                **{f"observation.images.{c}": {"dtype": "video", "shape": (*IMAGE_SIZE, 3),
                                               "names": ["height", "width", "channels"]} for c in CAMERAS}}
    inputs, outputs = train.split_features(train.policy_features(
        {k: Feature.from_dict(v, key=k) for k, v in features.items()}))
    config = family("act").Config(
        input_features=inputs, output_features=outputs, device="cpu", chunk_size=20, n_action_steps=10,
        dim_model=64, n_heads=4, dim_feedforward=128, n_encoder_layers=2, n_decoder_layers=1, latent_dim=16,
        n_vae_encoder_layers=2, pretrained_backbone_weights=None)
    centre = np.array([0, 0, 0, 0, 0, 50.0])  # a calibrated SO-101 at rest: 0 degrees, gripper half open
    joints = {"mean": centre, "std": np.full(6, 3.0), "min": centre - 10, "max": centre + 10}
    image = {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)}
    stats = {"observation.state": joints, "action": joints, **{f"observation.images.{c}": image for c in CAMERAS}}
    with torch.random.fork_rng():
        torch.manual_seed(0)
        policy = policies.from_config(config, stats=stats, device="cpu")
    policies.save(policy, directory)


def sample_policy(name: str = "act_so101") -> Path:
    """The `pretrained_model` directory of a sample policy, generated on first use (about 1 s)."""
    from lerobot_fn.data.atomic import built_directory

    target = sample_policy_root(name)
    if not (target / "config.json").is_file():
        with built_directory(target, done="config.json") as build:  # safe when processes race
            _build(build)
    return target


def resolve_policy_path(path: str) -> str:
    """`"sample:<name>"` -> that sample policy's directory (built on first use); anything else as given
    (a local directory literally called so wins, as a path always does)."""
    if path.startswith(SAMPLE_PREFIX) and not Path(path).exists():
        return str(sample_policy(path[len(SAMPLE_PREFIX):]))
    return path

"""Running a policy on the simulated SO-101: chunks computed ahead in a worker thread, blended where they
overlap, the first chunk played exactly as the policy predicted it, errors surfaced, policy-driven record."""

from __future__ import annotations

import logging
import types

import numpy as np
import pytest
import torch
from hw_helpers import JOINTS, chain_of, write_calibration

from hardware import jobs
from hardware.cameras import CameraConfig
from hardware.policy_runner import ChunkedPolicyRunner
from hardware.specs import DatasetOptions, PolicyOptions, RecordSpec, RobotConfig
from lerobot_fn import data, policies, train
from lerobot_fn.data.features import Feature
from lerobot_fn.policies.registry import family
from lerobot_fn.specs import RunContext

NAMES = [f"{j}.pos" for j in JOINTS]
FEATURES = {
    "observation.state": {"dtype": "float32", "shape": (6,), "names": NAMES},
    "action": {"dtype": "float32", "shape": (6,), "names": NAMES},
    "observation.images.front": {"dtype": "video", "shape": (24, 32, 3), "names": ["height", "width", "channels"]},
}


def tiny_act(chunk_size=12, n_action_steps=12):
    """A small untrained ACT shaped for an SO-101 with one camera (stats make actions land near zero)."""
    torch.manual_seed(0)
    inputs, outputs = train.split_features(train.policy_features(
        {k: Feature.from_dict(v, key=k) for k, v in FEATURES.items()}))
    config = family("act").Config(
        input_features=inputs, output_features=outputs, device="cpu", chunk_size=chunk_size,
        n_action_steps=n_action_steps, dim_model=32, n_heads=2, dim_feedforward=64, n_encoder_layers=1,
        n_decoder_layers=1, latent_dim=8, n_vae_encoder_layers=1, pretrained_backbone_weights=None)
    stats = {"observation.state": {"mean": np.zeros(6), "std": np.full(6, 10.0)},
             "action": {"mean": np.zeros(6), "std": np.full(6, 2.0)},
             "observation.images.front": {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.2)}}
    return policies.from_config(config, stats=stats, device="cpu")


def observation(value=0.0):
    return {**{n: value for n in NAMES}, "front": np.full((24, 32, 3), 128, dtype=np.uint8)}


def test_first_chunk_plays_exactly_as_predicted_then_the_next_is_blended_in():
    policy = tiny_act()
    obs = observation()
    expected = policies.predict_chunk(policy, {
        "observation.state": torch.zeros(1, 6), "observation.images.front": torch.full((1, 3, 24, 32), 128 / 255)})[0]
    with ChunkedPolicyRunner(policy, list(JOINTS), ["front"], blend_steps=3) as runner:
        played = [runner.action(obs) for _ in range(30)]
        assert runner.chunks >= 2  # chunks were requested ahead and merged
    first = np.array([[a[n] for n in NAMES] for a in played[:6]])
    np.testing.assert_allclose(first, expected[:6].numpy(), atol=1e-4)
    assert all(set(a) == set(NAMES) for a in played)


def test_more_actions_than_joints_are_cut_and_cameras_are_resized(caplog):
    policy = tiny_act()
    with caplog.at_level(logging.WARNING), ChunkedPolicyRunner(policy, list(JOINTS[:4]), ["cam"]) as runner:
        action = runner.action({**{f"{j}.pos": 0.0 for j in JOINTS[:4]},
                                "cam": np.zeros((480, 640, 3), dtype=np.uint8)})
    assert list(action) == NAMES[:4]
    assert "cameras matched by order" in caplog.text and "6 actions for 4 joints" in caplog.text


def test_a_failing_policy_is_reported_in_the_control_thread():
    policy = tiny_act()
    broken = types.SimpleNamespace(config=policy.config, model=policy.model, preprocessor=None,
                                   postprocessor=None, family=policy.family, autocast=None)
    with ChunkedPolicyRunner(broken, list(JOINTS), ["front"]) as runner, \
            pytest.raises(RuntimeError, match="the policy failed while predicting a chunk"):
        runner.action(observation())


def test_policy_driven_record_writes_episodes(sim_port, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    write_calibration(tmp_path / "home", "robots", "so_follower", "pol")
    checkpoint = policies.save(tiny_act(), tmp_path / "policy" / "pretrained_model")
    port = sim_port("so101_follower")
    spec = RecordSpec(
        robot=RobotConfig(type="so101_follower", port=port, id="pol",
                          cameras={"front": CameraConfig(type="synthetic", width=32, height=24)}),
        policy=PolicyOptions(path=str(checkpoint)), keyboard_controls=False,
        dataset=DatasetOptions(repo_id="local/policy_run", root=str(tmp_path / "ds"), single_task="hold still",
                               num_episodes=2, episode_time_s=0.5, reset_time_s=0.1, fps=30))
    result = jobs.record(spec, RunContext(out_dir=tmp_path / "run", seed=0, log=logging.getLogger("record")))
    assert result["total_episodes"] == 2
    meta = data.DatasetMeta.load(tmp_path / "ds")
    assert meta.total_frames == 30 and data.verify(tmp_path / "ds") == []
    assert not any(s.torque for s in chain_of(port).servos)  # the job ended with torque off

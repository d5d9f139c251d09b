"""Running a policy on the simulated SO-101: chunks predicted ahead in a worker process (or thread), the same
actions as in-process inference, blended where they overlap, and every way out (normal end, an error in
the loop, an error in the worker, a killed worker) stops the robot with torque off and leaves no process."""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
import time

import numpy as np
import pytest
import torch
from hw_helpers import JOINTS, chain_of, policy_workers, wait_gone, write_calibration

from hardware import jobs, loops
from hardware.cameras import CameraConfig
from hardware.policy_inputs import ObservationAdapter, predict_joint_chunk
from hardware.policy_runner import ChunkedPolicyRunner, PolicyWorkerError
from hardware.specs import DatasetOptions, PolicyOptions, RecordSpec, RobotConfig, RunPolicySpec
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
STATS = {"observation.state": {"mean": np.zeros(6), "std": np.full(6, 10.0)},
         "action": {"mean": np.zeros(6), "std": np.full(6, 2.0)},
         "observation.images.front": {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.2)}}


def tiny_act(chunk_size=12, n_action_steps=12, stats=STATS):
    """A small untrained ACT shaped for an SO-101 with one camera (stats make actions land near zero)."""
    torch.manual_seed(0)
    inputs, outputs = train.split_features(train.policy_features(
        {k: Feature.from_dict(v, key=k) for k, v in FEATURES.items()}))
    config = family("act").Config(
        input_features=inputs, output_features=outputs, device="cpu", chunk_size=chunk_size,
        n_action_steps=n_action_steps, dim_model=32, n_heads=2, dim_feedforward=64, n_encoder_layers=1,
        n_decoder_layers=1, latent_dim=8, n_vae_encoder_layers=1, pretrained_backbone_weights=None)
    return policies.from_config(config, stats=stats, device="cpu")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return policies.save(tiny_act(), tmp_path_factory.mktemp("policy") / "pretrained_model")


def observation(seed=0, size=(24, 32)):
    rng = np.random.default_rng(seed)
    return {**{n: float(v) for n, v in zip(NAMES, rng.normal(0, 5, 6), strict=True)},
            "front": rng.integers(0, 256, (*size, 3), dtype=np.uint8)}


def joints_of(actions: list[dict]) -> np.ndarray:
    return np.array([[a[n] for n in NAMES] for a in actions])


def in_process(path, obs, n=12) -> np.ndarray:
    policy = policies.load(path)
    return predict_joint_chunk(policy, ObservationAdapter(policy.config, list(JOINTS), ["front"]), obs,
                               task=None, actions_per_chunk=n)


def test_the_worker_process_plays_the_actions_in_process_inference_gives(checkpoint):
    obs_a, obs_b = observation(0, size=(48, 64)), observation(1, size=(48, 64))  # frames resized in the worker
    expected_a, expected_b = in_process(checkpoint, obs_a), in_process(checkpoint, obs_b)
    assert not np.allclose(expected_a, expected_b)
    with pytest.raises(ZeroDivisionError), \
            ChunkedPolicyRunner(checkpoint, list(JOINTS), ["front"], blend_steps=3,
                                torch_threads=torch.get_num_threads()) as runner:
        worker = runner.worker_pid
        assert policy_workers() == [worker]
        runner.prime(obs_a)
        played = [runner.action(obs_a, period_s=1 / 30) for _ in range(6)]
        np.testing.assert_array_equal(joints_of(played), expected_a[:6])  # same checkpoint, same obs: same actions
        deadline = time.monotonic() + 60  # a loaded machine may hold for many ticks before the next chunk
        for i in itertools.count():  # later chunks are requested ahead and cross-faded in
            if (i >= 30 and runner.chunks >= 2) or time.monotonic() > deadline:
                break
            runner.action(obs_a, period_s=1 / 30)
            time.sleep(0.005)
        assert runner.chunks >= 2 and len(runner.inference_s) == runner.chunks
        runner.reset()  # a new episode: nothing of the last one plays
        runner.prime(obs_b)
        np.testing.assert_array_equal(joints_of([runner.action(obs_b) for _ in range(4)]), expected_b[:4])
        1 / 0  # an error in the user's loop  # noqa: B018
    assert wait_gone(worker, timeout=5) and policy_workers() == []


def test_the_worker_thread_gives_the_same_actions(checkpoint):
    obs = observation(2)
    with ChunkedPolicyRunner(policies.load(checkpoint), list(JOINTS), ["front"], worker="thread") as runner:
        assert runner.worker_pid is None
        runner.prime(obs)
        played = joints_of([runner.action(obs) for _ in range(6)])
    np.testing.assert_array_equal(played, in_process(checkpoint, obs)[:6])


def test_a_late_chunk_holds_the_last_goals_instead_of_stalling_the_tick(checkpoint):
    obs = observation(3)
    with ChunkedPolicyRunner(checkpoint, list(JOINTS), ["front"], worker="thread", actions_per_chunk=1) as runner:
        runner.prime(obs)
        first = runner.action(obs, period_s=1 / 30)  # the only queued action; the next chunk is asked for
        held = runner.action(obs, period_s=1 / 30)  # nothing queued yet: hold, do not wait for it
        assert held == first and runner.holds == 1 and runner.chunks == 1
        # without a period the call waits for a chunk (asking again if the one in flight is already stale)
        assert list(runner.action(obs)) == NAMES and runner.chunks >= 2 and runner.holds == 1


def test_a_mismatched_robot_is_adapted_and_said_once(caplog):
    policy = tiny_act()
    adapter = ObservationAdapter(policy.config, list(JOINTS[:4]), ["cam"])
    batch = adapter({**{f"{j}.pos": 1.0 for j in JOINTS[:4]}, "cam": np.zeros((480, 640, 3), dtype=np.uint8)})
    assert batch["observation.images.front"].shape == (1, 3, 24, 32)
    assert batch["observation.state"].tolist() == [[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]]
    assert adapter.actions(np.ones((3, 6))).shape == (3, 4)
    with caplog.at_level(logging.WARNING), ChunkedPolicyRunner(policy, list(JOINTS[:4]), ["cam"], worker="thread") as r:
        action = r.action({**{f"{j}.pos": 0.0 for j in JOINTS[:4]}, "cam": np.zeros((480, 640, 3), dtype=np.uint8)})
    assert list(action) == NAMES[:4]
    assert "cameras matched by order" in caplog.text and "6 actions for 4 joints" in caplog.text
    with pytest.raises(ValueError, match=r"the policy needs camera 'front' .* the robot has only \[\]"):
        ObservationAdapter(policy.config, list(JOINTS), [])


def run_policy_spec(port: str, checkpoint, duration_s: float) -> RunPolicySpec:
    return RunPolicySpec(robot=RobotConfig(type="so101_follower", port=port, id="pol",
                                           cameras={"front": CameraConfig(type="synthetic", width=32, height=24)}),
                         policy=PolicyOptions(path=str(checkpoint)), duration_s=duration_s)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    write_calibration(tmp_path / "home", "robots", "so_follower", "pol")
    return tmp_path / "home"


def test_a_policy_failing_in_its_worker_stops_the_robot_and_names_the_policy(sim_port, home, tmp_path):
    # a checkpoint that loads but cannot run: its state statistics have 5 values, the state has 6
    bad_stats = {**STATS, "observation.state": {"mean": np.zeros(5), "std": np.ones(5)}}
    checkpoint = policies.save(tiny_act(stats=bad_stats), tmp_path / "bad" / "pretrained_model")
    port = sim_port("so101_follower")
    ctx = RunContext(out_dir=tmp_path / "run", seed=0, log=logging.getLogger("run_policy"))
    with pytest.raises(ValueError, match=rf"the policy {checkpoint} failed while predicting a chunk: .*statistics"):
        jobs.run_policy(run_policy_spec(port, checkpoint, 5.0), ctx)
    assert not any(s.torque for s in chain_of(port).servos)
    assert policy_workers() == []


def test_a_killed_worker_stops_the_loop_at_once_with_torque_off(sim_port, home, checkpoint, tmp_path, monkeypatch):
    port = sim_port("so101_follower")
    ctx = RunContext(out_dir=tmp_path / "run", seed=0, log=logging.getLogger("run_policy"))
    ticks, killed = [], []

    def control_loop(robot, source, **kwargs):  # the job's loop, counting its ticks
        return loops.control_loop(robot, lambda obs: (ticks.append(1), source(obs))[1], **kwargs)

    def kill_the_worker():
        deadline = time.monotonic() + 60
        while len(ticks) < 10 and time.monotonic() < deadline:  # the loop is running on the policy's chunks
            time.sleep(0.01)
        os.kill(policy_workers()[0], signal.SIGKILL)
        killed.append(len(ticks))

    monkeypatch.setattr(jobs, "control_loop", control_loop)
    killer = threading.Thread(target=kill_the_worker, daemon=True)
    killer.start()
    with pytest.raises(PolicyWorkerError, match=r"the policy worker for .* was killed by SIGKILL"):
        jobs.run_policy(run_policy_spec(port, checkpoint, 60.0), ctx)
    killer.join(timeout=5)
    assert killed and len(ticks) - killed[0] < 15  # noticed within a few ticks, not after the 60 s run
    assert not any(s.torque for s in chain_of(port).servos)
    assert policy_workers() == []


def test_policy_driven_record_writes_episodes(sim_port, home, checkpoint, tmp_path):
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
    assert policy_workers() == []

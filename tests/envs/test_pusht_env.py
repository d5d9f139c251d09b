"""PushT as a TorchRL env: LeRobot's keys, dtypes and values, seeds per episode, success and rewards."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from tensordict import TensorDict

from lerobot_fn import envs
from lerobot_fn.envs.rollout import RandomActor, rollout


def _reset_input(seeds, record=None):
    n = len(seeds)
    return TensorDict({"episode_seed": torch.tensor(seeds),
                       "record": torch.tensor(record or [False] * n)}, [n])


def test_observations_are_lerobots_preprocessed_gym_observations():
    import gym_pusht  # noqa: F401

    config = envs.make_config("pusht")
    env = envs.make_env(config, config.tasks()[0], num_envs=1)
    try:
        td = env.reset(_reset_input([7]))
        raw = gym.make("gym_pusht/PushT-v0", obs_type="pixels_agent_pos", render_mode="rgb_array",
                       max_episode_steps=300, disable_env_checker=True)
        obs, _ = raw.reset(seed=7)
        image = td["observation", "image"]
        # LeRobot's preprocess_observation: HWC uint8 -> BCHW float32 / 255; agent_pos -> float32 state
        assert image.shape == (1, 3, 96, 96) and image.dtype == torch.float32
        expected = torch.from_numpy(obs["pixels"]).permute(2, 0, 1).float() / 255
        torch.testing.assert_close(image[0], expected, rtol=0, atol=0)
        torch.testing.assert_close(td["observation", "state"][0], torch.from_numpy(obs["agent_pos"]).float())
        action = np.array([300.0, 200.0], dtype=np.float32)
        td["action"] = torch.from_numpy(action).unsqueeze(0)
        nxt = env.step(td)["next"]
        obs, reward, terminated, _truncated, info = raw.step(action)
        torch.testing.assert_close(nxt["observation", "state"][0], torch.from_numpy(obs["agent_pos"]).float())
        assert nxt["reward"].item() == pytest.approx(reward)
        assert nxt["success"].item() is bool(info["is_success"]) and nxt["terminated"].item() is terminated
        raw.close()
    finally:
        env.close()


def test_the_faster_frame_grab_gives_gym_pushts_own_frames():
    import gym_pusht  # noqa: F401

    config = envs.make_config("pusht")
    ours = config.make_gym(config.tasks()[0])
    stock = gym.make("gym_pusht/PushT-v0", obs_type="pixels_agent_pos", render_mode="rgb_array",
                     visualization_width=384, visualization_height=384, max_episode_steps=300,
                     disable_env_checker=True)
    assert ours.unwrapped._get_img.__func__ is not type(ours.unwrapped)._get_img, "the grab is replaced"
    rng = np.random.default_rng(0)
    try:
        for env in (ours, stock):
            env.reset(seed=11)
        assert np.array_equal(ours.render(), stock.render())  # no action yet: no marker
        for _ in range(20):
            action = rng.uniform(0, 512, 2).astype(np.float32)
            mine, theirs = ours.step(action)[0], stock.step(action)[0]
            assert np.array_equal(mine["pixels"], theirs["pixels"]) and mine["pixels"].shape == (96, 96, 3)
            frame = ours.render()
            assert np.array_equal(frame, stock.render()) and frame.shape == (384, 384, 3)
        assert frame.std() > 0
    finally:
        ours.close()
        stock.close()


def test_episodes_are_seeded_truncated_at_the_episode_length_and_recorded():
    config = envs.make_config("pusht", episode_length=12)
    env = envs.make_env(config, config.tasks()[0], num_envs=1, render=True)
    actor = RandomActor(*config.action_bounds(), config.action_shape)
    try:
        first, frames = rollout(env, actor, [3], task="push", max_steps=50, record=[True])
        again, _ = rollout(env, actor, [3], task="push", max_steps=50)
        other, _ = rollout(env, actor, [4], task="push", max_steps=50)
    finally:
        env.close()
    assert first == again and first != other
    assert first[0].length == 12 and first[0].seed == 3  # TimeLimit truncation at episode_length
    assert first[0].sum_reward >= first[0].max_reward >= 0
    assert frames[0].shape == (13, 384, 384, 3) and frames[0].dtype == torch.uint8  # reset + 12 steps
    assert frames[0].float().std() > 0


def test_only_recorded_episodes_render_and_a_slot_never_shows_an_earlier_episodes_frame():
    config = envs.make_config("pusht", episode_length=5)
    env = envs.make_env(config, config.tasks()[0], num_envs=2, render=True)
    action = TensorDict({"action": torch.full((2, 2), 250.0)}, [2])

    def frames_after_a_step(record):
        env.reset(_reset_input([1, 2], record))
        return env.step(action.clone())["next", "render"]

    try:
        recorded = frames_after_a_step([True, False])
        assert recorded[0].float().std() > 0 and not recorded[1].any()
        assert not frames_after_a_step([False, False]).any(), "no episode recorded: every frame blank"
        swapped = frames_after_a_step([False, True])
        assert not swapped[0].any() and swapped[1].float().std() > 0
    finally:
        env.close()


def test_unknown_type_and_options_name_what_is_known():
    with pytest.raises(ValueError, match="unknown env type 'pushy'; known: .*pusht"):
        envs.make_config("pushy")
    with pytest.raises(ValueError, match="has no option.*episode_lenght.*episode_length"):
        envs.make_config("pusht", episode_lenght=3)


def test_auto_env_count_follows_cores_and_episodes():
    assert envs.auto_num_envs(50, cores=2) == 10
    assert envs.auto_num_envs(7, cores=2) == 7
    assert envs.auto_num_envs(1, cores=8) == 1
    assert envs.auto_num_envs(500, cores=128) == 64

"""Smoke tests of every benchmark: make, reset, step, render, with LeRobot's keys and shapes.

PushT and Meta-World (state) run in the default suite; ALOHA and Meta-World's camera need headless
OpenGL (OSMesa, installed by `make test`); LIBERO (hf-libero + robosuite + its 350 MB of assets,
about 25 s for one env here) is `sim_heavy`: `make libero` installs it, then
`pytest -m sim_heavy tests/envs/test_benchmarks.py` runs it on a CPU machine (OSMesa) or a GPU one (EGL)."""

from __future__ import annotations

import pytest
import torch

from lerobot_fn import envs
from lerobot_fn.envs.rollout import RandomActor, rollout

pytestmark = pytest.mark.timeout(300)


class TaskProbe(RandomActor):
    """A random policy that keeps the `task` it is given with each observation."""

    def __init__(self, config):
        super().__init__(*config.action_bounds(), config.action_shape)
        self.tasks: list[list[str]] = []

    def act(self, obs, state, generators):
        self.tasks.append(obs.get("task").tolist())
        return super().act(obs, state, generators)


def _smoke(config, *, steps: int = 3):
    task = config.tasks()[0]
    env = envs.make_env(config, task, num_envs=1, render=True)
    probe = TaskProbe(config)
    try:
        episodes, frames = rollout(env, probe, [0], task=task.description, max_steps=steps, record=[True])
        td = env.reset()
    finally:
        env.close()
    for key in config.observation_keys():
        value = td.get(key.key)
        if key.camera:
            h, w, c = key.shape
            assert value.shape == (1, c, h, w) and value.dtype == torch.float32 and 0 <= value.min() <= value.max() <= 1
        else:
            assert value.shape == (1, *key.shape) and torch.isfinite(value).all()
    assert episodes[0].length == steps
    assert probe.tasks == [[task.description]] * steps, "the policy gets the task's natural-language description"
    assert frames[0].shape == (steps + 1, *config.render_size(), 3) and frames[0].float().std() > 0
    return task


def test_metaworld_state_observations():
    task = _smoke(envs.make_config("metaworld", task="push-v3", obs_type="environment_state_agent_pos",
                                   observation_height=64, observation_width=64))
    assert task.description == "Push the puck to a goal"


def test_metaworld_suites_expand_to_named_tasks():
    mt10 = envs.make_config("metaworld", task="MT10").tasks()
    assert len(mt10) == 10 and mt10[0].name == "reach-v3" and mt10[0].group == "MT10"
    assert len(envs.make_config("metaworld", task="MT50").tasks()) == 50
    hard = envs.make_config("metaworld", task="hard,reach-v3").tasks()
    assert [t.task_id for t in hard][-1] == 0 and hard[-1].description == "Reach a goal position"
    with pytest.raises(ValueError, match="unknown Meta-World task 'reach-v9'"):
        envs.make_config("metaworld", task="reach-v9")


def test_metaworld_camera_as_lerobot():
    _smoke(envs.make_config("metaworld", task="reach-v3", observation_height=64, observation_width=64), steps=2)


@pytest.mark.parametrize("task", ["AlohaInsertion-v0", "AlohaTransferCube-v0"])
def test_aloha(task):
    config = envs.make_config("aloha", task=task,
                              visualization_height=48, visualization_width=64)
    assert _smoke(config, steps=2).description.endswith(".")


@pytest.mark.sim_heavy
def test_libero_object():
    config = envs.make_config("libero", task="libero_object", task_ids=(0,), observation_height=64,
                              observation_width=64)
    task = _smoke(config, steps=2)
    assert task.group == "libero_object" and task.description == "pick up the alphabet soup and place it in the basket"


def test_libero_assets_given_but_missing_are_named(tmp_path):
    from lerobot_fn.envs.libero import find_assets

    with pytest.raises(FileNotFoundError, match=f"env.options.assets = '{tmp_path}'.*scenes"):
        find_assets(str(tmp_path))

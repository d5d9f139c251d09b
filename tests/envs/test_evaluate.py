"""`envs.evaluate`: lazily started workers, one task's workers at a time, none left behind on any exit
path, results that depend only on the seed, LeRobot's eval_info.json keys, videos that decode."""

from __future__ import annotations

import json
import time

import av
import pytest
from envs_testing import BrokenSim, ProbeActor, TwoTaskPushT, UninstalledSim, env_workers

from lerobot_fn import envs
from lerobot_fn.envs.workers import EnvWorkerError

pytestmark = pytest.mark.timeout(180)


def _gone(deadline_s: float = 10.0) -> set[int]:
    end = time.monotonic() + deadline_s
    while env_workers() and time.monotonic() < end:
        time.sleep(0.05)
    return env_workers()


def test_workers_start_on_first_reset_one_task_at_a_time_and_results_follow_the_seed(tmp_path):
    config = TwoTaskPushT(episode_length=15)
    env = envs.make_env(config, config.tasks()[0], num_envs=2)
    assert env_workers() == set(), "no worker before the first reset"
    env.reset()
    assert len(env_workers()) == 2
    env.close()
    assert _gone() == set()

    actor = ProbeActor(config)
    info = envs.evaluate(actor, config, n_episodes=3, batch_size=2, seed=100, output_dir=tmp_path,
                         max_episodes_rendered=1)
    assert _gone() == set(), "all workers are gone after the evaluation"
    # two batches per task (2 + 1 episodes), each batch with exactly this task's two workers alive
    assert len(actor.seen) == 4 and all(len(s) == 2 for s in actor.seen)
    assert actor.seen[0] == actor.seen[1] and actor.seen[2] == actor.seen[3]
    assert not actor.seen[0] & actor.seen[2], "task 1 runs in new workers; task 0's were closed"

    one_env = envs.evaluate(ProbeActor(config), config, n_episodes=3, batch_size=1, seed=100)
    three_envs = envs.evaluate(ProbeActor(config), config, n_episodes=3, batch_size=3, seed=100)
    fields = ("task", "seed", "sum_reward", "max_reward", "success", "length")

    def numbers(result):
        return [tuple(e[k] for k in fields) for e in result["per_episode"]]

    assert numbers(info) == numbers(one_env) == numbers(three_envs)
    assert [e["seed"] for e in info["per_episode"]] == [100, 101, 102] * 2
    assert {e["task"] for e in info["per_episode"]} == {"push the T, first time", "push the T, second time"}
    assert len(set(numbers(info)[:3])) == 3, "different seeds, different episodes"

    written = json.loads((tmp_path / "eval_info.json").read_text())
    assert written["per_episode"] == info["per_episode"]
    assert set(written["overall"]) >= {"pc_success", "avg_sum_reward", "avg_max_reward", "n_episodes",
                                       "eval_s", "eval_ep_s", "episodes_per_s", "video_paths"}
    assert written["overall"]["n_episodes"] == 6 and written["per_group"]["suite"]["n_episodes"] == 6
    task0 = written["per_task"][0]
    assert task0["task_group"] == "suite" and task0["task_id"] == 0
    assert task0["metrics"]["sum_rewards"] == [e["sum_reward"] for e in info["per_episode"][:3]]
    videos = written["overall"]["video_paths"]
    assert videos == [str(tmp_path / "videos" / f"suite_{i}" / "eval_episode_0.mp4") for i in (0, 1)]
    with av.open(videos[0]) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == info["per_episode"][0]["length"] + 1  # the reset frame and one per step


def test_two_lanes_run_side_by_side_and_change_no_number():
    config = TwoTaskPushT(episode_length=15)
    actor = ProbeActor(config)
    lanes = envs.evaluate(actor, config, n_episodes=5, batch_size=4, seed=7)
    assert _gone() == set()
    assert lanes["num_envs"] == 4 and actor.threads == {"MainThread", "eval-lane-1"}
    # 3 batches per task (2 + 2 + 1 episodes); a later batch sees both lanes' workers, this task's only
    assert len(actor.seen) == 6 and all(len(s) == 4 for s in actor.seen[1:3] + actor.seen[4:])
    assert not actor.seen[2] & actor.seen[5]
    one_env = envs.evaluate(ProbeActor(config), config, n_episodes=5, batch_size=1, seed=7)
    assert lanes["per_episode"] == one_env["per_episode"]
    assert [e["episode_ix"] for e in lanes["per_episode"]] == list(range(5)) * 2


@pytest.mark.parametrize("n_episodes, num_envs, lanes, lane_envs, sizes", [
    (50, 10, 2, 5, [5] * 10),
    (50, 20, 2, 9, [9] * 5 + [5]),
    (7, 7, 2, 4, [4, 3]),
    (3, 2, 1, 2, [2, 1]),
    (1, 1, 1, 1, [1]),
])
def test_batches_come_in_whole_rounds_of_the_lanes(n_episodes, num_envs, lanes, lane_envs, sizes):
    from lerobot_fn.envs.lanes import plan

    got_lanes, got_envs, batches = plan(n_episodes, num_envs)
    assert (got_lanes, got_envs, [len(b) for b in batches]) == (lanes, lane_envs, sizes)
    assert [i for b in batches for i in b] == list(range(n_episodes))


@pytest.mark.parametrize("batch_size", [2, 4])
def test_a_failing_policy_leaves_no_worker_behind(batch_size):
    config = envs.make_config("pusht", episode_length=50)
    actor = ProbeActor(config, fail_after=3)
    with pytest.raises(ValueError, match="policy blew up"):
        envs.evaluate(actor, config, n_episodes=batch_size, batch_size=batch_size)
    assert len(actor.seen[0]) in (batch_size // 2, batch_size)  # a lane's workers start at its first reset
    assert _gone() == set()


def test_a_simulator_failing_in_its_worker_is_reported_and_cleaned_up():
    # both workers fail; whichever reports first is named
    failed = r"pusht/PushT-v0: env worker [01] failed: RuntimeError: the simulator could not load"
    with pytest.raises(EnvWorkerError, match=failed):
        envs.evaluate("random", BrokenSim(), n_episodes=2, batch_size=2)
    assert _gone() == set()


def test_a_missing_simulator_package_names_the_extra_to_install():
    with pytest.raises(envs.MissingExtraError, match=r'pip install "lerobot-fn\[nosuchbench\]"'):
        envs.evaluate("random", UninstalledSim(), n_episodes=1)

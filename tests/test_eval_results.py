"""lerobot_fn.eval_results: an eval run directory (eval_info.json in LeRobot's keys) as tables."""

from __future__ import annotations

import json

import pytest

from lerobot_fn import eval_results


def _episode(ix, success, reward, video):
    return {"episode_ix": ix, "task_group": "pusht", "task_id": 0, "task": "push", "seed": 1000 + ix,
            "sum_reward": reward, "max_reward": reward / 10, "success": success, "length": 30, "video_path": video}  # fmt: skip


def _aggregated(n, pc):
    return {
        "avg_sum_reward": 1.0,
        "avg_max_reward": 0.1,
        "pc_success": pc,
        "n_episodes": n,
        "episodes_per_s": 2.0,
    }


@pytest.fixture
def eval_dir(tmp_path):
    moved_from = "/somewhere/else/run/videos/pusht_0/eval_episode_1.mp4"  # the run dir was moved since
    video0 = tmp_path / "videos" / "pusht_0" / "eval_episode_0.mp4"
    video0.parent.mkdir(parents=True)
    video0.write_bytes(b"mp4")
    (video0.parent / "eval_episode_1.mp4").write_bytes(b"mp4")
    episodes = [
        _episode(0, False, 2.0, str(video0)),
        _episode(1, True, 5.0, moved_from),
        _episode(2, False, 0.5, None),
    ]
    info = {"env": {"type": "pusht"}, "policy": {"path": "random"}, "seed": 1000, "per_episode": episodes,
            "per_task": [{"task_group": "pusht", "task_id": 0, "task": "push", "aggregated": _aggregated(3, 33.3)}],
            "overall": _aggregated(3, 33.3)}  # fmt: skip
    (tmp_path / "eval_info.json").write_text(json.dumps(info))
    return tmp_path


def test_task_table_ends_with_overall(eval_dir):
    rows = eval_results.task_table(eval_results.load_eval_info(eval_dir))
    assert [r["task"] for r in rows] == ["pusht/0", "overall"]
    assert rows[0]["pc_success"] == 33.3 and rows[1]["n_episodes"] == 3


def test_episodes_worst_or_best_first_with_their_videos(eval_dir):
    info = eval_results.load_eval_info(eval_dir)
    worst = eval_results.episode_table(info, eval_dir)
    assert [r["episode"] for r in worst] == [2, 0, 1]  # failures by reward, then successes
    best = eval_results.episode_table(info, eval_dir, best_first=True)
    assert [r["episode"] for r in best] == [1, 0, 2]
    videos = {r["episode"]: r["video"] for r in worst}
    assert videos[0].endswith("eval_episode_0.mp4")
    assert videos[1] == str(eval_dir / "videos" / "pusht_0" / "eval_episode_1.mp4")  # found after the move
    assert videos[2] == ""  # not rendered


def test_bad_eval_directories_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*no eval_info.json"):
        eval_results.load_eval_info(tmp_path)
    (tmp_path / "eval_info.json").write_text('{"per_episode": [')
    with pytest.raises(ValueError, match="not valid JSON"):
        eval_results.load_eval_info(tmp_path)
    (tmp_path / "eval_info.json").write_text('{"per_episode": []}')
    with pytest.raises(ValueError, match="no 'per_task' table"):
        eval_results.load_eval_info(tmp_path)

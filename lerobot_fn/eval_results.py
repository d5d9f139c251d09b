"""An eval run directory read for people: `eval_info.json` (LeRobot's keys, written by the eval
job) as a per-task table, a per-episode table ordered worst or best first, and each episode's
video; `sample_eval` generates a small one. `notebooks/review_eval.py` is the main user.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from lerobot_fn.runs import generate_run, samples_dir

EVAL_INFO = "eval_info.json"
VIDEOS = "videos"


def load_eval_info(eval_dir: str | os.PathLike) -> dict[str, Any]:
    """The parsed `eval_info.json` of an eval run directory (clear errors when missing or torn)."""
    path = Path(eval_dir) / EVAL_INFO
    if not path.is_file():
        raise FileNotFoundError(
            f'{path}: not an eval run directory (no {EVAL_INFO}); run `lerobot-run` with job = "eval"'
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); the eval was cut short?") from e
    for key in ("per_episode", "per_task", "overall"):
        if key not in info:
            raise ValueError(f"{path}: no {key!r} table (found {sorted(info)})")
    return info


def _round(value: Any, digits: int = 3) -> Any:
    return round(value, digits) if isinstance(value, float) else value


def task_table(info: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per task, then an "overall" row: success rate, rewards, episodes, episodes/s."""
    rows = []
    for task in info["per_task"]:
        agg = task["aggregated"]
        rows.append({"task": f"{task['task_group']}/{task['task_id']}", "description": task.get("task", ""),
                     **{k: _round(agg[k]) for k in ("pc_success", "avg_sum_reward", "avg_max_reward", "n_episodes",
                                                    "episodes_per_s")}})  # fmt: skip
    overall = info["overall"]
    rows.append({"task": "overall", "description": "",
                 **{k: _round(overall[k]) for k in ("pc_success", "avg_sum_reward", "avg_max_reward", "n_episodes",
                                                    "episodes_per_s")}})  # fmt: skip
    return rows


def episode_video(eval_dir: str | os.PathLike, record: dict[str, Any]) -> Path | None:
    """The mp4 of one episode record, or None when it was not rendered. The recorded path is
    absolute; when the directory was moved, the same `videos/...` path under `eval_dir` is used."""
    recorded = record.get("video_path")
    if not recorded:
        return None
    path = Path(recorded)
    if path.is_file():
        return path
    parts = path.parts
    if VIDEOS in parts:
        moved = Path(eval_dir).joinpath(*parts[parts.index(VIDEOS) :])
        if moved.is_file():
            return moved
    return None


def episode_table(
    info: dict[str, Any], eval_dir: str | os.PathLike, *, best_first: bool = False
) -> list[dict]:
    """One row per episode, worst first (failures, then by sum of rewards) or best first:
    task, episode, seed, success, rewards, length and its video (path, or "" when not rendered)."""
    rows = []
    for r in info["per_episode"]:
        video = episode_video(eval_dir, r)
        rows.append({"task": f"{r['task_group']}/{r['task_id']}", "episode": r["episode_ix"], "seed": r.get("seed"),
                     "success": bool(r["success"]), "sum_reward": _round(r["sum_reward"]),
                     "max_reward": _round(r["max_reward"]), "length": r.get("length"),
                     "video": str(video) if video else ""})  # fmt: skip
    rows.sort(key=lambda row: (row["success"], row["sum_reward"], row["max_reward"]), reverse=best_first)
    return rows


SAMPLE_EVAL_VERSION = 1
SAMPLE_EVAL_SPEC = """\
job = "eval"

[policy]
path = "random"

[env]
type = "pusht"
task = "PushT-v0"
options = {{episode_length = 30}}

[eval]
n_episodes = 4
batch_size = 2
max_episodes_rendered = 4

[run]
seed = 1000
"""


def sample_eval(root: str | os.PathLike | None = None, timeout_s: float = 600) -> Path:
    """A small eval run directory (a random policy, 4 PushT episodes of 30 steps, all rendered),
    generated on first use with `lerobot-run` into `$HF_LEROBOT_HOME/lerobot_fn_samples/` (or
    `root`). Needs the `sim` extra (gym-pusht)."""
    return generate_run(SAMPLE_EVAL_SPEC.format(), root or samples_dir() / f"eval_pusht_random_v{SAMPLE_EVAL_VERSION}",
                        timeout_s=timeout_s)  # fmt: skip

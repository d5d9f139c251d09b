"""Publish a dataset on the Hugging Face Hub the way LeRobot does.

`push(root, repo_id)`: create the dataset repo (kept if it exists), write a dataset card
(README.md: YAML header with the LeRobot tag and the parquet config, then info.json), upload
the dataset folder (temporaries and staging files excluded), and tag the commit with the
codebase version (`v3.0`) so readers that ask for that revision get it.
"""

from __future__ import annotations

import json
from pathlib import Path

from lerobot_fn.data.atomic import STAGING_DIR, TMP_MARK
from lerobot_fn.data.errors import DatasetError
from lerobot_fn.data.meta import INFO_PATH, load_info

IGNORE = [f"{STAGING_DIR}/*", f"**/*{TMP_MARK}*", f"*{TMP_MARK}*", "images/*"]


def dataset_card(
    info: dict, repo_id: str, *, license: str = "apache-2.0", tags: list[str] | None = None
) -> str:
    """README.md for the Hub: YAML metadata (license, robotics, LeRobot tags, parquet config) + info.json."""
    all_tags = ["LeRobot", *(tags or [])]
    header = "\n".join(
        [
            "---",
            f"license: {license}",
            "task_categories:",
            "- robotics",
            "tags:",
            *[f"- {t}" for t in all_tags],
            "configs:",
            "- config_name: default",
            "  data_files: data/*/*.parquet",
            "---",
        ]
    )
    body = (
        f"\nThis dataset was recorded with [lerobot-fn](https://github.com/) in the "
        f"[LeRobot](https://github.com/huggingface/lerobot) format (LeRobotDataset {info['codebase_version']}).\n\n"
        f"- robot type: {info.get('robot_type')}\n- episodes: {info.get('total_episodes')}\n"
        f"- frames: {info.get('total_frames')} at {info.get('fps')} fps\n\n"
        "## Dataset Structure\n\n[meta/info.json](meta/info.json):\n```json\n"
        + json.dumps(info, indent=4)
        + "\n```\n"
    )
    return header + "\n" + body


def push(
    root: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    branch: str | None = None,
    license: str = "apache-2.0",
    tags: list[str] | None = None,
    token: str | None = None,
    tag_version: bool = True,
) -> str:
    """Upload the dataset at `root` to the Hub dataset repo `repo_id`; returns the commit URL."""
    from huggingface_hub import HfApi

    root = Path(root)
    info = load_info(root)
    if not info.get("total_episodes"):
        raise DatasetError(f"push: {root / INFO_PATH} says the dataset has no episodes; record some first")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if branch:
        api.create_branch(repo_id, branch=branch, repo_type="dataset", exist_ok=True)
    api.upload_file(
        path_or_fileobj=dataset_card(info, repo_id, license=license, tags=tags).encode("utf-8"),
        path_in_repo="README.md",
        repo_id=repo_id,
        repo_type="dataset",
        revision=branch,
        commit_message="Add dataset card",
    )
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=root,
        repo_type="dataset",
        revision=branch,
        ignore_patterns=IGNORE,
        commit_message=f"Upload LeRobotDataset {info['codebase_version']}",
    )
    if tag_version:
        api.create_tag(
            repo_id, tag=info["codebase_version"], revision=branch, repo_type="dataset", exist_ok=True
        )
    return str(getattr(commit, "commit_url", commit))

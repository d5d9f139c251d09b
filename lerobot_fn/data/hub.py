"""Datasets on the Hugging Face Hub: resolve a repo id to a local root, downloading what is needed.

The cache is laid out as LeRobot's (`$HF_LEROBOT_HOME/<repo_id>`, default
`~/.cache/huggingface/lerobot`), so a dataset LeRobot already downloaded is reused as is.
Downloads go through `huggingface_hub.snapshot_download` (only meta/ first, then only the data
and video files of the requested episodes); the revision defaults to the codebase-version tag
(`v3.0`, or the newest compatible `v3.x`), falling back to `main` for untagged repos.
`HF_HUB_OFFLINE=1` reads from the cache and never touches the network.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lerobot_fn.data.errors import DatasetError, DatasetFileError
from lerobot_fn.data.meta import CODEBASE_VERSION, INFO_PATH, DatasetMeta, load_info

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def lerobot_home() -> Path:
    """`$HF_LEROBOT_HOME`, else `$HF_HOME/lerobot`, else ~/.cache/huggingface/lerobot (as LeRobot)."""
    if os.environ.get("HF_LEROBOT_HOME"):
        return Path(os.environ["HF_LEROBOT_HOME"]).expanduser()
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(hf_home).expanduser() / "lerobot"


def is_offline() -> bool:
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")
    return env or bool(constants.is_offline_mode())


def looks_like_repo_id(source: str) -> bool:
    return bool(REPO_ID.match(source)) and not Path(source).exists()


def _parse_version(tag: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def safe_revision(repo_id: str) -> str:
    """The codebase-version tag to download: `v3.0`, else the newest `v3.x` <= it, else `main`."""
    from huggingface_hub import HfApi

    target = _parse_version(CODEBASE_VERSION)
    refs = HfApi().list_repo_refs(repo_id, repo_type="dataset")
    versions = {v: t.name for t in refs.tags if (v := _parse_version(t.name)) is not None}
    compatible = [v for v in versions if v[0] == target[0] and v <= target]
    if compatible:
        return versions[max(compatible)]
    if any(v[0] < target[0] for v in versions) and not any(v[0] == target[0] for v in versions):
        from lerobot_fn.data.errors import V21_HINT, DatasetVersionError

        old = versions[max(versions)]
        raise DatasetVersionError(
            f"Hub dataset {repo_id} is only available as {old}. " + V21_HINT.format(root=repo_id)
        )
    return "main"


def _needed_files(meta: DatasetMeta, episodes: list[int] | None) -> list[str]:
    eps = meta.episode_indices if episodes is None else episodes
    files = {str(meta.data_file(e)) for e in eps}
    for key in meta.video_keys:
        files |= {str(meta.video_file(e, key)) for e in eps}
    return sorted(files)


def _have_all(root: Path, episodes: list[int] | None) -> bool:
    if not (root / INFO_PATH).is_file():
        return False
    try:
        meta = DatasetMeta.load(root)
    except DatasetError:
        return False
    return all((root / f).is_file() for f in _needed_files(meta, episodes))


def download(
    repo_id: str,
    *,
    root: str | Path | None = None,
    revision: str | None = None,
    episodes: list[int] | None = None,
    force: bool = False,
) -> Path:
    """Make `repo_id` readable locally and return its root (`root` or `$HF_LEROBOT_HOME/<repo_id>`).

    Files already there are reused without any network access; otherwise meta/ is downloaded,
    then only the data/video files that `episodes` need (all when None).
    """
    local = Path(root).expanduser() if root is not None else lerobot_home() / repo_id
    if not force and _have_all(local, episodes):
        return local
    if is_offline():
        raise DatasetFileError(
            f"dataset {repo_id!r} is not (fully) in the local cache {local} and HF_HUB_OFFLINE is set "
            "(offline); download it once with network access or unset HF_HUB_OFFLINE"
        )
    import httpx
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        revision = revision or safe_revision(repo_id)
        snapshot_download(
            repo_id, repo_type="dataset", revision=revision, local_dir=local, allow_patterns="meta/**"
        )
        load_info(local)  # fails early (e.g. v2.1) before the large files come
        meta = DatasetMeta.load(local, repo_id=repo_id)
        patterns = None if episodes is None else _needed_files(meta, episodes)
        snapshot_download(
            repo_id, repo_type="dataset", revision=revision, local_dir=local, allow_patterns=patterns
        )
    except RepositoryNotFoundError as e:
        raise DatasetFileError(f"no dataset {repo_id!r} on the Hub (or no access to it): {e}") from e
    except RevisionNotFoundError as e:
        raise DatasetFileError(f"dataset {repo_id!r} has no revision {revision!r} on the Hub: {e}") from e
    except HfHubHTTPError as e:
        raise DatasetFileError(f"downloading dataset {repo_id!r} (revision {revision!r}) failed: {e}") from e
    except DatasetError:
        raise
    except (httpx.TransportError, OSError) as e:  # DNS, refused connection, timeout, proxy: no network
        raise DatasetFileError(
            f"the Hugging Face Hub could not be reached for dataset {repo_id!r} (no network? "
            f"{type(e).__name__}: {e}); check the connection, or set HF_HUB_OFFLINE=1 to use the local cache"
        ) from e
    return local

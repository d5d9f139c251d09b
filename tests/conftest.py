"""Shared test fixtures: the LeRobot-written compatibility fixtures live in ../shared/fixtures."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"compatibility fixtures not found at {path}: the tests expect the read-only "
            f"'shared' folder beside the repository (../shared/fixtures from {REPO_ROOT})",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """Root of ../shared/fixtures (fails clearly when the folder is missing)."""
    return _require(SHARED_FIXTURES)


@pytest.fixture(scope="session")
def dataset_fixtures(shared_fixtures: Path) -> Path:
    return _require(shared_fixtures / "datasets")


@pytest.fixture(scope="session")
def policy_fixtures(shared_fixtures: Path) -> Path:
    return _require(shared_fixtures / "policies")


@pytest.fixture(scope="session")
def sample_lerobot_home(tmp_path_factory) -> Path:
    """A temporary HF_LEROBOT_HOME holding `data.sample_dataset()`, built once per test session;
    set it with `monkeypatch.setenv("HF_LEROBOT_HOME", str(sample_lerobot_home))`."""
    from lerobot_fn.data import lerobot_home, sample_dataset
    from lerobot_fn.data.sample import sample_root

    home = tmp_path_factory.mktemp("lerobot_home")
    sample_dataset(root=home / sample_root().relative_to(lerobot_home()))
    return home


@pytest.fixture(scope="session")
def sample_dataset_root(sample_lerobot_home) -> Path:
    """The root of `data.sample_dataset()` inside `sample_lerobot_home` (treat it as read-only)."""
    from lerobot_fn.data import lerobot_home
    from lerobot_fn.data.sample import sample_root

    return sample_lerobot_home / sample_root().relative_to(lerobot_home())


@pytest.fixture
def fake_hub(monkeypatch):
    """The Hub's network boundary stood in for: the real huggingface_hub client talks to an in-process
    fake Hub (tests/hub_standin.py) that keeps repos, files and tags; yields it."""
    from hub_standin import serve

    yield from serve(monkeypatch)

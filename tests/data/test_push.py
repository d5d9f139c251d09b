"""dataset push against a stand-in Hub: the real huggingface_hub client talks HTTP to an
in-process fake (tests/hub_standin.py) that keeps repos, files and tags."""

import shutil

import pytest

from lerobot_fn.data.push import push


def test_push_uploads_files_card_and_version_tag(tmp_path, dataset_fixtures, fake_hub):
    root = tmp_path / "ds"
    shutil.copytree(dataset_fixtures / "pusht_mini", root)
    (root / ".staging").mkdir(mode=0o755)
    (root / ".staging" / "junk.mp4").write_bytes(b"x")
    url = push(root, "me/pusht_mini")
    assert "me/pusht_mini" in url
    repo = fake_hub.repos["me/pusht_mini"]
    assert repo["type"] == "dataset"
    local = {
        str(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and ".staging" not in p.parts
    }
    uploaded = {k: v for k, v in repo["files"].items() if k != "README.md"}
    assert uploaded == local  # every dataset file, byte for byte, and no staging leftovers
    card = repo["files"]["README.md"].decode()
    assert card.startswith("---\nlicense: apache-2.0\ntask_categories:\n- robotics\ntags:\n- LeRobot")
    assert '"codebase_version": "v3.0"' in card and "data_files: data/*/*.parquet" in card
    assert fake_hub.tags["me/pusht_mini"] == ["v3.0"]


def test_push_refuses_empty_dataset(tmp_path, fake_hub):
    from lerobot_fn import data
    from lerobot_fn.data.errors import DatasetError

    feats = {"action": {"dtype": "float32", "shape": (2,), "names": None}}
    data.create(tmp_path / "empty", fps=10, features=feats).finalize()
    with pytest.raises(DatasetError, match="no episodes"):
        push(tmp_path / "empty", "me/empty")
    assert fake_hub.requests == []

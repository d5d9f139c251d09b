"""dataset push against a stand-in Hub: the real huggingface_hub client talks HTTP to an
in-process fake (httpx2.MockTransport via `set_client_factory`) that keeps repos, files and tags."""

import base64
import json
import shutil

import httpx2
import pytest
from huggingface_hub.utils import _http

from lerobot_fn.data.push import push


class FakeHub:
    """Just enough of the Hub's HTTP API for create_repo, upload_file/folder and create_tag."""

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.tags: dict[str, list[str]] = {}
        self.requests: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if path == "/api/repos/create":
            body = json.loads(request.content)
            repo = (
                f"{body.get('organization') or 'user'}/{body['name']}"
                if "/" not in body["name"]
                else body["name"]
            )
            self.repos.setdefault(
                repo, {"type": body.get("type"), "private": body.get("private"), "files": {}}
            )
            return httpx2.Response(200, json={"url": f"https://huggingface.co/datasets/{repo}", "name": repo})
        if path == "/api/validate-yaml":  # the client checks README.md metadata before committing it
            return httpx2.Response(200, json={"errors": [], "warnings": []})
        parts = path.split("/")  # /api/datasets/<org>/<name>/<action>/<revision>
        if len(parts) >= 6 and parts[1] == "api" and parts[2] == "datasets":
            repo, action = f"{parts[3]}/{parts[4]}", parts[5]
            if repo not in self.repos:
                return httpx2.Response(404, json={"error": "Repository not found"})
            if action == "preupload":
                files = json.loads(request.content)["files"]
                return httpx2.Response(
                    200,
                    json={
                        "files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                        ]
                    },
                )
            if action == "commit":
                for line in request.content.decode().splitlines():
                    item = json.loads(line)
                    if item["key"] == "file":
                        v = item["value"]
                        self.repos[repo]["files"][v["path"]] = base64.b64decode(v["content"])
                return httpx2.Response(
                    200,
                    json={
                        "commitUrl": f"https://huggingface.co/datasets/{repo}/commit/abc",
                        "commitOid": "a" * 40,
                    },
                )
            if action == "tag":
                self.tags.setdefault(repo, []).append(json.loads(request.content)["tag"])
                return httpx2.Response(200, json={})
        return httpx2.Response(404, json={"error": f"stand-in has no route for {request.method} {path}"})


@pytest.fixture
def fake_hub(monkeypatch):
    hub = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_for_tests")
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub)))
    yield hub
    _http.set_client_factory(_http.default_client_factory)


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

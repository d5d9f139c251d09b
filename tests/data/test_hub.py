"""Hub download and streaming, against a local stand-in for the Hub's HTTP API.

The code under test calls the real `huggingface_hub` functions (snapshot_download,
hf_hub_download, HfApi.list_repo_refs); only the network peer is replaced: a small HTTP server
that serves fixture datasets at the endpoints those functions use, and records each request.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import urllib.parse
from pathlib import Path

import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import DatasetFileError

SHA = "0123456789abcdef0123456789abcdef01234567"


class _Hub(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, repos: dict[str, tuple[Path, list[str]]]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.repos = repos  # repo_id -> (local root, tags)
        self.requests: list[tuple[str, str]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def files(self, repo_id: str) -> list[str]:
        root = self.repos[repo_id][0]
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Hub

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, obj, head=False):
        self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json"}, head)

    def _not_found(self, code: str, head=False):
        self._send(404, b'{"error": "not found"}', {"X-Error-Code": code, "X-Error-Message": code}, head)

    def _route(self, head: bool):
        path = urllib.parse.urlparse(self.path).path
        self.server.requests.append((self.command, urllib.parse.unquote(path)))
        parts = urllib.parse.unquote(path).strip("/").split("/")
        if parts[:2] == ["api", "datasets"]:
            repo_id = "/".join(parts[2:4])
            if repo_id not in self.server.repos:
                return self._not_found("RepoNotFound", head)
            root, tags = self.server.repos[repo_id]
            rest = parts[4:]
            if rest == ["refs"]:
                return self._json(
                    {
                        "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": SHA}],
                        "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": SHA} for t in tags],
                        "converts": [],
                    },
                    head,
                )
            if rest[:1] == ["revision"]:
                if rest[1] not in ("main", SHA, *tags):
                    return self._not_found("RevisionNotFound", head)
                siblings = [{"rfilename": f} for f in self.server.files(repo_id)]
                return self._json({"id": repo_id, "sha": SHA, "siblings": siblings, "private": False}, head)
            if rest[:1] == ["tree"]:
                entries = []
                for f in self.server.files(repo_id):
                    blob = (root / f).read_bytes()
                    oid = hashlib.sha1(blob).hexdigest()
                    entries.append({"type": "file", "oid": oid, "size": len(blob), "path": f})
                return self._json(entries, head)
        if parts[:1] == ["datasets"] and "resolve" in parts:
            k = parts.index("resolve")
            repo_id, rev, rel = "/".join(parts[1:k]), parts[k + 1], "/".join(parts[k + 2 :])
            if repo_id not in self.server.repos:
                return self._not_found("RepoNotFound", head)
            root, tags = self.server.repos[repo_id]
            if rev not in ("main", SHA, *tags):
                return self._not_found("RevisionNotFound", head)
            f = root / rel
            if not f.is_file():
                return self._not_found("EntryNotFound", head)
            blob = f.read_bytes()
            etag = hashlib.sha1(blob).hexdigest()
            return self._send(200, blob, {"X-Repo-Commit": SHA, "ETag": f'"{etag}"'}, head)
        return self._send(404, b"unknown endpoint")

    def do_GET(self):
        self._route(head=False)

    def do_HEAD(self):
        self._route(head=True)


@pytest.fixture
def hub(dataset_fixtures, tmp_path, monkeypatch):
    """A stand-in Hub serving the fixtures as `lerobot/pusht_mini` (tag v3.0) and friends."""
    import huggingface_hub.constants as c

    server = _Hub(
        {
            "lerobot/pusht_mini": (dataset_fixtures / "pusht_mini", ["v2.1", "v3.0"]),
            "lerobot/aloha_sim_mini": (dataset_fixtures / "aloha_sim_mini", []),
            "lerobot/images_inline_mini": (dataset_fixtures / "images_inline_mini", ["v3.0"]),
        }
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setattr(c, "ENDPOINT", server.endpoint)
    monkeypatch.setattr(
        c, "HUGGINGFACE_CO_URL_TEMPLATE", server.endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "lerobot_home"))
    yield server
    server.shutdown()
    server.server_close()


def _downloads(server):
    return sorted(
        {
            p.split("/resolve/", 1)[1].split("/", 1)[1]
            for m, p in server.requests
            if "/resolve/" in p and m == "GET"
        }
    )


def test_open_repo_id_downloads_into_lerobot_home_and_matches_local(hub, dataset_fixtures, tmp_path):
    ds = data.open("lerobot/pusht_mini")
    assert ds.root == tmp_path / "lerobot_home" / "lerobot/pusht_mini"
    assert ("GET", "/api/datasets/lerobot/pusht_mini/refs") in hub.requests
    # revision: the codebase-version tag
    assert ("GET", "/api/datasets/lerobot/pusht_mini/revision/v3.0") in hub.requests
    local = data.open(dataset_fixtures / "pusht_mini")
    assert len(ds) == len(local) == 108
    assert (ds[50] == local[50]).all()


def test_untagged_repo_falls_back_to_main(hub):
    ds = data.open("lerobot/aloha_sim_mini")
    assert len(ds) == 130
    assert ("GET", "/api/datasets/lerobot/aloha_sim_mini/revision/main") in hub.requests


def test_episodes_subset_downloads_only_needed_files(hub, dataset_fixtures):
    ds = data.open("lerobot/images_inline_mini", episodes=[2])
    got = _downloads(hub)
    assert "data/chunk-001/file-000.parquet" in got
    assert "data/chunk-000/file-000.parquet" not in got and "data/chunk-000/file-001.parquet" not in got
    assert len(ds) == 14 and set(ds._tensors["episode_index"].tolist()) == {2}


def test_cached_dataset_is_reused_without_network_and_offline_works(hub, monkeypatch):
    data.open("lerobot/pusht_mini")
    n = len(hub.requests)
    data.open("lerobot/pusht_mini")
    assert len(hub.requests) == n  # already complete locally: no request at all
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ds = data.open("lerobot/pusht_mini", delta_timestamps={"action": [0.0, 0.1]})
    assert len(hub.requests) == n and ds[0]["action"].shape == (2, 2)


def test_offline_without_cache_says_so(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetFileError, match=r"lerobot/aloha_sim_mini.*HF_HUB_OFFLINE"):
        data.open("lerobot/aloha_sim_mini")
    assert hub.requests == []


def test_unknown_repo_and_revision_are_clear_errors(hub):
    with pytest.raises(DatasetFileError, match=r"no dataset 'lerobot/nope'"):
        data.open("lerobot/nope")
    with pytest.raises(DatasetFileError, match=r"no revision 'v9\.9'"):
        data.open("lerobot/pusht_mini", revision="v9.9")


def test_explicit_root_is_used(hub, tmp_path):
    ds = data.open("lerobot/pusht_mini", root=tmp_path / "mine")
    assert ds.root == tmp_path / "mine" and (tmp_path / "mine/meta/info.json").is_file()


def test_streaming_fetches_files_lazily_and_yields_every_frame(hub, dataset_fixtures):
    s = data.stream("lerobot/images_inline_mini", shuffle=True, seed=3)
    assert _downloads(hub) and all(f.startswith("meta/") for f in _downloads(hub))
    it = iter(s)
    first = next(it)
    assert len([f for f in _downloads(hub) if f.startswith("data/")]) == 1  # one data file so far
    items = [first, *it]
    assert len(items) == len(s) == 57
    assert sorted(int(td["index"]) for td in items) == list(range(57))
    local = data.open(dataset_fixtures / "images_inline_mini")
    td = next(t for t in items if int(t["index"]) == 20)
    assert torch.equal(td["observation", "images", "cam"], local[20]["observation", "images", "cam"])


def test_streaming_through_loader_with_workers(hub):
    s = data.stream("lerobot/pusht_mini", delta_timestamps={"action": [0.0, 0.1, 0.2]}, shuffle=False)
    batches = list(data.loader(s, batch_size=10, num_workers=2))
    assert sum(b.batch_size[0] for b in batches) == 108
    b = batches[0]
    assert b["action"].shape == (10, 3, 2) and b["action_is_pad"].shape == (10, 3)
    assert b["observation", "image"].shape == (10, 3, 96, 96)


@pytest.mark.parametrize("typo", ["datasets/pusht_mnii", "lerobot/pusht_mnii"])
def test_a_mistyped_local_path_names_the_directory_and_why_the_hub_lookup_failed(hub, tmp_path, monkeypatch, typo):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / typo
    with pytest.raises(DatasetFileError, match=f"no local dataset directory {missing}, and the Hub lookup "
                                               f"of '{typo}' failed: no dataset '{typo}' on the Hub"):
        data.open(typo)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetFileError, match=f"no local dataset directory {missing},.*HF_HUB_OFFLINE is set"):
        data.open(typo)


def test_no_network_is_a_dataset_error_not_a_raw_http_error(hub, tmp_path, monkeypatch):
    import huggingface_hub.constants as c

    dead = "http://127.0.0.1:9"  # nothing listens on the discard port: connection refused
    monkeypatch.setattr(c, "ENDPOINT", dead)
    monkeypatch.setenv("HF_ENDPOINT", dead)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetFileError, match=r"no local dataset directory .*datasets/pusht_mnii, and the Hub "
                                               r"lookup of 'datasets/pusht_mnii' failed: the Hugging Face Hub "
                                               r"could not be reached .*no network\?"):
        data.open("datasets/pusht_mnii")


def test_a_path_that_is_not_a_repo_id_names_the_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetFileError, match=f"no dataset directory at {tmp_path / 'pusht_mnii'}: it does not exist"):
        data.open("pusht_mnii")
    with pytest.raises(DatasetFileError, match=f"no dataset directory at {tmp_path / 'notes.txt'}: it is not a directory"):
        data.open("notes.txt")

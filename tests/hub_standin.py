"""A stand-in for the Hub's network boundary: the real huggingface_hub client talks HTTP to an
in-process fake (httpx2.MockTransport via `set_client_factory`) that keeps repos, files and tags.
Tests use it through the `fake_hub` fixture (tests/conftest.py); `hub.fail_with = 503` makes every
request fail with that status (the network or the Hub down)."""

import base64
import json

import httpx2
from huggingface_hub.utils import _http


class FakeHub:
    """Just enough of the Hub's HTTP API for create_repo, upload_file/folder and create_tag."""

    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.tags: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.fail_with: int | None = None

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if self.fail_with is not None:
            return httpx2.Response(self.fail_with, json={"error": "the stand-in Hub is down"})
        if path == "/api/repos/create":
            body = json.loads(request.content)
            repo = (
                f"{body.get('organization') or 'user'}/{body['name']}"
                if "/" not in body["name"]
                else body["name"]
            )
            private = body.get("visibility") == "private" or body.get("private") is True  # newer / older clients
            self.repos.setdefault(repo, {"type": body.get("type"), "private": private, "files": {}})
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


def serve(monkeypatch):
    """Route the real client's HTTP to a fresh FakeHub until the generator ends (a fixture's body)."""
    hub = FakeHub()
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token_for_tests")
    _http.set_client_factory(lambda: httpx2.Client(transport=httpx2.MockTransport(hub)))
    yield hub
    _http.set_client_factory(_http.default_client_factory)

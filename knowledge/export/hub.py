"""Pushing an hf export folder to the Hugging Face Hub with huggingface_hub's HfApi.

The token comes from `HF_TOKEN` and is handed to HfApi only: it is never logged nor put in a
message. `HF_ENDPOINT` (read when the push starts) points at another Hub, such as a local
stand-in in the tests. The Hub copy is outside tacit's reach: erasure rewrites the local
folder, and the operator pushes it again.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.export.options import ExportError

log = logging.getLogger(__name__)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


@dataclass(frozen=True)
class Pushed:
    repo_id: str
    url: str  # the dataset's page
    commit_url: str
    files: int


def push_folder(folder: Path, repo_id: str, *, private: bool = False) -> Pushed:
    """Create the dataset repo (if new) and upload the folder to it as one commit.

    Blocking (HTTP): call it in a thread from async code. Raises ExportError, in one line.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if not REPO_ID.match(repo_id):
        raise ExportError(f"push-to-hub: {repo_id!r} is not ORG/NAME")
    token = os.environ.get("HF_TOKEN", "").strip()
    if not token:
        raise ExportError("push-to-hub: set HF_TOKEN to a Hugging Face token with write access")
    if not (folder / "README.md").is_file():
        raise ExportError(f"push-to-hub: {folder} is not an hf export folder (no README.md)")
    files = [p for p in folder.rglob("*") if p.is_file()]
    api = HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)
    try:
        repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=folder,
            commit_message=f"tacit export: {folder.name}",
        )
    except OfflineModeIsEnabled:
        raise ExportError("push-to-hub: HF_HUB_OFFLINE is set; unset it to push") from None
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else "no answer"
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExportError(f"push-to-hub {repo_id}: the Hub said {status}: {first}") from None
    except (OSError, ValueError) as e:  # connection refused, bad endpoint, card refused
        raise ExportError(f"push-to-hub {repo_id}: {type(e).__name__}: {e}") from None
    log.info("pushed %d files to %s (%s)", len(files), repo_id, info.commit_url)
    return Pushed(repo_id, str(repo), info.commit_url, len(files))

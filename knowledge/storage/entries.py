"""What an entry's row owes the vector index: its document, metadata, hash and stored vector.

`content_hash` is what Chroma must hold for an entry; it is recomputed by a mapper event on
every insert and update of an Entry, so no caller can forget it, and the outbox indexes every
entry whose `content_hash` differs from `indexed_hash`. `set_vector` is the one way to give an
entry its vector.
"""

from __future__ import annotations

import hashlib

import numpy as np
from sqlalchemy import event

from knowledge.storage.models import Entry
from knowledge.vocab import EntryStatus


def index_guild(guild_id: int | None) -> str:
    """A server as Chroma's metadata holds it (no None there): its id, or "" for none."""
    return "" if guild_id is None else str(guild_id)


def index_metadata(entry: Entry) -> dict[str, str | int | bool]:
    return {
        "guild": index_guild(entry.guild_id),
        "expert_id": entry.expert_id,
        "interview_id": entry.interview_id,
        "guide": entry.guide_slug,
        "step": entry.step_id,
        "probe": entry.probe,
        "status": str(entry.status),
        "edited": entry.edited_answer is not None or entry.edited_question is not None,
        "corrected": entry.corrected_answer is not None,
    }


def index_document(entry: Entry) -> str:
    return f"{entry.final_question}\n\n{entry.final_answer}"


def content_hash(entry: Entry) -> str:
    """What Chroma must hold for this entry; changes when status, edits or the vector change."""
    h = hashlib.sha256()
    for part in (index_document(entry), repr(sorted(index_metadata(entry).items()))):
        h.update(part.encode())
        h.update(b"\0")
    h.update(entry.embedding or b"")
    return h.hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)


def set_vector(entry: Entry, vector: np.ndarray | None, model: str | None) -> None:
    """Store the vector of the entry's final answer, or clear it (None) so the indexer makes
    it later; either way the entry is owed to Chroma again."""
    if vector is None:
        entry.embedding = entry.embedding_model = None
    else:
        entry.embedding, entry.embedding_model = to_bytes(vector), model


@event.listens_for(Entry, "before_insert")
@event.listens_for(Entry, "before_update")
def _rehash(_mapper, _connection, entry: Entry) -> None:
    if entry.status is None:  # the column default, known before the INSERT for the hash
        entry.status = EntryStatus.pending
    entry.content_hash = content_hash(entry)

"""The vector side: sentence embeddings, Chroma as an index keyed by entry ids, and the outbox.

SQL is the truth; everything here can be rebuilt from it (the vectors are stored in SQL too).
"""

from knowledge.index.embeddings import (
    BatchingEmbedder,
    EmbeddingError,
    Encoder,
    SentenceTransformerEncoder,
)
from knowledge.index.outbox import Indexer, SyncResult
from knowledge.index.vectors import Hit, IndexItem, IndexUnavailable, VectorIndex

__all__ = [
    "BatchingEmbedder",
    "EmbeddingError",
    "Encoder",
    "Hit",
    "IndexItem",
    "IndexUnavailable",
    "Indexer",
    "SentenceTransformerEncoder",
    "SyncResult",
    "VectorIndex",
]

"""tacit's core: interviews, storage, review and datasets, with no Discord code."""

__version__ = "0.1.0"

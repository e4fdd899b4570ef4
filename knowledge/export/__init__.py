"""Fine-tuning datasets from reviewed entries: select, drop near-duplicates, scrub, split, write.

An export reads SQL twice, never holding texts for the whole selection:
1. a scan of small columns (ids, lengths, flags) in keyset pages (`select`), then every
   entry's stored vector (`vectors`: Chroma first, SQL's copy where Chroma lacks it; nothing
   is re-encoded), to find near-duplicates (`dedupe`) and to split by interview (`split`);
2. the texts, a group of whole interviews at a time, turned into examples (`build`) and
   written line by line (`formats`). Personal data is looked for in worker processes on large
   exports (`scrub`) while the previous group is written; CPU work never runs on the event
   loop, so the Discord bot can await an export.

Experts who never consented are never read; experts who withdrew are gone from SQL. Every
export is recorded (`registry`), so that erasure can take words out of the files already
written (`erase`).
"""

from knowledge.export.options import ExportError, ExportOptions, ExportReport, Progress
from knowledge.export.pipeline import Plan, count_selected, default_out, export, export_from
from knowledge.export.registry import ExportRecord, ExportRegistry, Post, Purge

__all__ = [
    "ExportError",
    "ExportOptions",
    "ExportRecord",
    "ExportRegistry",
    "ExportReport",
    "Plan",
    "Post",
    "Progress",
    "Purge",
    "count_selected",
    "default_out",
    "export",
    "export_from",
]

"""The streaming writers: JSONL files per split, or a Hugging Face folder of parquet files."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.export.card import dataset_card
from knowledge.export.formats import Example, jsonl_paths, provenance_path, record

if TYPE_CHECKING:
    from knowledge.export.card import CardInfo
    from knowledge.export.options import ExportReport

log = logging.getLogger(__name__)


try:  # orjson (a chromadb dependency) writes UTF-8 lines several times faster than json
    import orjson

    def _line(obj: Any) -> bytes:
        return orjson.dumps(obj) + b"\n"

except ImportError:  # pragma: no cover

    def _line(obj: Any) -> bytes:
        return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


class JsonlWriter:
    """openai, sharegpt and alpaca: one JSON object a line, one file per split."""

    def __init__(self, fmt: str, out: Path, splits: list[str]):
        self.fmt = fmt
        self.paths = jsonl_paths(out, splits)
        self.paths["provenance"] = provenance_path(fmt, out)
        for p in self.paths.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = {k: p.with_name(p.name + ".part") for k, p in self.paths.items()}
        self._files = {k: open(p, "wb") for k, p in self._tmp.items()}  # noqa: SIM115

    def write(self, ex: Example) -> bool:
        rec = record(self.fmt, ex)
        if rec is None:
            return False
        self._files[ex.split].write(_line(rec))
        self._files["provenance"].write(_line(ex.provenance))
        return True

    def commit(self, report: ExportReport) -> list[Path]:
        for f in self._files.values():
            f.close()
        for k, tmp in self._tmp.items():
            os.replace(tmp, self.paths[k])
        return list(self.paths.values())

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


class HfWriter:
    """A Hugging Face dataset folder: data/<split>-00000-of-00001.parquet, README.md (the card
    with its YAML header) and provenance.jsonl. Built in a sibling temporary folder."""

    GROUP_BYTES = 8 << 20  # text buffered per split before it becomes a parquet row group

    def __init__(self, out: Path, splits: list[str], card: CardInfo):
        import pyarrow as pa

        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} already exists and is not an empty folder")
        self.out = out
        self.splits = splits
        self.card = card
        out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        (self.tmp / "data").mkdir()
        message = pa.struct([("role", pa.string()), ("content", pa.string())])
        self.schema = pa.schema(
            [
                ("id", pa.string()),
                ("kind", pa.string()),
                ("guide", pa.string()),
                ("profession", pa.string()),
                ("probes", pa.list_(pa.string())),
                ("messages", pa.list_(message)),
            ]
        )
        self._rows: dict[str, list[dict]] = {s: [] for s in splits}
        self._bytes: dict[str, int] = dict.fromkeys(splits, 0)
        self._writers: dict[str, Any] = {}
        self._prov = open(self.tmp / "provenance.jsonl", "wb")  # noqa: SIM115
        self.counts: dict[str, int] = Counter()

    def _file(self, split: str) -> Path:
        return self.tmp / "data" / f"{split}-00000-of-00001.parquet"

    def write(self, ex: Example) -> bool:
        self._rows[ex.split].append(record("hf", ex))
        self._prov.write(_line(ex.provenance))
        self.counts[ex.split] += 1
        self._bytes[ex.split] += sum(len(m.content) for m in ex.messages)
        if self._bytes[ex.split] >= self.GROUP_BYTES:
            self._flush(ex.split)
        return True

    def _flush(self, split: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self._rows[split]
        if not rows:
            return
        if split not in self._writers:
            self._writers[split] = pq.ParquetWriter(self._file(split), self.schema)
        self._writers[split].write_table(pa.Table.from_pylist(rows, schema=self.schema))
        rows.clear()
        self._bytes[split] = 0

    def commit(self, report: ExportReport) -> list[Path]:
        import pyarrow.parquet as pq

        for split in self.splits:
            self._flush(split)
            if split not in self._writers:  # an empty split still gets its (empty) file
                pq.ParquetWriter(self._file(split), self.schema).close()
        for w in self._writers.values():
            w.close()
        self._prov.close()
        (self.tmp / "README.md").write_text(dataset_card(self.card, report), encoding="utf-8")
        if self.out.exists():
            self.out.rmdir()  # checked empty in __init__
        os.replace(self.tmp, self.out)
        files = [self.out / "README.md", self.out / "provenance.jsonl"]
        return files + [self.out / "data" / self._file(s).name for s in self.splits]

    def abort(self) -> None:
        for w in self._writers.values():
            w.close()
        self._prov.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def open_writer(fmt: str, out: Path, splits: list[str], card: CardInfo):
    """The writer of `fmt`: a folder for hf, JSONL files for the others."""
    if fmt == "hf":
        return HfWriter(out, splits, card)
    return JsonlWriter(fmt, out, splits)

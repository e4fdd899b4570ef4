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

from knowledge.export.card import HF_FILE, dataset_card, hf_schema
from knowledge.export.formats import Example, jsonl_paths, provenance_path, record
from knowledge.export.trainers import hf_data, trainer_files

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
        self.out = out
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
        data = {k: p for k, p in self.paths.items() if k != "provenance"}
        extra = write_trainer_files(self.fmt, self.out, data, self.out.parent)
        for k, tmp in self._tmp.items():
            os.replace(tmp, self.paths[k])
        return list(self.paths.values()) + extra

    def abort(self) -> None:
        for f in self._files.values():
            f.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)


class HfWriter:
    """A Hugging Face dataset folder: data/<config>/<split>-00000-of-00001.parquet (config
    `single`, the default, and `multi`), README.md (the card with its YAML header) and
    provenance.jsonl. Built in a sibling temporary folder."""

    GROUP_BYTES = 8 << 20  # text buffered per part before it becomes a parquet row group

    def __init__(self, out: Path, splits: list[str], card: CardInfo):
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise FileExistsError(f"{out} already exists and is not an empty folder")
        self.out = out
        self.card = card
        self.parts = card.parts()
        out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        for config in card.configs:
            (self.tmp / "data" / config).mkdir(parents=True)
        self.schema = hf_schema()
        self._rows: dict[str, list[dict]] = {p: [] for p in self.parts}
        self._bytes: dict[str, int] = dict.fromkeys(self.parts, 0)
        self._writers: dict[str, Any] = {}
        self._prov = open(self.tmp / "provenance.jsonl", "wb")  # noqa: SIM115
        self.counts: dict[str, int] = Counter()
        self.nbytes: dict[str, int] = Counter()
        self.licences: set[str] = set()

    def _file(self, part: str) -> Path:
        return self.tmp / HF_FILE.format(part=part)

    def write(self, ex: Example) -> bool:
        part = f"{ex.kind}/{ex.split}"
        row = record("hf", ex)
        self._rows[part].append(row)
        self.licences.add(row["licence"])
        self._prov.write(_line(ex.provenance))
        self.counts[part] += 1
        self._bytes[part] += sum(len(m.content) for m in ex.messages)
        if self._bytes[part] >= self.GROUP_BYTES:
            self._flush(part)
        return True

    def _flush(self, part: str) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = self._rows[part]
        if not rows:
            return
        if part not in self._writers:
            self._writers[part] = pq.ParquetWriter(self._file(part), self.schema)
        table = pa.Table.from_pylist(rows, schema=self.schema)
        self.nbytes[part] += table.nbytes  # what datasets' ArrowWriter counts as num_bytes
        self._writers[part].write_table(table)
        rows.clear()
        self._bytes[part] = 0

    def commit(self, report: ExportReport) -> list[Path]:
        import pyarrow.parquet as pq

        for part in self.parts:
            self._flush(part)
            if part not in self._writers:  # an empty split still gets its (empty) file
                pq.ParquetWriter(self._file(part), self.schema).close()
        for w in self._writers.values():
            w.close()
        self._prov.close()
        report.parts.update(self.counts)
        report.part_bytes.update(self.nbytes)
        for part in self.parts:
            report.part_size[part] = self._file(part).stat().st_size
        if len(self.licences) > 1:
            self.card.licences = sorted(self.licences)
        card = dataset_card(self.card, report)
        (self.tmp / "README.md").write_text(str(card), encoding="utf-8")
        extra = write_trainer_files("hf", self.out, hf_data(self.out, self.parts), self.tmp)
        if self.out.exists():
            self.out.rmdir()  # checked empty in __init__
        os.replace(self.tmp, self.out)
        files = [self.out / "README.md", self.out / "provenance.jsonl"]
        return files + [self.out / HF_FILE.format(part=p) for p in self.parts] + extra

    def abort(self) -> None:
        for w in self._writers.values():
            w.close()
        self._prov.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_trainer_files(fmt: str, out: Path, data: dict[str, Path], into: Path) -> list[Path]:
    """The LLaMA-Factory and Axolotl files of an export, written (for hf, into the temporary
    folder `into` that becomes `out`); their final paths."""
    base = out if fmt == "hf" else out.parent
    name = out.name.removesuffix(".jsonl")
    written = []
    for path, text in trainer_files(fmt, out, data, name).items():
        target = into / path.relative_to(base)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
        written.append(path)
    return written


def open_writer(fmt: str, out: Path, splits: list[str], card: CardInfo):
    """The writer of `fmt`: a folder for hf, JSONL files for the others."""
    if fmt == "hf":
        return HfWriter(out, splits, card)
    return JsonlWriter(fmt, out, splits)

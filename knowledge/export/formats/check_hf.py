"""Checks a Hugging Face dataset folder: its card as huggingface_hub and datasets read it, every
row under OpenAI's and TRL's rules, and `load_dataset` on every config without a warning."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from pathlib import Path

from knowledge.export.formats.rules import (
    _TRL,
    Problem,
    check_openai,
    token_counter,
    trl_available,
)

log = logging.getLogger(__name__)


def check_hf(folder: Path, *, max_tokens: int, trl: bool | None) -> list[Problem]:
    import pyarrow.parquet as pq

    readme = folder / "README.md"
    if not readme.is_file():
        return [Problem(0, "no README.md (the dataset card)")]
    with datasets_warnings() as warned:
        problems, configs = check_card(readme)
    problems += warned_problems(warned)
    if any(p.message.startswith("README.md: huggingface_hub cannot") for p in problems):
        return problems
    files = sorted((folder / "data").glob("**/*.parquet"))
    if not files:
        return [*problems, Problem(0, "no parquet files under data/")]
    use_trl = trl_available() if trl is None else trl
    checker = _TRL() if use_trl else None
    tokens = token_counter()
    for file in files:
        name = file.relative_to(folder / "data").as_posix()
        row_no = 0
        for batch in pq.ParquetFile(file).iter_batches(batch_size=2000, columns=["id", "messages"]):
            for row in batch.to_pylist():
                row_no += 1
                obj = {"messages": row["messages"]}
                found = [] if row["id"] else ["the row has no id"]
                found += check_openai(obj, tokens, max_tokens)
                if not found and checker is not None:
                    found = checker.check("openai", obj)
                problems.extend(Problem(row_no, f"{name}: {m}") for m in found)
    return problems + load_cleanly(folder, configs)


def check_card(readme: Path) -> tuple[list[Problem], list[str]]:
    """The card as huggingface_hub and datasets read it: its YAML header parses into a
    DatasetCardData (strictly), has the keys the Hub shows, and every config's dataset_info
    has its features and, per split, num_bytes and num_examples. Returns the config names."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    try:
        card = DatasetCard(readme.read_text(encoding="utf-8"), ignore_metadata_errors=False)
    except Exception as e:
        return [Problem(0, f"README.md: huggingface_hub cannot read the card: {e}")], []
    data = card.data.to_dict()
    problems = [
        Problem(0, f"README.md YAML header has no '{key}'")
        for key in ("license", "language", "size_categories", "annotations_creators", "configs")
        if not data.get(key)
    ]
    try:
        configs = list(MetadataConfigs.from_dataset_card_data(card.data))
    except ValueError as e:
        return [*problems, Problem(0, f"README.md configs: {e}")], []
    infos = data.get("dataset_info")
    infos = [infos] if isinstance(infos, dict) else infos or []
    if not infos:
        problems.append(Problem(0, "README.md YAML header has no 'dataset_info'"))
    for info in infos:
        name = info.get("config_name", "default")
        if not info.get("features"):
            problems.append(Problem(0, f"dataset_info of {name!r} has no features"))
        for split in info.get("splits") or [{}]:
            missing = [k for k in ("name", "num_bytes", "num_examples") if k not in split]
            if missing:
                problems.append(
                    Problem(0, f"dataset_info of {name!r}: a split has no {', '.join(missing)}")
                )
    if {i.get("config_name", "default") for i in infos} != set(configs):
        problems.append(Problem(0, "dataset_info and configs name different configs"))
    DatasetInfosDict.from_dataset_card_data(card.data)  # as load_dataset reads it
    return problems, configs


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def datasets_warnings():
    """The warnings `datasets` logs meanwhile (its loggers are all under "datasets")."""
    caught = _Warnings()
    logger = logging.getLogger("datasets")
    logger.addHandler(caught)
    try:
        yield caught.messages
    finally:
        logger.removeHandler(caught)


def warned_problems(messages: list[str]) -> list[Problem]:
    return [
        Problem(0, f"datasets warned: {m.splitlines()[0][:300]}") for m in dict.fromkeys(messages)
    ]


def load_cleanly(folder: Path, configs: list[str]) -> list[Problem]:
    """`datasets.load_dataset` on every config: an error, or any warning datasets logs while
    loading (such as "Ignoring part of dataset_info"), is a problem."""
    import datasets

    problems = []
    with datasets_warnings() as warned, tempfile.TemporaryDirectory() as cache_dir:
        for config in configs or [None]:
            try:
                datasets.load_dataset(str(folder), config, cache_dir=cache_dir)
            except Exception as e:
                problems.append(
                    Problem(
                        0,
                        f"datasets.load_dataset cannot load {config or 'it'}: "
                        f"{type(e).__name__}: {e}",
                    )
                )
    return problems + warned_problems(warned)

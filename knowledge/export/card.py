"""The dataset card of an hf export: huggingface_hub's DatasetCard, its header made by datasets.

The YAML header is built the way `datasets.Dataset.push_to_hub` builds it: `configs` through
`datasets.utils.metadata.MetadataConfigs` and `dataset_info` (features, and per split
`num_bytes` and `num_examples`, `download_size`, `dataset_size`) through
`datasets.DatasetInfosDict`, so `load_dataset` reads all of it without a warning. Single-turn
examples are the default config, multi-turn conversations a config of their own (`multi`),
so no split holds an answer twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from knowledge.export.options import ExportOptions, ExportReport
from knowledge.storage import iso

log = logging.getLogger(__name__)


_HF_LICENCES = {
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nd-4.0",
    "cc0-1.0",
    "mit",
    "apache-2.0",
    "odc-by",
    "odbl",
    "openrail",
    "other",
    "unknown",
}
CONFIGS = ("single", "multi")  # single-turn first: the default config
HF_FILE = "data/{part}-00000-of-00001.parquet"  # part: "<config>/<split>"


@dataclass
class CardInfo:
    title: str
    licence: str
    languages: list[str]
    how: list[str]  # how the data was made and cleaned, one sentence each
    splits: list[str]
    extra: dict[str, Any] = field(default_factory=dict)
    configs: list[str] = field(default_factory=list)  # [] only on cards written before configs
    model: str = ""  # the embedding model whose vectors found near-duplicates
    licences: list[str] = field(default_factory=list)  # of the rows, when they differ
    review: dict[str, Any] | None = None  # agreement and rubric figures, when known

    def parts(self) -> list[str]:
        """ "<config>/<split>" of every parquet file, default config first."""
        return [f"{c}/{s}" for c in self.configs for s in self.splits]


def hf_schema():
    """The parquet schema of an hf export's rows."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("id", pa.string()),
            ("kind", pa.string()),
            ("guide", pa.string()),
            ("profession", pa.string()),
            ("probes", pa.list_(pa.string())),
            ("licence", pa.string()),
            ("messages", pa.list_(message)),
        ]
    )


def size_category(n: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < limit:
            return label
    return "10M<n<100M"


def hub_licence(licence: str) -> str:
    lic = licence.lower()
    return lic if lic in _HF_LICENCES else "other"


def card_data(card: CardInfo, report: ExportReport):
    """The card's header as a huggingface_hub DatasetCardData."""
    from datasets import DatasetInfo, Features, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    licences = card.licences or [card.licence]
    hub = sorted({hub_licence(x) for x in licences})
    extra: dict[str, Any] = {}
    if "other" in hub:
        extra["license_name"] = ", ".join(x for x in licences if hub_licence(x) == "other")
    data = DatasetCardData(
        license=hub[0] if len(hub) == 1 else hub,
        language=card.languages or ["en"],
        annotations_creators=["expert-generated"],
        language_creators=["expert-generated"],
        multilinguality="monolingual" if len(card.languages) <= 1 else "multilingual",
        size_categories=[size_category(sum(report.parts.values()) or report.written)],
        source_datasets=["original"],
        task_categories=["text-generation"],
        pretty_name=card.title,
        tags=["tacit-knowledge", "expert-interviews", "conversational", "sft"],
        **extra,
    )
    configs = card.configs or ["default"]
    features = Features.from_arrow_schema(hf_schema())
    metadata, infos = {}, {}
    for k, config in enumerate(configs):
        parts = {s: f"{config}/{s}" if card.configs else s for s in card.splits}
        metadata[config] = {
            "data_files": [
                {"split": s, "path": HF_FILE.format(part=p).replace("-00000-of-00001", "-*")}
                for s, p in parts.items()
            ],
            **({"default": True} if k == 0 and config != "default" else {}),
        }
        splits = SplitDict(
            {
                s: SplitInfo(
                    name=s,
                    num_bytes=int(report.part_bytes.get(p, 0)),
                    num_examples=int(report.parts.get(p, 0)),
                )
                for s, p in parts.items()
            }
        )
        infos[config] = DatasetInfo(
            features=features,
            splits=splits,
            download_size=int(sum(report.part_size.get(p, 0) for p in parts.values())),
            dataset_size=int(sum(report.part_bytes.get(p, 0) for p in parts.values())),
            config_name=config,
        )
    MetadataConfigs(metadata).to_dataset_card_data(data)
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def dataset_card(card: CardInfo, report: ExportReport):
    """The whole card (a huggingface_hub DatasetCard); `str(card)` is the README.md."""
    from huggingface_hub import DatasetCard

    from knowledge.export.card_text import card_body

    data = card_data(card, report)
    return DatasetCard("---\n" + data.to_yaml() + "\n---\n\n" + card_body(card, report))


def how_it_was_made(
    opts: ExportOptions, pii: str, similarity: float, seed: int, model: str
) -> list[str]:
    how = [
        "Experts were interviewed by tacit with a guide per profession (background, task "
        "diagram, ACTA knowledge audit, a simulation, the Critical Decision Method, laddering).",
        f"Only entries with status `{opts.status}` from experts who agreed to the consent notice "
        "are included; experts who withdrew are deleted before any export and are absent.",
        "Curators' edits of a question or an answer replace the original text.",
        "A single-turn example is one entry (a standalone question and its answer); a "
        "multi-turn example is an interview's included turns in order, when it has two or more.",
    ]
    if similarity <= 1:
        how.append(
            f"Near-duplicate answers (cosine similarity >= {similarity} between stored "
            f"{model} vectors) were removed, keeping the edited, else the longest."
        )
    how.append(
        {
            "redact": "Personal data found by rules (emails, phone numbers, URLs, ID numbers, "
            "people's names) was replaced by placeholders such as [PHONE] and [PERSON]; "
            "entries a curator flagged for personal data were left out.",
            "hold": "Entries in which personal data was found, or which a curator flagged, were "
            "left out.",
            "off": "No personal-data filtering was applied.",
        }[pii]
    )
    if opts.split > 0:
        how.append(
            f"The validation split holds about {opts.split:.0%} of the entries, by whole "
            f"interviews (seed {seed}): no interview is in both splits."
        )
    filters = [
        f"{k} = {v}"
        for k, v in (("guide", opts.guide), ("expert", opts.expert), ("since", iso(opts.since)))
        if v
    ]
    if filters:
        how.append("Filters: " + ", ".join(filters) + ".")
    return how

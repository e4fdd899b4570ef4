"""The dataset card: what an export holds, how it was made, and its YAML header."""

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


@dataclass
class CardInfo:
    title: str
    licence: str
    languages: list[str]
    how: list[str]  # how the data was made and cleaned, one sentence each
    splits: list[str]
    extra: dict[str, Any] = field(default_factory=dict)


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


def card_header(card: CardInfo, counts: dict[str, int]) -> dict[str, Any]:
    lic = card.licence.lower()
    header: dict[str, Any] = {"license": lic if lic in _HF_LICENCES else "other"}
    if header["license"] == "other":
        header["license_name"] = card.licence
    header.update(
        {
            "language": card.languages or ["en"],
            "pretty_name": card.title,
            "size_categories": [size_category(sum(counts.values()))],
            "task_categories": ["text-generation"],
            "tags": ["tacit-knowledge", "expert-interviews", "conversational", "sft"],
            "configs": [
                {
                    "config_name": "default",
                    "data_files": [
                        {"split": s, "path": f"data/{s}-*.parquet"} for s in card.splits
                    ],
                }
            ],
            "dataset_info": {
                "features": [
                    {"name": "id", "dtype": "string"},
                    {"name": "kind", "dtype": "string"},
                    {"name": "guide", "dtype": "string"},
                    {"name": "profession", "dtype": "string"},
                    {"name": "probes", "list": "string"},
                    {
                        "name": "messages",
                        "list": [
                            {"name": "role", "dtype": "string"},
                            {"name": "content", "dtype": "string"},
                        ],
                    },
                ],
                "splits": [{"name": s, "num_examples": counts.get(s, 0)} for s in card.splits],
            },
        }
    )
    return header


def dataset_card(card: CardInfo, report: ExportReport) -> str:
    import yaml

    counts = dict(report.examples)
    head = yaml.safe_dump(card_header(card, counts), sort_keys=False, allow_unicode=True)
    lines = [
        "---",
        head.rstrip(),
        "---",
        "",
        f"# {card.title}",
        "",
        "Answers given by working professionals in structured interviews (tacit, an interview "
        "bot that draws out tacit knowledge), reviewed by curators and exported as chat "
        "fine-tuning data. Each example has a system message that sets the profession's "
        "persona, then the interview's question(s) and the expert's answer(s).",
        "",
        "## Fields",
        "",
        "| field | type | what it holds |",
        "|---|---|---|",
        "| `id` | string | `entry-<n>` for a single question and answer, `interview-<n>` for a "
        "multi-turn conversation; the key into `provenance.jsonl` |",
        "| `kind` | string | `single` or `multi` |",
        "| `guide` | string | the interview guide (profession) it came from |",
        "| `profession` | string | the profession, as a phrase |",
        "| `probes` | list of string | the interviewing probe behind each answer "
        "(e.g. `cdm_cues`, `job_smarts`, `concrete_instance`) |",
        "| `messages` | list of {role, content} | `system`, then `user` and `assistant` turns |",
        "",
        "## Splits",
        "",
        "| split | examples | interviews |",
        "|---|---|---|",
        *(
            f"| {s} | {report.examples.get(s, 0)} | {report.interviews.get(s, 0)} |"
            for s in card.splits
        ),
        "",
        "No interview has examples in more than one split.",
        "",
        "## Counts",
        "",
        "| profession | examples |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in sorted(report.by_profession.items())),
        "",
        "| probe type | answers |",
        "|---|---|",
        *(f"| `{k}` | {v} |" for k, v in sorted(report.by_probe.items())),
        "",
        "## How it was made",
        "",
        *(f"- {sentence}" for sentence in card.how),
        "",
        "## Provenance",
        "",
        "`provenance.jsonl` holds one line per example, keyed by `id`: the entry and interview "
        "ids, the guide and probe of each answer (for a follow-up, also the expert's phrase it "
        "asked about, `focus`), the expert's pseudonym (never a name), the "
        "consent version the expert agreed to, the licence, the curator and time of the "
        "decision, and whether a curator edited the text.",
        "",
        "## Licence",
        "",
        f"{card.licence}. Keep the attribution when redistributing.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'ds = load_dataset("path/to/this/folder")',
        "```",
        "",
    ]
    return "\n".join(lines)


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

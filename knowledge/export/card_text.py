"""The dataset card's prose: fields, configs and splits, counts, review, personal data, bias."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from knowledge.export.card import CardInfo
    from knowledge.export.options import ExportReport

_CONFIG_TEXT = {
    "single": "one question and its answer per example (`entry-<n>`)",
    "multi": "an interview's included turns as one conversation (`interview-<n>`)",
    "default": "every example",
}


def card_body(card: CardInfo, report: ExportReport) -> str:
    configs = card.configs or ["default"]
    lines = [
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
        "multi-turn conversation; stable across exports, the key into `provenance.jsonl` |",
        "| `kind` | string | `single` or `multi` |",
        "| `guide` | string | the interview guide (profession) it came from |",
        "| `profession` | string | the profession, as a phrase |",
        "| `probes` | list of string | the interviewing probe behind each answer "
        "(e.g. `cdm_cues`, `job_smarts`, `concrete_instance`) |",
        "| `licence` | string | the licence the expert's words are given under |",
        "| `messages` | list of {role, content} | `system`, then `user` and `assistant` turns |",
        "",
        "## Configs and splits",
        "",
        "| config | holds | split | examples |",
        "|---|---|---|---|",
        *(
            f"| `{c}`{' (default)' if k == 0 else ''} | {_CONFIG_TEXT[c]} | {s} | "
            f"{report.parts.get(f'{c}/{s}' if card.configs else s, 0)} |"
            for k, c in enumerate(configs)
            for s in card.splits
        ),
        "",
        "The same answer is in both configs (alone, and in its conversation): train on one "
        "config, or deduplicate by `provenance.jsonl`'s entry ids, never on both as they are.",
        "No interview has examples in more than one split "
        + "("
        + ", ".join(f"{s}: {report.interviews.get(s, 0)} interviews" for s in card.splits)
        + ").",
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
        *_review(card),
        "## Personal data",
        "",
        "Experts agreed to a consent notice before answering; the version they agreed to is in "
        "`provenance.jsonl`. They are named by a random pseudonym (`expert-…`), curators too "
        "(`curator-…`): no name, Discord id or login is in the data or the provenance. "
        "Experts who withdrew, and entries they withdrew, are deleted before any export, and "
        "exports written earlier are rewritten without them. Answers describe real work and can "
        "mention third parties (patients, clients, colleagues); the rules that look for "
        "personal data find names, contacts and numbers, not every detail that could identify "
        "someone in context. Do not try to re-identify anyone.",
        "",
        "## Bias, risks and limitations",
        "",
        "- Few experts per profession, recruited by whoever ran the interviews: the answers show "
        "how these people work, not a profession's consensus or its best practice.",
        "- The questions come from fixed interview guides (ACTA, the Critical Decision Method, "
        "laddering), so the data is rich in cues, judgement calls and stories and thin on "
        "textbook facts; answers are first-person and may be wrong or out of date.",
        "- Curators edited some answers (`edited` in the provenance); their edits reflect their "
        "own judgement.",
        "- Not medical, legal or other professional advice; a model trained on it should not be "
        "presented as an expert.",
        f"- Near-duplicates were found with {card.model or 'the stored'} sentence vectors; "
        "paraphrases below the threshold remain.",
        "",
        "## Provenance",
        "",
        "`provenance.jsonl` holds one line per example, keyed by `id`: the entry and interview "
        "ids, the guide and probe of each answer (for a follow-up, also the expert's phrase it "
        "asked about, `focus`), the expert's pseudonym, the consent version the expert agreed "
        "to, the licence, the curator's pseudonym and time of the decision, and whether a "
        "curator edited the text.",
        "",
        "## Licence",
        "",
        f"{', '.join(card.licences or [card.licence])} (each row's `licence` column). Keep the "
        "attribution when redistributing.",
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        'single = load_dataset("path/to/this/folder")  # the default config',
        *(['multi = load_dataset("path/to/this/folder", "multi")'] if "multi" in configs else []),
        "```",
        "",
    ]
    return "\n".join(lines)


def _review(card: CardInfo) -> list[str]:
    """Agreement between curators and rubric scores, when the export was given them."""
    review = card.review
    lines = ["## Review", ""]
    if not review:
        lines += [
            "Each entry was accepted by a curator. Agreement between curators was not "
            "measured for this export.",
            "",
        ]
        return lines
    lines += [f"- {sentence}" for sentence in review.get("sentences", [])]
    rows = review.get("agreement", [])
    if rows:
        lines += [
            "",
            "| scope | items reviewed twice or more | agreement | measure |",
            "|---|---|---|---|",
            *(
                f"| {r['scope']} | {r['items']} | "
                f"{'n/a' if r.get('value') is None else format(r['value'], '.3f')} | "
                f"{r.get('measure', '')} |"
                for r in rows
            ),
        ]
    scores = review.get("rubric", [])
    if scores:
        lines += [
            "",
            "| rubric criterion | mean score | agreement (alpha, interval) | entries scored twice |",
            "|---|---|---|---|",
            *(
                f"| {r['criterion']} | {r['mean']:.2f} | "
                f"{'n/a' if r.get('alpha') is None else format(r['alpha'], '.3f')} | {r['n']} |"
                for r in scores
            ),
        ]
    return [*lines, ""]

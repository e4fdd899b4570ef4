"""Preference pairs from what tacit already holds: curator edits, expert corrections, teach-back.

Each pair is TRL's conversational preference format: `prompt` the messages before the answer,
`chosen` and `rejected` one assistant message each.

- curator_edit: chosen the curator's edit, rejected the expert's text it replaced (their
  correction, else their answer; `Entry.answer` is never overwritten);
- expert_correction: chosen the expert's own correction (`/me entries`), rejected their answer;
- teach_back: chosen the expert's correction of the LLM's end-of-interview summary, rejected
  the summary; the prompt is the summary template as the LLM got it, over the interview's
  exported turns.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from knowledge.export.formats import Example, Message
from knowledge.export.scrub import _scrubber

CURATOR_EDIT, EXPERT_CORRECTION, TEACH_BACK = "curator_edit", "expert_correction", "teach_back"
PAIR_KINDS = (CURATOR_EDIT, EXPERT_CORRECTION, TEACH_BACK)


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


class Texts:
    """The texts of one expert's pair as shipped: redacted, held (None) or as they are."""

    def __init__(self, pii: str, expert_id: int, name: str):
        self.pii = pii
        self.scrubber = _scrubber(expert_id, name) if pii != "off" else None
        self.counts: Counter = Counter()

    def __call__(self, *texts: str) -> list[str] | None:
        if self.scrubber is None:
            return list(texts)
        if self.pii == "hold":
            return None if any(self.scrubber.has_pii(t) for t in texts) else list(texts)
        out = []
        for t in texts:
            red = self.scrubber.redact(t)
            self.counts.update(span.kind for span in red.spans)
            out.append(red.text)
        return out


def entry_pairs(r, persona: str, texts: Texts) -> list[tuple[str, list[str]]]:
    """(kind, [question, chosen, rejected]) for an entry's edits; [] when it has none."""
    question = r.edited_question or r.question
    out = []
    if r.corrected_answer and not _same(r.corrected_answer, r.answer):
        got = texts(question, r.corrected_answer, r.answer)
        out.append((EXPERT_CORRECTION, got))
    expert_text = r.corrected_answer or r.answer
    if r.edited_answer and not _same(r.edited_answer, expert_text):
        got = texts(question, r.edited_answer, expert_text)
        out.append((CURATOR_EDIT, got))
    return out


def teach_back_prompt(first, guide, turns: list[tuple[str, str]]) -> tuple[str, str]:
    """The summary template's (system, user) messages over these (question, answer) turns."""
    from knowledge.interview.probes import TranscriptTurn
    from knowledge.llm.guards import render_transcript
    from knowledge.llm.templates import load_templates

    template = load_templates()["summary"]
    transcript = [TranscriptTurn(question=q, probe="", answer=a) for q, a in turns]
    per_answer = max(200, 6000 // max(1, len(transcript)))
    return template.render(
        profession=guide.profession,
        guide_title=guide.title,
        transcript=render_transcript(transcript, 6000, per_answer=per_answer),
    )


def pair_example(
    example_id: str,
    kind: str,
    split: str,
    *,
    guide: str,
    profession: str,
    probes: list[str],
    prompt: list[Message],
    chosen: str,
    rejected: str,
    provenance: dict[str, Any],
) -> Example:
    return Example(
        id=example_id,
        kind=kind,
        split=split,
        guide=guide,
        profession=profession,
        probes=probes,
        messages=prompt,
        provenance={"id": example_id, "split": split, "kind": kind, **provenance},
        chosen=[Message("assistant", chosen)],
        rejected=[Message("assistant", rejected)],
    )

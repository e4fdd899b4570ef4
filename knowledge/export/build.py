"""Examples from the rows of whole interviews: single-turn entries and multi-turn conversations."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from knowledge.export.curators import CuratorNames
from knowledge.export.formats import Example, Message
from knowledge.export.options import TRAIN, VALIDATION, ExportOptions, ExportReport
from knowledge.export.pairs import TEACH_BACK, Texts, entry_pairs, pair_example, teach_back_prompt
from knowledge.export.scrub import pii_flags
from knowledge.guides import GuideLibrary
from knowledge.storage import iso

log = logging.getLogger(__name__)


def _profession(text: str) -> str:
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :]
    return text


class Builder:
    """Turns the rows of whole interviews into examples and hands them to the writer.

    Runs in a worker thread, one group at a time (never two at once).
    """

    def __init__(
        self,
        opts: ExportOptions,
        *,
        licence: str,
        pii: str,
        guides: GuideLibrary,
        validation: set[int],
        removed_by: dict[int, list[int]],
        writer,
        report: ExportReport,
        started: datetime,
        curators: CuratorNames,
    ):
        self.opts = opts
        self.licence = licence
        self.pii = pii
        self.guides = guides
        self.validation = validation
        self.removed_by = removed_by
        self.writer = writer
        self.report = report
        self.started = started
        self.curators = curators
        self._guide_cache: dict[str, tuple[str, str, str]] = {}
        # {entry id: {"score_<criterion>": mean}}, filled per group by the pipeline.
        self.scores: dict[int, dict[str, float]] = {}
        self.languages: set[str] = set()  # of the guides examples came from

    def _guide(self, slug: str) -> tuple[str, str, str]:
        """(persona, profession, language) of a guide; the generic guide's for one since removed."""
        if slug not in self._guide_cache:
            known = self.guides.slugs()
            g = self.guides.get(
                slug if slug in known else "generic" if "generic" in known else known[0]
            )
            if g.slug != slug:
                self.report.notes.append(
                    f"guide {slug!r} is gone: its examples use {g.slug!r}'s persona"
                )
            self._guide_cache[slug] = (g.persona, _profession(g.profession), g.language)
        return self._guide_cache[slug]

    def add(self, rows: list, redacted: list | None) -> None:
        """Rows of whole interviews, in order; with pii = redact, their texts as redact_items
        returned them (else None)."""
        texts = redacted or [None] * len(rows)
        current: list = []
        for r, t in zip(rows, texts, strict=True):
            if current and r.interview_id != current[0][0].interview_id:
                self._interview(current)
                current = []
            current.append((r, t))
        if current:
            self._interview(current)

    def _texts(self, r, redacted) -> tuple[str, str, str, dict[str, int]] | None:
        """(question, answer, question as asked, redactions) as shipped; None: held back."""
        if redacted is not None:
            self.report.redactions.update(redacted[3])
            return redacted
        q, asked = r.edited_question or r.question, r.asked
        a = r.edited_answer or r.corrected_answer or r.answer
        # Under hold the scan checked every entry; one changed since then is looked at again.
        if self.pii == "hold" and r.updated_at >= self.started:
            if pii_flags([(r.expert_id, r.display_name, q, a, asked)])[0]:
                self.report.held_pii += 1
                return None
        return q, a, asked, {}

    def _entry_provenance(self, r, redacted: dict[str, int]) -> dict[str, Any]:
        return {
            "entry_id": r.id,
            "turn_seq": r.seq,
            "step": r.step_id,
            "probe": r.probe,
            "followup": bool(r.followup),
            "focus": r.focus,  # the expert's phrase a follow-up asked about
            "part": r.part,
            "status": str(r.status),
            "draft_source": r.draft_source,
            "edited": r.edited_question is not None or r.edited_answer is not None,
            "corrected_by_expert": r.corrected_answer is not None,
            "curator": self.curators.get(r.guild_id, r.decided_by),  # a pseudonym, never the id
            "edited_by": self.curators.get(r.guild_id, r.edited_by),
            "decided_at": iso(r.decided_at),
            "redactions": redacted,
            # How the answer arrived looked wrong: [{"kind", "reason"}] (docs/quality.md).
            "quality_flags": [dict(f) for f in r.quality_flags or ()],
            **self.scores.get(r.id, {}),  # rubric scores: score_<criterion>
        }

    def _interview(self, items: list) -> None:
        first = items[0][0]
        split = VALIDATION if first.interview_id in self.validation else TRAIN
        persona, profession, language = self._guide(first.guide_slug)
        self.languages.add(language)
        base = {
            "interview_id": first.interview_id,
            "guide": first.guide_slug,
            "guide_version": first.guide_version,
            "expert": first.pseudonym,
            "consent_version": first.consent_version,
            "consented_at": iso(first.consented_at),
            "licence": self.licence,
        }
        shipped = []  # (row, question, answer, asked, entry provenance)
        for r, redacted in items:
            texts = self._texts(r, redacted)
            if texts is not None:
                q, a, asked, red = texts
                shipped.append((r, q, a, asked, self._entry_provenance(r, red)))
        if not shipped:
            return
        if self.opts.format == "dpo":
            if self._pairs(shipped, split, persona, profession, base):
                self.report.interviews[split] += 1
            return
        wrote_any = False
        if self.opts.turns in ("single", "both"):
            for r, q, a, _, prov in shipped:
                ex = Example(
                    id=f"entry-{r.id}",
                    kind="single",
                    split=split,
                    guide=r.guide_slug,
                    profession=profession,
                    probes=[r.probe],
                    messages=[
                        Message("system", persona),
                        Message("user", q),
                        Message("assistant", a),
                    ],
                    provenance={
                        "id": f"entry-{r.id}",
                        "split": split,
                        "kind": "single",
                        "entry_ids": [r.id],
                        **base,
                        "entries": [prov],
                        "near_duplicates_removed": self.removed_by.get(r.id, []),
                        **self.scores.get(r.id, {}),  # score_<criterion> columns
                    },
                )
                wrote_any |= self._write(ex)
        if self.opts.turns in ("multi", "both"):
            wrote_any |= self._multi(shipped, split, persona, profession, base)
        if wrote_any:
            self.report.interviews[split] += 1

    def _multi(self, shipped, split, persona, profession, base) -> bool:
        """The interview as one conversation, over its turns with shipped entries (>= 2 turns).

        A turn's question is the curator's edit if there is one; else as asked, when the turn
        before it is in the conversation too; else (the opening turn, or after a gap) the
        standalone question, which reads without what came before.
        """
        turns: dict[int, list] = {}
        for item in shipped:
            turns.setdefault(item[0].seq, []).append(item)
        if len(turns) < 2:
            return False
        messages = [Message("system", persona)]
        probes, entries, removed = [], [], []
        previous = None
        for seq, items in turns.items():
            r, q, _, asked, _ = items[0]
            if r.edited_question is not None:
                question = q
            elif previous is not None and previous == seq - 1:
                question = asked
            else:
                question = q
            messages.append(Message("user", question))
            messages.append(Message("assistant", "\n\n".join(it[2] for it in items)))
            probes.append(r.probe)
            for it in items:
                entries.append(it[4])
                removed += self.removed_by.get(it[0].id, [])
            previous = seq
        example_id = f"interview-{base['interview_id']}"
        return self._write(
            Example(
                id=example_id,
                kind="multi",
                split=split,
                guide=base["guide"],
                profession=profession,
                probes=probes,
                messages=messages,
                provenance={
                    "id": example_id,
                    "split": split,
                    "kind": "multi",
                    "entry_ids": [e["entry_id"] for e in entries],
                    **base,
                    "entries": entries,
                    "near_duplicates_removed": removed,
                },
            )
        )

    def _pairs(self, shipped, split, persona, profession, base) -> bool:
        """Preference pairs of an interview's shipped entries, and of its teach-back."""
        first = shipped[0][0]
        texts = Texts(self.pii, first.expert_id, first.display_name)
        wrote = False
        for r, *_, prov in shipped:
            for kind, got in entry_pairs(r, persona, texts):
                if got is None:
                    self.report.held_pii += 1
                    continue
                q, chosen, rejected = got
                wrote |= self._write(
                    pair_example(
                        f"{kind}-{r.id}",
                        kind,
                        split,
                        guide=r.guide_slug,
                        profession=profession,
                        probes=[r.probe],
                        prompt=[Message("system", persona), Message("user", q)],
                        chosen=chosen,
                        rejected=rejected,
                        provenance={
                            "entry_ids": [r.id],
                            **base,
                            "entries": [prov],
                            "near_duplicates_removed": self.removed_by.get(r.id, []),
                        },
                    )
                )
        summary, correction = first.summary, first.summary_correction
        if summary and correction and summary.strip() != correction.strip():
            turns = [(r.edited_question or r.question, a) for r, _, a, _, _ in shipped]
            got = texts(summary, correction, *(t for qa in turns for t in qa))
            if got is None:
                self.report.held_pii += 1
            else:
                summary, correction, rest = got[0], got[1], got[2:]
                turns = list(zip(rest[0::2], rest[1::2], strict=True))
                system, user = teach_back_prompt(first, self._guide_of(first.guide_slug), turns)
                wrote |= self._write(
                    pair_example(
                        f"{TEACH_BACK}-{first.interview_id}",
                        TEACH_BACK,
                        split,
                        guide=first.guide_slug,
                        profession=profession,
                        probes=[],
                        prompt=[Message("system", system), Message("user", user)],
                        chosen=correction,
                        rejected=summary,
                        provenance={
                            "entry_ids": [r.id for r, *_ in shipped],
                            **base,
                            "summary_source": first.summary_source,
                            "entries": [prov for *_, prov in shipped],
                            "near_duplicates_removed": [],
                        },
                    )
                )
        self.report.redactions.update(texts.counts)
        return wrote

    def _guide_of(self, slug: str):
        known = self.guides.slugs()
        return self.guides.get(
            slug if slug in known else "generic" if "generic" in known else known[0]
        )

    def _write(self, ex: Example) -> bool:
        if not self.writer.write(ex):
            self.report.not_in_format += 1
            return False
        rep = self.report
        rep.entry_ids.extend(ex.provenance["entry_ids"])
        rep.pseudonyms.add(ex.provenance["expert"])
        rep.examples[ex.split] += 1
        rep.kinds[ex.kind] += 1
        rep.by_profession[ex.profession] += 1
        rep.by_probe.update(ex.probes)
        return True

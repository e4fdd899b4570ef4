"""What experts are owed: hourly rates (expert, guide, default) over active interview time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from knowledge.config import PaySettings
from knowledge.experts.errors import ExpertError
from knowledge.guides import GuideLibrary
from knowledge.storage import (
    AuditEvent,
    Database,
    Entry,
    Expert,
    Interview,
    PayRecord,
    Turn,
    utcnow,
)
from knowledge.vocab import EntryStatus

FORGOTTEN_NAME = "(forgotten expert)"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Earnings:
    expert_id: int | None  # None: a forgotten expert, known by pseudonym only (pay records)
    display_name: str
    pseudonym: str
    active_seconds: float
    interviews: int
    entries_total: int
    entries_accepted: int
    amount: float
    currency: str
    rate_note: str  # "105.00 USD/h" or "mixed rates" when guides differ
    paid: bool | None = None  # pay records: whether the operator marked it paid
    # Of the time above, what went into answers with a quality flag (pasted, repeat,
    # boilerplate), and its share of the amount: shown apart, still counted (docs/quality.md).
    flagged_seconds: float = 0.0
    flagged_answers: int = 0
    flagged_amount: float = 0.0

    @property
    def forgotten(self) -> bool:
        return self.expert_id is None

    @property
    def hours(self) -> float:
        return self.active_seconds / 3600


class Pay:
    """Mixed into ExpertService, whose `db`, `guides` and `pay` settings it uses."""

    db: Database
    guides: GuideLibrary
    pay: PaySettings

    def rate_for(self, expert_rate: float | None, guide_slug: str) -> float:
        if expert_rate:
            return expert_rate
        if guide_slug in self.pay.guide_rates:
            return self.pay.guide_rates[guide_slug]
        try:
            g = self.guides.get(guide_slug)
        except ValueError:
            return self.pay.default_rate
        return g.rate_per_hour or self.pay.default_rate

    async def set_rate(self, expert_id: int, rate: float | None, *, actor: str) -> None:
        async with self.db.sessions() as s, s.begin():
            ex = await s.get(Expert, expert_id)
            before = ex.rate_per_hour
            ex.rate_per_hour = rate
            s.add(
                AuditEvent(
                    actor=actor,
                    action="expert.rate",
                    entity="expert",
                    entity_id=expert_id,
                    before={"rate_per_hour": before},
                    after={"rate_per_hour": rate},
                )
            )

    async def earnings(
        self,
        *,
        expert_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        forgotten: bool = True,
    ) -> list[Earnings]:
        """Active time, accepted entries and amount due, per expert (interviews started in range).

        With `forgotten` (and no `expert_id`), forgotten experts' pay records come after, by
        pseudonym.
        """
        q = select(Interview, Expert).join(Expert, Interview.expert_id == Expert.id)
        if expert_id is not None:
            q = q.where(Interview.expert_id == expert_id)
        if since is not None:
            q = q.where(Interview.started_at >= since)
        if until is not None:
            q = q.where(Interview.started_at < until)
        async with self.db.sessions() as s:
            rows = (await s.execute(q)).all()
            ids = [iv.id for iv, _ in rows]
            counts: dict[tuple[int, str], int] = {}
            if ids:
                for iid, status, n in await s.execute(
                    select(Entry.interview_id, Entry.status, func.count())
                    .where(Entry.interview_id.in_(ids))
                    .group_by(Entry.interview_id, Entry.status)
                ):
                    counts[(iid, str(status))] = n
            flagged = await _flagged_time(s, ids)
        per: dict[int, dict] = {}
        for iv, ex in rows:
            rate = self.rate_for(ex.rate_per_hour, iv.guide_slug)
            p = per.setdefault(
                ex.id,
                {"ex": ex, "secs": 0.0, "n": 0, "total": 0, "ok": 0, "amount": 0.0, "rates": set()}
                | {"f_secs": 0.0, "f_n": 0, "f_amount": 0.0},
            )
            f_secs, f_answers = flagged.get(iv.id, (0.0, 0))
            f_secs = min(f_secs, iv.active_seconds)
            p["f_secs"] += f_secs
            p["f_n"] += f_answers
            p["f_amount"] += f_secs / 3600 * rate
            p["secs"] += iv.active_seconds
            p["n"] += 1
            p["total"] += sum(v for (i, _), v in counts.items() if i == iv.id)
            p["ok"] += counts.get((iv.id, EntryStatus.approved), 0)
            p["amount"] += iv.active_seconds / 3600 * rate
            p["rates"].add(rate)
        out = []
        for p in per.values():
            ex = p["ex"]
            rates = p["rates"]
            note = f"{next(iter(rates)):.2f} {self.pay.currency}/h" if len(rates) == 1 else "mixed"
            out.append(
                Earnings(
                    ex.id,
                    ex.display_name,
                    ex.pseudonym,
                    p["secs"],
                    p["n"],
                    p["total"],
                    p["ok"],
                    round(p["amount"], 2),
                    self.pay.currency,
                    note,
                    flagged_seconds=p["f_secs"],
                    flagged_answers=p["f_n"],
                    flagged_amount=round(p["f_amount"], 2),
                )
            )
        out.sort(key=lambda e: e.display_name.lower())
        if forgotten and expert_id is None:
            out += await self._pay_records(since, until)
        return out

    async def _pay_records(self, since: datetime | None, until: datetime | None) -> list[Earnings]:
        q = select(PayRecord).order_by(PayRecord.pseudonym, PayRecord.id)
        if since is not None:
            q = q.where(PayRecord.interview_started_at >= since)
        if until is not None:
            q = q.where(PayRecord.interview_started_at < until)
        async with self.db.sessions() as s:
            rows = list(await s.scalars(q))
        per: dict[str, list[PayRecord]] = {}
        for r in rows:
            per.setdefault(r.pseudonym, []).append(r)
        out = []
        for pseudonym, records in per.items():
            rates = {r.rate_per_hour for r in records}
            currency = records[0].currency
            note = f"{next(iter(rates)):.2f} {currency}/h" if len(rates) == 1 else "mixed"
            out.append(
                Earnings(
                    None,
                    FORGOTTEN_NAME,
                    pseudonym,
                    sum(r.active_seconds for r in records),
                    len(records),
                    sum(r.entries_total for r in records),
                    sum(r.entries_accepted for r in records),
                    round(sum(r.amount for r in records), 2),
                    currency,
                    note,
                    paid=all(r.paid_at is not None for r in records),
                )
            )
        return out

    async def mark_paid(self, pseudonym: str, *, actor: str) -> int:
        """Mark a forgotten expert's pay records paid; how many were still unpaid."""
        pseudonym = pseudonym.strip()
        async with self.db.sessions() as s, s.begin():
            rows = list(await s.scalars(select(PayRecord).where(PayRecord.pseudonym == pseudonym)))
            if not rows:
                raise ExpertError(
                    f"no pay records for {pseudonym!r} (only forgotten experts have them)"
                )
            unpaid = [r for r in rows if r.paid_at is None]
            now = utcnow()
            for r in unpaid:
                r.paid_at = now
            s.add(
                AuditEvent(
                    actor=actor,
                    action="pay.paid",
                    entity="pay_record",
                    entity_id=None,
                    after={"pseudonym": pseudonym, "records": len(unpaid)},
                )
            )
            return len(unpaid)


async def _flagged_time(s, interview_ids: list[int]) -> dict[int, tuple[float, int]]:
    """Per interview: time spent on answers with a quality flag, and how many there are.

    An answer's time is what its arrival record counted (question to last message, gaps
    capped at the idle gap); without one, the time from question to answer."""
    out: dict[int, tuple[float, int]] = {}
    if not interview_ids:
        return out
    rows = await s.execute(
        select(Turn.interview_id, Turn.flags, Turn.arrival, Turn.asked_at, Turn.answered_at).where(
            Turn.interview_id.in_(interview_ids), Turn.answered_at.is_not(None)
        )
    )
    for iid, flags, arrival, asked_at, answered_at in rows:
        if not flags:
            continue
        secs = (arrival or {}).get("active_seconds")
        if secs is None:
            secs = max(0.0, (answered_at - asked_at).total_seconds())
        total, n = out.get(iid, (0.0, 0))
        out[iid] = (total + float(secs), n + 1)
    return out

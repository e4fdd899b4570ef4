"""What experts are owed, for curators: the same figures as /me earnings, and as CSV."""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime

from knowledge.experts import Earnings, ExpertService
from knowledge.review.errors import ReviewError

log = logging.getLogger(__name__)


async def payouts(
    experts: ExpertService, since: datetime | None = None, until: datetime | None = None
) -> list[Earnings]:
    """What each expert is owed for interviews started in [since, until): the same figures
    as the expert's own `/me earnings`, because both come from ExpertService.earnings."""
    if since is not None and until is not None and since >= until:
        raise ReviewError("the payout period is empty: its start must be before its end")
    return await experts.earnings(since=since, until=until)


async def payouts_csv(
    experts: ExpertService, since: datetime | None = None, until: datetime | None = None
) -> str:
    rows = await payouts(experts, since, until)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "expert_id",
            "display_name",
            "pseudonym",
            "hours",
            "interviews",
            "entries_total",
            "entries_accepted",
            "rate",
            "amount",
            "currency",
            "forgotten",
            "paid",
            "flagged_hours",
            "flagged_answers",
            "flagged_amount",
        ]
    )
    for r in rows:
        w.writerow(
            [
                "" if r.expert_id is None else r.expert_id,
                r.display_name,
                r.pseudonym,
                f"{r.hours:.2f}",
                r.interviews,
                r.entries_total,
                r.entries_accepted,
                r.rate_note,
                f"{r.amount:.2f}",
                r.currency,
                "yes" if r.forgotten else "",
                "" if r.paid is None else ("yes" if r.paid else "no"),
                f"{r.flagged_seconds / 3600:.2f}",
                r.flagged_answers,
                f"{r.flagged_amount:.2f}",
            ]
        )
    return buf.getvalue()


# ---- internals -----------------------------------------------------------------------

"""The review chart: pending backlog per guide and decisions per day, as a PNG."""

from __future__ import annotations

import asyncio
import io
import logging

from knowledge.review.stats import ReviewStats

log = logging.getLogger(__name__)


async def render_chart(stats: ReviewStats) -> bytes:
    """A PNG: pending backlog per guide, and decisions per day. Drawn in a worker thread."""
    return await asyncio.to_thread(_draw, stats)


def _draw(stats: ReviewStats) -> bytes:
    # Figure + Agg canvas directly: no pyplot global state, so this is safe in a thread.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, width_ratios=[2, 3])
    backlog = stats.backlog_by_guide
    if backlog:
        names = list(backlog)[::-1]
        left.barh(names, [backlog[g] for g in names], color="#d08c2b")
    else:
        left.text(0.5, 0.5, "nothing pending", ha="center", va="center")
        left.set_yticks([])
    left.set_title(f"pending by guide ({stats.by_status.pending})")
    left.set_xlabel("entries")
    days = stats.decisions_per_day
    right.bar([d.day.strftime("%m-%d") for d in days], [d.decisions for d in days], color="#2b7bd0")
    right.set_title(f"decisions per day, last {len(days)} days")
    right.tick_params(axis="x", labelrotation=60, labelsize=8)
    right.yaxis.get_major_locator().set_params(integer=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()

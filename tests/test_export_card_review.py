"""The dataset card quotes how far curators agreed (blind double review), by pseudonym."""

from __future__ import annotations

import pytest
from huggingface_hub import DatasetCard

from knowledge.export import export
from knowledge.export.formats.check import check_file
from tests.test_dataset import entries, expert, interview, long_answers, opts

ANA, BEN, CAT = "discord:2001", "discord:2002", "discord:2003"


@pytest.fixture
def settings(settings):
    settings.review.reviews_per_entry = 2
    return settings


@pytest.mark.asyncio
async def test_two_blind_reviews_and_an_adjudication_reach_the_card(services, tmp_path):
    ex = await expert(services, "ana", "Ana Ruiz")
    await interview(services, ex.id, "litigator", long_answers("scotus_2019.18-1501-t01", 4))
    ids = [e.id for e in await entries(services)]
    assert len(ids) >= 3
    for eid in ids[:-1]:  # agree on all but the last
        await services.review.approve(ANA, eid)
        await services.review.approve(BEN, eid)
    await services.review.approve(ANA, ids[-1])
    await services.review.reject(BEN, ids[-1], "argues the case, no expertise in it")
    await services.review.approve(CAT, ids[-1])  # the adjudicator settles it

    report = await export(services, opts(tmp_path, "hf"))
    card = DatasetCard.load(report.out / "README.md")
    review = card.text.split("## Review", 1)[1].split("\n## ", 1)[0]
    n = len(ids)
    assert f"{n} entries had blind reviews" in review
    assert f"{n} were reviewed by two or more curators, and 1 disagreements" in review
    assert f"| all guides | {n} |" in review and "Krippendorff" in review
    pair = [line for line in review.splitlines() if line.count("curator-") == 2]
    assert len(pair) == 1 and f"| {n} |" in pair[0]
    assert "2001" not in card.text and "2002" not in card.text  # curators by pseudonym only
    assert check_file(report.out, "hf") == []

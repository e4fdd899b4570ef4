"""Blind double review and adjudication through real storage (SQLite, PostgreSQL), Chroma, MiniLM."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.guides import DEFAULT_GUIDES_DIR, GuideError, GuideLibrary, load_guide
from knowledge.review import AlreadyReviewed, EntryClaimed
from knowledge.review.agreement import card_figures
from knowledge.review.panel import required
from knowledge.storage import ReviewDecision
from knowledge.storage.entries import from_bytes
from tests.test_review import LEGAL, interview, row

pytestmark = pytest.mark.asyncio

ANA, BEN, CAT = "discord:2001", "discord:2002", "discord:2003"


@pytest.fixture
def settings(settings):
    settings.review.reviews_per_entry = 2
    return settings


async def rows(services, entry_id: int) -> dict[str, ReviewDecision]:
    async with services.db.sessions() as s:
        got = await s.scalars(select(ReviewDecision).where(ReviewDecision.entry_id == entry_id))
        return {r.curator: r for r in got}


async def test_an_entry_is_final_only_after_two_curators_agree_and_each_decides_once(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:3])
    first = await services.review.next(ANA)
    assert (first.entry_id, first.reviews_needed, first.reviews_done) == (ids[0], 2, 0)
    d = await services.review.approve(ANA, ids[0])
    assert (d.outcome, d.reviews_left, d.entry.status) == ("waiting", 1, "pending")
    assert (await row(services, ids[0])).status == "pending"
    # Ana does not get it again, and cannot decide twice
    assert (await services.review.next(ANA)).entry_id == ids[1]
    with pytest.raises(AlreadyReviewed, match=f"already reviewed entry {ids[0]}.*1 more review"):
        await services.review.reject(ANA, ids[0], "changed my mind")
    await services.review.skip(ANA, ids[1])
    # Ben gets the entry that has a review already first, and sees nothing of Ana's
    card = await services.review.next(BEN)
    assert card.entry_id == ids[0] and card.reviews_done == 1
    assert card.decisions == [] and card.mine is None and card.decided_by is None
    detail = await services.review.entry(ids[0], BEN)
    assert [ev.actor for ev in detail.history if ev.actor == ANA] == []
    assert detail.decisions == []
    hits = await services.review.search(LEGAL[0][:200])
    assert {h.status for h in hits if h.entry_id == ids[0]} == {"pending"}
    d = await services.review.approve(BEN, ids[0])
    assert (d.outcome, d.entry.status) == ("final", "approved")
    e = await row(services, ids[0])
    assert e.status == "approved" and e.decided_by == BEN
    assert {c: r.verdict for c, r in (await rows(services, ids[0])).items()} == {
        ANA: "approved",
        BEN: "approved",
    }
    # once final, everyone sees both decisions
    assert {v.curator for v in (await services.review.entry(ids[0], CAT)).decisions} == {ANA, BEN}


async def test_a_disagreement_goes_first_to_a_third_curator_who_sees_both_decisions(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:3])
    await services.review.card(ANA, ids[1])
    await services.review.approve(ANA, ids[1])
    await services.review.card(BEN, ids[1])
    d = await services.review.reject(BEN, ids[1], "argues the case, no expertise in it")
    assert (d.outcome, d.entry.status) == ("disputed", "pending")
    assert (await row(services, ids[1])).disputed is True
    # neither reviewer may adjudicate; a third curator gets it before the older entry
    assert (await services.review.next(ANA)).entry_id != ids[1]
    card = await services.review.next(CAT)
    assert card.entry_id == ids[1] and card.adjudication and card.disputed
    seen = {v.curator: (v.verdict, v.reason) for v in card.decisions}
    assert seen == {
        ANA: ("approved", None),
        BEN: ("rejected", "argues the case, no expertise in it"),
    }
    d = await services.review.approve(CAT, ids[1])
    assert (d.outcome, d.entry.status) == ("final", "approved")
    e = await row(services, ids[1])
    assert (e.status, e.disputed, e.decided_by) == ("approved", False, CAT)
    assert (await rows(services, ids[1]))[CAT].kind == "adjudication"
    # what the dataset card quotes: one entry reviewed twice, alpha undefined on one item
    figures = await card_figures(services.db, guide="litigator")
    assert figures["agreement"][0] == {
        "scope": "all guides",
        "items": 1,
        "value": None,
        "measure": "Krippendorff's alpha, nominal (verdicts)",
    }
    assert figures["sentences"] == [
        "1 of the 1 reviewed entries were reviewed blind by two or more curators; 0 of those had"
        " identical decisions, and 1 disagreements were settled by another curator who had not"
        " reviewed the entry."
    ]
    assert (await card_figures(services.db, guide="physician"))["agreement"] == []


async def test_an_edit_waits_in_the_curators_decision_and_differing_edits_dispute(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:2])
    eid = ids[0]
    better = LEGAL[0].strip().split(". ")[0] + "."
    await services.review.card(ANA, eid)
    await services.review.edit(ANA, eid, answer=better)
    e = await row(services, eid)
    assert e.edited_answer is None and e.final_answer == LEGAL[0].strip()  # not final yet
    mine = await services.review.card(ANA, eid)
    assert mine.answer == better and mine.edited  # Ana's card shows her own edit
    await services.review.approve(ANA, eid)
    theirs = await services.review.card(BEN, eid)
    assert theirs.answer == LEGAL[0].strip() and not theirs.edited  # Ben's shows the expert's
    d = await services.review.approve(BEN, eid)  # approved as it stands: not Ana's edit
    assert d.outcome == "disputed"
    # the same edit by both is agreement: the entry takes it, with its new vector
    other = ids[1]
    shorter = LEGAL[1].strip().split(". ")[0] + "."
    for who in (ANA, BEN):
        await services.review.card(who, other)
        await services.review.edit(who, other, answer=shorter)
        d = await services.review.approve(who, other)
    assert d.outcome == "final"
    e = await row(services, other)
    assert (e.status, e.final_answer, e.edited_by) == ("approved", shorter, ANA)
    want = await services.embedder.embed_one(shorter)
    assert float(from_bytes(e.embedding) @ want) > 0.999


async def test_undoing_a_blind_decision_gives_the_entry_back(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:2])
    await services.review.next(ANA)
    await services.review.approve(ANA, ids[0])
    await services.review.undo(ANA)
    assert await rows(services, ids[0]) == {}
    assert (await services.review.next(ANA)).entry_id == ids[0]
    # Ben's later decision makes Ana's undo of a finalising one conflict-free for Ben only
    await services.review.approve(ANA, ids[0])
    await services.review.card(BEN, ids[0])
    await services.review.approve(BEN, ids[0])
    d = await services.review.undo(BEN)
    assert d.entry.status == "pending" and set(await rows(services, ids[0])) == {ANA}


async def test_a_curator_cannot_take_over_an_entry_held_by_another(services):
    ids = await interview(services, "rapawy", "litigator", LEGAL[:1])
    await services.review.next(ANA)
    with pytest.raises(EntryClaimed):
        await services.review.approve(BEN, ids[0])


async def test_a_guide_asks_for_its_own_number_of_reviews_and_it_is_validated(services, tmp_path):
    path = tmp_path / "generic.toml"
    text = (DEFAULT_GUIDES_DIR / "generic.toml").read_text(encoding="utf-8")
    path.write_text("reviews_per_entry = 4\n" + text, encoding="utf-8")
    with pytest.raises(GuideError, match="generic.toml: reviews_per_entry: .*less than or equal"):
        load_guide(path)
    assert services.review.reviews_needed("generic") == 2  # the configured number
    path.write_text("reviews_per_entry = 1\n" + text, encoding="utf-8")
    one = GuideLibrary({"generic": load_guide(path)})
    assert required(one, services.settings, "generic") == 1


@pytest.mark.parametrize(
    ("rubric", "error"),
    [
        ('name = "depth"\ndescription = "How deep"\nmin = 5\nmax = 5', "min must be below max"),
        ('name = "depth"\ndescription = "How deep"\nweight = 2', "weight: Extra inputs"),
        ('name = "Depth!"\ndescription = "How deep"', "rubric.0.name: String should match"),
    ],
)
async def test_a_guides_rubric_is_validated_with_the_guide(tmp_path, rubric, error):
    path = tmp_path / "generic.toml"
    text = (DEFAULT_GUIDES_DIR / "generic.toml").read_text(encoding="utf-8")
    path.write_text(text + "\n[[rubric]]\n" + rubric + "\n", encoding="utf-8")
    with pytest.raises(GuideError, match=f"generic.toml: .*{error}"):
        load_guide(path)


async def test_shipped_rubrics_load_and_a_duplicate_criterion_is_refused(tmp_path):
    lib = GuideLibrary.load()
    assert [c.name for c in lib.get("physician").rubric] == ["specificity", "correctness", "safety"]
    path = tmp_path / "generic.toml"
    text = (DEFAULT_GUIDES_DIR / "generic.toml").read_text(encoding="utf-8")
    twice = '\n[[rubric]]\nname = "depth"\ndescription = "How deep it goes"\n' * 2
    path.write_text(text + twice, encoding="utf-8")
    with pytest.raises(GuideError, match="rubric criterion names must be unique"):
        load_guide(path)

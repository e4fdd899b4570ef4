"""A server's view sees that server's rows only: review, search, stats, payouts, undo, export."""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import select

from knowledge.export import ExportOptions, count_selected, export
from knowledge.review import EntryNotFound
from knowledge.storage import EVERYTHING, TERMINAL, Entry, Scope
from tests.conftest import real_pairs

pytestmark = pytest.mark.asyncio

A, B = 811_111_111_111_111_111, 822_222_222_222_222_222
USER = "4242"  # one Discord user, interviewed in both servers
MEDICAL = [p["answer"].strip() for p in real_pairs("medquad_5_NIDDK_QA")][:3]
LEGAL = [
    p["answer"].strip()
    for p in real_pairs("scotus_2019.18-1501-t01")
    if 60 < len(p["answer"].split()) < 300
][:3]


async def interview(services, guild_id: int | None, answers: list[str], *, user: str = USER):
    platform = "discord" if guild_id else "terminal"
    ex = await services.experts.identify(platform, user, "Dana Ortiz", guild_id=guild_id)
    await services.experts.give_consent(ex.id)
    ask = await services.engine.start(ex.id, "generic", channel="discord:thread:1")
    ids = []
    for text in answers:
        reply = await services.engine.answer(ask.interview_id, text)
        ids += reply.entry_ids
        if reply.next is None:
            break
        ask = reply.next
    await services.engine.end(ask.interview_id)
    await services.indexer.sync()
    return ex, ids


@pytest_asyncio.fixture
async def two_servers(services):
    a_expert, a_ids = await interview(services, A, MEDICAL)
    b_expert, b_ids = await interview(services, B, LEGAL)
    return a_expert, a_ids, b_expert, b_ids


async def test_one_person_is_a_record_per_server_with_its_own_pseudonym(services, two_servers):
    a_expert, _, b_expert, _ = two_servers
    assert a_expert.id != b_expert.id and a_expert.pseudonym != b_expert.pseudonym
    assert (a_expert.guild_id, b_expert.guild_id) == (A, B)
    assert {r.id for r in await services.experts.person("discord", USER)} == {
        a_expert.id,
        b_expert.id,
    }
    async with services.db.sessions() as s:
        guilds = dict((await s.execute(select(Entry.id, Entry.guild_id))).all())
    assert {guilds[i] for i in two_servers[1]} == {A} and {guilds[i] for i in two_servers[3]} == {B}


async def test_a_servers_review_never_shows_another_servers_entries(services, two_servers):
    _, a_ids, _, b_ids = two_servers
    review = services.tenant(Scope.server(A)).review
    assert [e.entry_id for e in await review.list()] == a_ids
    seen = []
    while (card := await review.next("discord:1")) is not None:
        assert all(h.entry_id in a_ids for h in card.similar)
        seen.append(card.entry_id)
        await review.approve("discord:1", card.entry_id)
    assert sorted(seen) == sorted(a_ids)
    # B's words searched from A: only A's entries come back, however close B's are
    hits = await review.search(LEGAL[0][:300])
    assert hits and {h.entry_id for h in hits} <= set(a_ids)
    for other in b_ids:
        with pytest.raises(EntryNotFound, match=f"no entry {other}"):
            await review.entry(other)
        with pytest.raises(EntryNotFound):
            await review.approve("discord:1", other)
        with pytest.raises(EntryNotFound):
            await review.card("discord:1", other)
    st = await review.stats()
    assert st.by_status.total == len(a_ids) and st.by_status.approved == len(a_ids)
    assert sum(d.decisions for d in st.decisions_per_day) == len(a_ids)
    assert [x.expert_id for x in st.by_expert] == [two_servers[0].id]
    assert [r.expert_id for r in await review.payouts()] == [two_servers[0].id]
    # B's view: nothing of A, and no decision to undo there
    b_review = services.tenant(Scope.server(B)).review
    assert await b_review.stats() != st and (await b_review.stats()).by_status.approved == 0
    from knowledge.review import NothingToUndo

    with pytest.raises(NothingToUndo):
        await b_review.undo("discord:1")
    # the operator sees both
    assert {e.entry_id for e in await services.review.list()} == set(a_ids + b_ids)


async def test_a_servers_export_holds_that_servers_entries_only(services, two_servers, tmp_path):
    _, a_ids, _, b_ids = two_servers
    for eid in a_ids + b_ids:
        await services.review.approve("cli:op", eid)
    tenant = services.tenant(Scope.server(A))
    opts = ExportOptions(out=tmp_path / "a.jsonl", pii="off", dedupe_similarity=1.01)
    assert await count_selected(tenant, opts) == len(a_ids)
    report = await export(tenant, opts, actor="discord:1")
    prov = (tmp_path / "a.provenance.jsonl").read_text()
    assert report.entries == len(a_ids)
    assert all(f'"entry-{i}"' in prov for i in a_ids)
    assert not any(f'"entry-{i}"' in prov for i in b_ids)
    # the registry: A's curators list A's export, B's none, the operator all
    (rec,) = await tenant.exports.list()
    assert (rec.id, rec.scope, rec.guild_id, rec.actor) == (
        report.export_id,
        f"guild:{A}",
        A,
        "discord:1",
    )
    assert await services.tenant(Scope.server(B)).exports.list() == []
    assert [r.id for r in await services.exports.list()] == [rec.id]


async def test_the_terminal_is_a_tenant_of_its_own(services, two_servers):
    _, terminal_ids = await interview(services, None, MEDICAL[:1], user="tom")
    assert [e.entry_id for e in await services.tenant(TERMINAL).review.list()] == terminal_ids
    assert len(await services.tenant(EVERYTHING).review.list()) == len(
        two_servers[1] + two_servers[3] + terminal_ids
    )


async def test_a_scope_is_parsed_from_what_guild_takes():
    assert Scope.parse("123") == Scope.server(123)
    assert Scope.parse("terminal") == TERMINAL and Scope.parse("ALL") == EVERYTHING
    with pytest.raises(ValueError, match="not a server id"):
        Scope.parse("general")

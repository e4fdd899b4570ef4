"""Shared steps of the /review tests: entries from real interviews, cards, clicks, audit rows.

No tests here; the test_review_* modules import these helpers.
"""

from __future__ import annotations

from fakediscord import FakeDiscord, FakeInteraction, FakeMessage, FakeUser
from fakediscord.models import MANAGE_MESSAGES
from sqlalchemy import select

from knowledge.storage import AuditEvent, Entry
from tests.conftest import real_pairs

MEDICAL = {p["question"]: p["answer"].strip() for p in real_pairs("medquad_5_NIDDK_QA")}
ACROMEGALY = [
    MEDICAL["What is (are) Acromegaly ?"],
    MEDICAL["What are the symptoms of Acromegaly ?"],
    MEDICAL["What causes Acromegaly ?"],
    MEDICAL["How to diagnose Acromegaly ?"],
]
LEGAL = [
    p["answer"].strip()
    for p in real_pairs("scotus_2019.18-1501-t01")
    if 60 < len(p["answer"].split()) < 400
]
THREAD = 555_000_111  # the Discord thread the interviews ran in (only a link on the card)


def curators_see_review(server: FakeDiscord) -> None:
    """The setup docs/discord-review.md asks for: the curator role gets Manage Messages, the
    default permission of /review and /export, so Discord shows the commands to curators."""
    server.curator_role.permissions |= MANAGE_MESSAGES


def moderator(server: FakeDiscord, user: FakeUser | None = None) -> FakeUser:
    """A member who is no curator but has Manage Messages: Discord shows them /review, so only
    the bot's own check stands between them and the entries."""
    user = user or server.stranger
    role = server.add_role("moderator", MANAGE_MESSAGES)
    user.role_ids.append(role.id)
    return user


async def interview(
    services,
    answers: list[str],
    *,
    name: str = "ana",
    external_id: str = "700001",
    guild_id: int | None = None,
) -> list[int]:
    """Entry ids from a real interview (the test guide, one entry per answer), indexed, in a
    guild (default: the home guild, the fake's default one)."""
    guild_id = guild_id or services.settings.discord.home_guild_id
    ex = await services.experts.identify("discord", external_id, name.title(), guild_id=guild_id)
    await services.experts.give_consent(ex.id)
    ids: list[int] = []
    ask = await services.engine.start(
        ex.id, services.settings.interview.default_guide, channel=f"discord:thread:{THREAD}"
    )
    for text in answers:
        reply = await services.engine.answer(ask.interview_id, text)
        ids += reply.entry_ids
        ask = reply.next
        if ask is None:
            break
    if ask is not None:
        await services.engine.end(ask.interview_id)
    await services.indexer.sync()
    return ids


async def reply_to(server: FakeDiscord, ix: FakeInteraction, since: int = 0) -> FakeMessage:
    """The deferred reply of a slash command, once it is filled in."""
    await ix.wait_response()
    return await server.wait_for_message(predicate=lambda m: m is ix.message, since=since)


async def next_card(server: FakeDiscord, user: FakeUser, **options) -> FakeMessage:
    return await reply_to(server, await server.slash(user, "review next", options))


def entry_on(card: FakeMessage) -> int | None:
    """The entry id a card shows (from its Approve button), None when it shows none."""
    for cid in card.custom_ids:
        if cid.startswith("tacit:review:approve:"):
            return int(cid.split(":")[3].split(":")[0])
    return None


async def press(server: FakeDiscord, user: FakeUser, card: FakeMessage, action: str) -> FakeMessage:
    """Click a card's button and wait until the card shows what comes next."""
    (cid,) = [c for c in card.custom_ids if c.startswith(f"tacit:review:{action}:")]
    before, start = len(card.history), len(server.calls)
    click = await server.click(user, card, cid)
    await click.wait_response()
    await server.wait_for_message(
        predicate=lambda m: m is card and len(m.history) > before, since=start
    )
    return card


async def open_form(
    server: FakeDiscord, user: FakeUser, card: FakeMessage, action: str
) -> tuple[dict, FakeInteraction]:
    """Click a button that opens a form: its fields as {custom_id: prefilled value}, the click."""
    (cid,) = [c for c in card.custom_ids if c.startswith(f"tacit:review:{action}:")]
    click = await server.click(user, card, cid)
    await click.wait_response()
    assert click.modal is not None, click.responses
    return {c["custom_id"]: c.get("value") for c in _inputs(click.modal["components"])}, click


async def submit(
    server: FakeDiscord, user: FakeUser, card: FakeMessage, form_id: str, values: dict
) -> FakeMessage:
    before, start = len(card.history), len(server.calls)
    sub = await server.submit_modal(user, form_id, values)
    await sub.wait_response()
    await server.wait_for_message(
        predicate=lambda m: m is card and len(m.history) > before, since=start
    )
    return card


def _inputs(components: list[dict]):
    for c in components:
        if c.get("type") == 4:
            yield c
        if c.get("component"):
            yield from _inputs([c["component"]])
        yield from _inputs(c.get("components") or [])


async def audit(services, entry_id: int) -> list[AuditEvent]:
    async with services.db.sessions() as s:
        return list(
            await s.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "entry", AuditEvent.entity_id == entry_id)
                .order_by(AuditEvent.id)
            )
        )


async def row(services, entry_id: int) -> Entry:
    async with services.db.sessions() as s:
        return await s.get(Entry, entry_id)


def actor(user: FakeUser) -> str:
    return f"discord:{user.id}"

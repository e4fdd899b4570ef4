"""Plain data objects of the fake Discord: entities, recorded calls, messages, interactions.

Everything here is in-memory test state. Payload builders produce Discord API v10 shaped
dicts; the server (``server.py``) owns the objects and keeps them consistent.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from .server import FakeDiscord

DISCORD_EPOCH_MS = 1420070400000

# Channel types (https://discord.com/developers/docs/resources/channel#channel-object-channel-types)
GUILD_TEXT = 0
DM = 1
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12

# Permission bits / default permission sets
ALL_PERMISSIONS = discord.Permissions.all().value
ADMINISTRATOR = discord.Permissions(administrator=True).value
MANAGE_THREADS = discord.Permissions(manage_threads=True).value
MANAGE_MESSAGES = discord.Permissions(manage_messages=True).value

EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    use_application_commands=True,
).value

BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    create_private_threads=True,
    manage_threads=True,
    manage_messages=True,
    manage_roles=True,
    read_message_history=True,
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    use_application_commands=True,
).value

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


# A timestamp that is a multiple of this is on shard 0 for every shard count from 1 to 12.
SHARD_ZERO_SPAN_MS = math.lcm(*range(1, 13))


class Snowflakes:
    """Monotonic, time-based snowflake ids (so ``discord.Object(id).created_at`` is sane).

    Discord routes a guild to shard ``(id >> 22) % shard_count``, and ``id >> 22`` is the
    millisecond timestamp, so choosing a shard means choosing the timestamp.
    """

    def __init__(self) -> None:
        self._last = 0
        # The server's clock runs this far ahead of the machine's (FakeDiscord.advance_clock):
        # tests play minutes of typing in no time, and ids and timestamps follow.
        self.offset_ms = 0

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC).isoformat()

    def next(self) -> int:
        value = (self.now_ms() - DISCORD_EPOCH_MS) << 22
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id with ``(id >> 22) % shard_count == shard_id`` (at most a few ms ahead)."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard {shard_id} is not in range(0, {shard_count})")
        value = self.next()
        bump = (shard_id - (value >> 22)) % shard_count
        if bump:
            value = ((value >> 22) + bump) << 22
            self._last = value
        return value

    def on_shard_zero(self) -> int:
        """An id on shard 0 for any shard count up to 12, a little in the past (<28 s).

        Its low 22 bits are all set, which ``next()`` never reaches within one millisecond,
        so it cannot collide with the monotonic ids.
        """
        ms = self.now_ms() - DISCORD_EPOCH_MS
        return ((ms - ms % SHARD_ZERO_SPAN_MS) << 22) | ((1 << 22) - 1)


@dataclass(eq=False)
class FakeUser:
    """A Discord user; ``in_guild``/``role_ids`` describe its membership of the *default* guild.

    Membership of other guilds lives in their :class:`FakeMember` objects.
    """

    id: int
    name: str
    bot: bool = False
    in_guild: bool = True
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    dms_open: bool = True  # False: the bot gets 403/50007 when it DMs this user
    joined_at: str = field(default_factory=now_iso)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
        }

    def __repr__(self) -> str:
        return f"<FakeUser {self.name} id={self.id}>"


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 1
    managed: bool = False
    color: int = 0
    guild_id: int = 0

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": True,
            "flags": 0,
        }

    def __repr__(self) -> str:
        return f"<FakeRole {self.name} id={self.id}>"


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int


@dataclass(eq=False)
class FakeMember:
    """A user's membership of a guild other than the default one."""

    user: FakeUser
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=now_iso)

    def __repr__(self) -> str:
        return f"<FakeMember {self.user.name} guild={self.guild_id}>"


@dataclass(eq=False)
class FakeChannel:
    """A guild text channel, a thread (type 11/12) or a DM channel (type 1)."""

    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    parent_id: int | None = None
    owner_id: int | None = None
    topic: str | None = None
    position: int = 0
    recipients: list[FakeUser] = field(default_factory=list)
    member_ids: set[int] = field(default_factory=set)  # threads only
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 10080
    created_at: str = field(default_factory=now_iso)
    messages: list[FakeMessage] = field(default_factory=list)
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def last_message_id(self) -> str | None:
        return str(self.messages[-1].id) if self.messages else None

    def payload(self) -> dict[str, Any]:
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": self.last_message_id,
                "recipients": [u.payload() for u in self.recipients],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": self.last_message_id,
            "rate_limit_per_user": 0,
            "flags": 0,
            "nsfw": False,
        }
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id),
                message_count=len([m for m in self.messages if not m.deleted]),
                total_message_sent=len(self.messages),
                member_count=min(len(self.member_ids), 50),
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "invitable": self.invitable,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": self.created_at,
                    "create_timestamp": self.created_at,
                },
            )
        else:
            data.update(position=self.position, topic=self.topic, permission_overwrites=[])
        return data

    def __repr__(self) -> str:
        return f"<FakeChannel #{self.name or 'dm'} type={self.type} id={self.id}>"


@dataclass(eq=False)
class FakeAttachment:
    """A file stored by the fake; served at ``url`` so ``Attachment.read()`` works."""

    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data

    def __repr__(self) -> str:
        return f"<FakeAttachment {self.filename!r} {self.size} bytes>"


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Depth-first walk over a (v1 or v2) component tree."""
    for comp in components or []:
        yield comp
        yield from walk_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from walk_components([comp[key]])


class FakeMessage:
    """A message held by the fake. ``raw`` is the current Discord payload."""

    def __init__(
        self,
        raw: dict[str, Any],
        *,
        attachments: list[FakeAttachment] | None = None,
        visible_to: int | None = None,
        interaction_id: int | None = None,
    ) -> None:
        self.raw = raw
        self.attachments: list[FakeAttachment] = list(attachments or [])
        self.visible_to = visible_to  # user id, for ephemeral messages
        self.interaction_id = interaction_id
        self.history: list[dict[str, Any]] = []  # previous versions of ``raw``
        self.deleted = False

    # --- accessors -------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return int(self.raw["id"])

    @property
    def channel_id(self) -> int:
        return int(self.raw["channel_id"])

    @property
    def author_id(self) -> int:
        return int(self.raw["author"]["id"])

    @property
    def content(self) -> str:
        return self.raw.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.raw.get("embeds") or []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.raw.get("components") or []

    @property
    def flags(self) -> int:
        return int(self.raw.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred ("thinking...") interaction response not yet filled in."""
        return bool(self.flags & LOADING)

    @property
    def edited(self) -> bool:
        return bool(self.history)

    @property
    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if "custom_id" in c]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        for comp in walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    @property
    def text(self) -> str:
        """Content plus embed titles/descriptions/fields and text displays, for loose asserts."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title") or "", embed.get("description") or ""]
            for fld in embed.get("fields") or []:
                parts += [fld.get("name") or "", fld.get("value") or ""]
        for comp in walk_components(self.components):
            if comp.get("type") == 10:
                parts.append(comp.get("content") or "")
        return "\n".join(p for p in parts if p)

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        flags += " deleted" if self.deleted else ""
        return f"<FakeMessage id={self.id} channel={self.channel_id}{flags} content={self.content[:60]!r}>"


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(eq=False)
class Call:
    """One REST request the bot made, as the fake answered it."""

    index: int
    method: str
    path: str  # e.g. "/channels/123/messages" (relative to /api/v10)
    query: dict[str, str]
    json: Any  # parsed JSON body, or the payload_json of a multipart body
    files: list[UploadedFile] = field(default_factory=list)
    route: str | None = None  # template, e.g. "/channels/{channel_id}/messages"; None = unknown
    params: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)  # extra ones, e.g. on a 429
    message: FakeMessage | None = None  # message created/edited by this call
    interaction: FakeInteraction | None = None  # interaction this call answered
    at: float = field(default_factory=time.monotonic)

    @property
    def known(self) -> bool:
        return self.route is not None

    @property
    def key(self) -> str:
        return f"{self.method} {self.route or self.path}"

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def matches(self, method: str | None = None, route: str | None = None, **params: Any) -> bool:
        """``route`` may be a template ("/channels/{channel_id}/messages") or a literal path."""
        if method is not None and self.method != method.upper():
            return False
        if route is not None and route not in (self.route, self.path):
            return False
        return all(str(self.params.get(k)) == str(v) for k, v in params.items())

    def __repr__(self) -> str:
        body = ""
        if isinstance(self.json, dict):
            keys = ("type", "content", "flags", "name")
            body = " " + str({k: self.json[k] for k in keys if k in self.json})[:120]
        return f"<Call #{self.index} {self.method} {self.path} -> {self.status}{body}>"


class FakeInteraction:
    """An interaction the fake dispatched on behalf of a scripted user."""

    def __init__(
        self,
        server: FakeDiscord,
        *,
        id: int,
        token: str,
        type: int,
        user: FakeUser,
        channel: FakeChannel,
        payload: dict[str, Any],
        source_message: FakeMessage | None = None,
    ) -> None:
        self.server = server
        self.id = id
        self.token = token
        self.type = type
        self.user = user
        self.channel = channel
        self.payload = payload
        self.source_message = source_message  # the message a component/modal came from
        self.created_at = asyncio.get_running_loop().time()
        self.callback_call: Call | None = None
        self.response_type: int | None = None
        self.original_message: FakeMessage | None = None
        self.followup_messages: list[FakeMessage] = []
        self.deferred_followup_pending = False

    @property
    def data(self) -> dict[str, Any]:
        return self.payload.get("data") or {}

    @property
    def responded(self) -> bool:
        return self.response_type is not None

    @property
    def responses(self) -> list[Call]:
        """The callback plus every webhook call made with this interaction's token."""
        return self.server.interaction_responses(self)

    @property
    def message(self) -> FakeMessage | None:
        """The ``@original`` response message (new message, or the updated component message)."""
        return self.original_message

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal data if the bot answered with a modal (callback type 9)."""
        if self.callback_call is not None and self.response_type == 9:
            return self.callback_call.json.get("data")
        return None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """Autocomplete choices if the bot answered an autocomplete (callback type 8)."""
        if self.callback_call is not None and self.response_type == 8:
            return (self.callback_call.json.get("data") or {}).get("choices", [])
        return None

    async def wait_response(self, timeout: float = 10.0) -> Call:  # noqa: ASYNC109
        """Wait for the interaction callback (the initial response)."""
        return await self.server.wait_for(
            lambda c: (
                c.interaction is self and c.route is not None and c.route.endswith("/callback")
            ),
            timeout=timeout,
            since=0,
            what=f"a response to interaction {self.id}",
        )

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} user={self.user.name}>"

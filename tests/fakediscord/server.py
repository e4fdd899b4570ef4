"""FakeDiscord: an in-memory Discord (REST + gateway) served over loopback with aiohttp.

The real discord.py client talks to it through its real HTTP client and gateway code;
the fake records every REST call so tests can assert on what the bot did.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import re
import traceback
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .actions import UserActionsMixin
from .endpoints import point_discord_at, restore_discord
from .errors import ApiError, WaitTimeout, form_error, json_response, rate_limited
from .gateway import (
    DIRECT_MESSAGES,
    GUILD_MESSAGES,
    GUILDS,
    MESSAGE_CONTENT,
    Connection,
    GatewayMixin,
    GatewaySession,
)
from .models import (
    BOT_PERMISSIONS,
    DM,
    EPHEMERAL,
    LOADING,
    MANAGE_THREADS,
    PRIVATE_THREAD,
    Call,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    Snowflakes,
    UploadedFile,
)
from .rest import ROUTES, RestMixin
from .validation import validate_message
from .world import GuildWorld, populate, shard_of

_MENTION_RE = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


class FakeDiscord(RestMixin, UserActionsMixin, GatewayMixin):
    """A fake Discord with one guild, a few users and a text channel (more guilds on request).

    Default world (all attributes): ``guild``; roles ``everyone_role``, ``bot_role``,
    ``curator_role``, ``admin_role`` (administrator); users ``bot_user``, ``expert``,
    ``curator`` (curator role), ``admin`` (admin role, guild owner), ``stranger`` (no roles);
    channel ``general``. All are guild members. The default guild is on shard 0 for any
    shard count up to 12; ``add_guild()`` adds more guilds (``GuildWorld``).
    ``shard_count`` is what ``GET /gateway/bot`` recommends.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "tacit",
        guild_name: str = "Tacit Test Guild",
        interaction_deadline: float | None = 3.0,
        bot_permissions: int = BOT_PERMISSIONS,
        heartbeat_interval_ms: int = 41250,
        shard_count: int = 1,
    ) -> None:
        if shard_count < 1:
            raise ValueError("shard_count must be at least 1")
        self.ids = Snowflakes()
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.shard_count = shard_count
        self.url: str = ""
        self.application_id = self.ids.next()
        self._bot_name = bot_name
        self._bot_permissions = bot_permissions

        self.users: dict[int, FakeUser] = {}
        self.roles: dict[int, FakeRole] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.worlds: dict[int, GuildWorld] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        # scope (None = global, else guild id) -> command name/type -> command payload
        self.commands: dict[int | None, dict[tuple[str, int], dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._open_modals: dict[tuple[int, str], tuple[dict[str, Any], FakeInteraction]] = {}

        self.calls: list[Call] = []
        self.internal_errors: list[str] = []
        self._waiters: list[tuple[Callable[[Call], bool], asyncio.Future[Call]]] = []
        self._mark = 0
        self._failures: list[dict[str, Any]] = []
        self._slow: list[dict[str, Any]] = []
        self._in_flight = 0

        self.sessions: dict[str, GatewaySession] = {}
        self._connections: set[Connection] = set()
        self.gateway_received: list[dict[str, Any]] = []
        self.identifies: list[dict[str, Any]] = []
        # ("identify" | "resume", session) in order, for waiting on reconnects
        self.gateway_log: list[tuple[str, GatewaySession]] = []
        self.presence: dict[str, Any] | None = None
        self.resumes = 0

        self._runner: web.AppRunner | None = None
        self._routes = [
            (m, re.compile(_template_regex(t)), t, h, _specificity(t)) for m, t, h in ROUTES
        ]

        # --- default world ---
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.users[self.bot_user.id] = self.bot_user
        # on shard 0 whatever shard count a test picks, so single-guild tests stay predictable
        self.guild = FakeGuild(self.ids.on_shard_zero(), guild_name, owner_id=0)
        self.default_world = world = GuildWorld(self, self.guild, default=True)
        self.worlds[self.guild.id] = world
        populate(world, bot_user=self.bot_user, bot_name=bot_name, bot_permissions=bot_permissions)
        self.everyone_role = world.everyone_role
        self.curator_role = world.curator_role
        self.admin_role = world.admin_role
        self.bot_role = world.bot_role
        self.expert = world.expert
        self.curator = world.curator
        self.admin = world.admin
        self.stranger = world.stranger
        self.general = world.general

    # ------------------------------------------------------------------ world building
    def add_user(
        self,
        name: str,
        *,
        roles: Sequence[FakeRole] = (),
        in_guild: bool = True,
        bot: bool = False,
    ) -> FakeUser:
        """A new user; ``in_guild``/``roles`` are about the default guild."""
        user = FakeUser(
            self.ids.next(), name, bot=bot, in_guild=in_guild, role_ids=[r.id for r in roles]
        )
        self.users[user.id] = user
        return user

    def add_role(self, name: str, permissions: int = 0, *, managed: bool = False) -> FakeRole:
        """A role in the default guild."""
        return self.default_world.add_role(name, permissions, managed=managed)

    def add_text_channel(self, name: str, *, topic: str | None = None) -> FakeChannel:
        """A text channel in the default guild."""
        return self.default_world.add_text_channel(name, topic=topic)

    def add_guild(
        self,
        name: str | None = None,
        *,
        id: int | None = None,
        shard: int | None = None,
        shard_count: int | None = None,
        admin: FakeUser | None = None,
        curator: FakeUser | None = None,
        expert: FakeUser | None = None,
        stranger: FakeUser | None = None,
    ) -> GuildWorld:
        """Another guild with its own roles, ``general`` channel and inhabitants.

        ``shard`` picks an id with ``(id >> 22) % shard_count == shard`` (``shard_count``
        defaults to the server's). New users are named ``expert-2``, ``curator-2``...;
        pass e.g. ``expert=server.expert`` to make an existing user (same id) play a part.
        The bot is a member with its own managed role. Call it before starting the bot, or
        then ``await server.join_guild(world)`` to tell a running bot.
        """
        n = len(self.worlds) + 1
        if id is not None:
            if id in self.worlds or id in self.roles or id in self.channels:
                raise ValueError(f"id {id} is already used")
            if shard is not None and shard_of(id, shard_count or self.shard_count) != shard:
                raise ValueError(f"guild id {id} is not on shard {shard}")
            guild_id = id
        elif shard is not None:
            guild_id = self.ids.next_on_shard(shard, shard_count or self.shard_count)
        else:
            guild_id = self.ids.next()
        guild = FakeGuild(guild_id, name or f"Guild {n}", owner_id=0)
        world = GuildWorld(self, guild, default=False)
        self.worlds[guild.id] = world
        return populate(
            world,
            bot_user=self.bot_user,
            bot_name=self._bot_name,
            bot_permissions=self._bot_permissions,
            suffix=f"-{n}",
            admin=admin,
            curator=curator,
            expert=expert,
            stranger=stranger,
        )

    async def join_guild(self, world: GuildWorld) -> None:
        """The running bot was added to ``world``: GUILD_CREATE to the shard owning it."""

        def payload(session: GatewaySession) -> dict[str, Any]:
            data = self.guild_payload(full=True, session=session, guild=world)
            # no ``unavailable`` key: that is how discord.py tells a join (on_guild_join)
            # from an outage ending (on_guild_available)
            del data["unavailable"]
            return data

        await self.dispatch("GUILD_CREATE", payload, intent=GUILDS, guild_id=world.id)

    @property
    def guilds(self) -> list[FakeGuild]:
        return [w.guild for w in self.worlds.values()]

    def world(self, where: Any = None) -> GuildWorld:
        """The ``GuildWorld`` of a guild, guild id, channel, role or world (None: default)."""
        if where is None:
            return self.default_world
        if isinstance(where, GuildWorld):
            return where
        if isinstance(where, FakeGuild):
            where = where.id
        elif isinstance(where, FakeChannel):
            if where.guild_id is None:
                raise LookupError(f"{where!r} is not in a guild")
            where = where.guild_id
        elif isinstance(where, FakeRole):
            where = where.guild_id
        try:
            return self.worlds[int(where)]
        except (KeyError, ValueError, TypeError):
            raise LookupError(f"no guild {where!r} in the fake") from None

    def shard_of(self, where: Any, shard_count: int | None = None) -> int:
        """The shard a guild (or guild channel) lands on; DMs are on shard 0."""
        if isinstance(where, FakeChannel) and where.guild_id is None:
            return 0
        return shard_of(self.world(where).id, shard_count or self.shard_count)

    def dm(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created if needed)."""
        for channel in self.channels.values():
            if channel.is_dm and channel.recipients and channel.recipients[0] is user:
                return channel
        channel = FakeChannel(self.ids.next(), DM, recipients=[user])
        self.channels[channel.id] = channel
        return channel

    @property
    def threads(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.is_thread and not c.deleted]

    def channel(self, channel: FakeChannel | int | str) -> FakeChannel:
        if isinstance(channel, FakeChannel):
            return channel
        try:
            return self.channels[int(channel)]
        except (KeyError, ValueError):
            raise LookupError(f"no channel {channel!r} in the fake") from None

    def user(self, user: FakeUser | int | str) -> FakeUser:
        if isinstance(user, FakeUser):
            return user
        try:
            return self.users[int(user)]
        except (KeyError, ValueError):
            raise LookupError(f"no user {user!r} in the fake") from None

    def message(self, message: FakeMessage | int | str) -> FakeMessage:
        if isinstance(message, FakeMessage):
            return message
        try:
            return self.messages[int(message)]
        except (KeyError, ValueError):
            raise LookupError(f"no message {message!r} in the fake") from None

    def permissions_of(self, user: FakeUser, guild: Any = None) -> int:
        """Guild-level permissions in ``guild`` (default guild if None; no channel overwrites)."""
        return self.world(guild).permissions_of(user)

    def can_view(self, user: FakeUser, channel: FakeChannel) -> bool:
        if channel.deleted:
            return False
        if channel.is_dm:
            return user is self.bot_user or user in channel.recipients
        world = self.world(channel)
        if not world.is_member(user):
            return False
        if channel.type == PRIVATE_THREAD:
            return user.id in channel.member_ids or bool(
                world.permissions_of(user) & MANAGE_THREADS
            )
        return True

    # ------------------------------------------------------------------ payload builders
    def member_payload(
        self, user: FakeUser, *, with_user: bool = True, guild: Any = None
    ) -> dict[str, Any]:
        member = self.world(guild).member(user)
        if member is None:
            raise LookupError(f"{user!r} is not a member of {self.world(guild)!r}")
        data: dict[str, Any] = {
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in member.role_ids],
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = user.payload()
        return data

    def channel_payload(
        self, channel: FakeChannel, *, for_user: FakeUser | None = None
    ) -> dict[str, Any]:
        data = channel.payload()
        if for_user is not None and not channel.is_dm:
            data["permissions"] = str(self.permissions_of(for_user, channel))
        return data

    def guild_payload(
        self, *, full: bool = False, session: GatewaySession | None = None, guild: Any = None
    ) -> dict[str, Any]:
        world = self.world(guild)
        data: dict[str, Any] = {
            "id": str(world.id),
            "name": world.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(world.guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "roles": [r.payload() for r in world.roles],
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
        }
        if full:
            members = world.members
            sent = members
            if session is not None and not session.has(2):  # GUILD_MEMBERS
                sent = [self.bot_user]
            data.update(
                joined_at=world.member(self.bot_user).joined_at,  # type: ignore[union-attr]
                large=False,
                unavailable=False,
                member_count=len(members),
                members=[self.member_payload(u, guild=world) for u in sent],
                channels=[c.payload() for c in world.text_channels],
                threads=[
                    t.payload()
                    for t in world.threads
                    if not t.archived and self.can_view(self.bot_user, t)
                ],
                voice_states=[],
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[],
                soundboard_sounds=[],
            )
        return data

    def _message_payload(
        self,
        *,
        channel: FakeChannel,
        author: FakeUser,
        data: dict[str, Any],
        attachments: list[FakeAttachment],
        type: int = 0,
        interaction: FakeInteraction | None = None,
    ) -> dict[str, Any]:
        content = data.get("content") or ""
        world = self.worlds.get(channel.guild_id or 0)
        mentions = []
        for uid in dict.fromkeys(_MENTION_RE.findall(content)):
            if int(uid) in self.users:
                u = self.users[int(uid)]
                m = u.payload()
                if world is not None and world.is_member(u):
                    m["member"] = self.member_payload(u, with_user=False, guild=world)
                mentions.append(m)
        payload: dict[str, Any] = {
            "id": str(self.ids.next()),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": self.ids.now_iso(),
            "edited_timestamp": None,
            "tts": bool(data.get("tts")),
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": list(dict.fromkeys(_ROLE_MENTION_RE.findall(content))),
            "attachments": [a.payload() for a in attachments],
            "embeds": [_normalize_embed(e) for e in data.get("embeds") or []],
            "components": data.get("components") or [],
            "pinned": False,
            "type": type,
            "flags": int(data.get("flags") or 0),
        }
        if data.get("nonce") is not None:
            payload["nonce"] = data["nonce"]
        if world is not None:
            payload["guild_id"] = str(world.id)
            if world.is_member(author) and interaction is None:
                payload["member"] = self.member_payload(author, with_user=False, guild=world)
        ref = data.get("message_reference")
        if ref and ref.get("message_id"):
            ref_id = int(ref["message_id"])
            referenced = self.messages.get(ref_id)
            if referenced is None or referenced.deleted:
                if ref.get("fail_if_not_exists", True):
                    raise form_error(
                        "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
            else:
                payload["type"] = 19 if type == 0 else type
                payload["message_reference"] = {
                    "type": 0,
                    "message_id": str(ref_id),
                    "channel_id": str(referenced.channel_id),
                    **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
                }
                payload["referenced_message"] = {
                    k: v for k, v in referenced.raw.items() if k != "referenced_message"
                }
        if interaction is not None:
            payload["webhook_id"] = str(self.application_id)
            payload["application_id"] = str(self.application_id)
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if interaction.type == 2:
                payload["interaction_metadata"]["name"] = interaction.data.get("name")
        return payload

    # ------------------------------------------------------------------ messages
    def new_attachment(
        self,
        filename: str,
        data: bytes | str,
        content_type: str | None = None,
        description: str | None = None,
    ) -> FakeAttachment:
        if isinstance(data, str):
            data = data.encode()
        if content_type is None:
            guessed = mimetypes.guess_type(filename)[0]
            if guessed and guessed.startswith("text/"):
                guessed += "; charset=utf-8"
            content_type = guessed
        att_id = self.ids.next()
        att = FakeAttachment(
            att_id,
            filename,
            data,
            url=f"{self.url}/attachments/{att_id}/{quote(filename)}",
            content_type=content_type,
            description=description,
        )
        self.attachments[att_id] = att
        return att

    def _attachments_from(
        self, data: dict[str, Any], files: list[UploadedFile], existing: list[FakeAttachment]
    ) -> list[FakeAttachment] | None:
        """Resolve a payload's ``attachments`` (+ uploaded ``files[n]``); None = unchanged."""
        uploads = {}
        for f in files:
            m = re.fullmatch(r"files\[(\d+)\]", f.field)
            uploads[int(m.group(1)) if m else len(uploads)] = f
        if "attachments" not in data:
            if not uploads:
                return None
            return existing + [
                self.new_attachment(f.filename, f.data, f.content_type) for f in uploads.values()
            ]
        result = []
        by_id = {a.id: a for a in existing}
        for i, entry in enumerate(data.get("attachments") or []):
            att_id = int(entry.get("id", i))
            if att_id in uploads:
                f = uploads[att_id]
                result.append(
                    self.new_attachment(
                        entry.get("filename") or f.filename,
                        f.data,
                        f.content_type,
                        entry.get("description"),
                    )
                )
            elif att_id in by_id:
                result.append(by_id[att_id])
            else:
                raise form_error(
                    f"attachments.{i}.id", "ATTACHMENT_NOT_FOUND", "Unknown attachment"
                )
        return result

    async def create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        data: dict[str, Any],
        files: Sequence[UploadedFile] = (),
        *,
        attachments: list[FakeAttachment] | None = None,
        interaction: FakeInteraction | None = None,
        validate: bool = True,
    ) -> FakeMessage:
        """Store a message and dispatch MESSAGE_CREATE (not for ephemeral messages)."""
        if validate:
            validate_message(data, files=list(files), creating=True)
        if attachments is None:
            attachments = self._attachments_from(data, list(files), []) or []
        msg_type = 0
        if interaction is not None and interaction.type == 2:
            msg_type = 20 if interaction.data.get("type", 1) == 1 else 23
        raw = self._message_payload(
            channel=channel,
            author=author,
            data=data,
            attachments=attachments,
            type=msg_type,
            interaction=interaction,
        )
        ephemeral = bool(raw["flags"] & EPHEMERAL)
        msg = FakeMessage(
            raw,
            attachments=attachments,
            visible_to=interaction.user.id if (ephemeral and interaction) else None,
            interaction_id=interaction.id if interaction else None,
        )
        channel.messages.append(msg)
        self.messages[msg.id] = msg
        if not ephemeral:
            await self._dispatch_message("MESSAGE_CREATE", msg, channel)
        return msg

    async def edit_message(
        self,
        msg: FakeMessage,
        data: dict[str, Any],
        files: Sequence[UploadedFile] = (),
    ) -> FakeMessage:
        """Apply an edit payload and dispatch MESSAGE_UPDATE (not for ephemeral messages)."""
        validate_message(data, files=list(files), creating=False)
        msg.history.append(json.loads(json.dumps(msg.raw)))
        raw = msg.raw
        if "content" in data:
            raw["content"] = data["content"] or ""
            raw["mentions"] = [
                self.users[int(u)].payload()
                for u in dict.fromkeys(_MENTION_RE.findall(raw["content"]))
                if int(u) in self.users
            ]
        if "embeds" in data:
            raw["embeds"] = [_normalize_embed(e) for e in data["embeds"] or []]
        if "components" in data:
            raw["components"] = data["components"] or []
        if "flags" in data and data["flags"] is not None:
            keep = raw.get("flags", 0) & EPHEMERAL
            raw["flags"] = (int(data["flags"]) & ~EPHEMERAL & ~LOADING) | keep
        raw["flags"] = raw.get("flags", 0) & ~LOADING
        new_attachments = self._attachments_from(data, list(files), msg.attachments)
        if new_attachments is not None:
            msg.attachments = new_attachments
            raw["attachments"] = [a.payload() for a in new_attachments]
        raw["edited_timestamp"] = self.ids.now_iso()
        if not msg.ephemeral:
            await self._dispatch_message("MESSAGE_UPDATE", msg, self.channels[msg.channel_id])
        return msg

    async def delete_message(self, msg: FakeMessage) -> None:
        msg.deleted = True
        if not msg.ephemeral:
            channel = self.channels[msg.channel_id]
            data = {"id": str(msg.id), "channel_id": str(channel.id)}
            if channel.guild_id:
                data["guild_id"] = str(channel.guild_id)
            await self.dispatch(
                "MESSAGE_DELETE", data, intent=DIRECT_MESSAGES if channel.is_dm else GUILD_MESSAGES
            )

    async def _dispatch_message(self, event: str, msg: FakeMessage, channel: FakeChannel) -> None:
        bot_id = str(self.bot_user.id)

        def visible(session: GatewaySession) -> dict[str, Any]:
            raw = msg.raw
            if channel.is_dm or session.has(MESSAGE_CONTENT) or raw["author"]["id"] == bot_id:
                return raw
            if any(m["id"] == bot_id for m in raw.get("mentions", [])):
                return raw
            # no MESSAGE_CONTENT intent: Discord blanks these fields
            return {**raw, "content": "", "embeds": [], "attachments": [], "components": []}

        await self.dispatch(
            event, visible, intent=DIRECT_MESSAGES if channel.is_dm else GUILD_MESSAGES
        )

    def messages_in(
        self, channel: FakeChannel | int, *, from_users: bool = False, include_deleted: bool = False
    ) -> list[FakeMessage]:
        """Messages in ``channel``, oldest first: by default only the bot's, not deleted.

        Includes ephemeral interaction responses (``msg.ephemeral``) and follow-ups.
        """
        ch = self.channel(channel)
        return [
            m
            for m in ch.messages
            if (from_users or m.author_id == self.bot_user.id)
            and (include_deleted or not m.deleted)
        ]

    def interaction_responses(self, interaction: FakeInteraction | int) -> list[Call]:
        """The callback and every webhook (follow-up / @original) call of an interaction."""
        iid = interaction.id if isinstance(interaction, FakeInteraction) else int(interaction)
        return [c for c in self.calls if c.interaction is not None and c.interaction.id == iid]

    # ------------------------------------------------------------------ commands
    def command(
        self, name: str, *, guild: bool | None = None, where: Any = None
    ) -> dict[str, Any] | None:
        """A synced chat-input command by top-level name (guild scope first, then global).

        ``guild=True`` looks only at the guild scope, ``False`` only at global commands;
        ``where`` names the guild (default: the default guild).
        """
        gid = self.world(where).id
        scopes: list[int | None] = [gid, None] if guild is not False else [None]
        if guild is True:
            scopes = [gid]
        for scope in scopes:
            cmd = self.commands.get(scope, {}).get((name, 1))
            if cmd is not None:
                return cmd
        return None

    # ------------------------------------------------------------------ recording & waiting
    def _record(self, call: Call) -> None:
        self.calls.append(call)
        for predicate, future in list(self._waiters):
            if not future.done() and _safe(predicate, call):
                future.set_result(call)

    def mark(self) -> int:
        """Make later ``wait_for`` calls (with ``since=None``) ignore calls recorded so far."""
        self._mark = len(self.calls)
        return self._mark

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        since: int | None = None,
        what: str | None = None,
    ) -> Call:
        """Return the first recorded call matching ``predicate`` (exceptions count as no match).

        Looks at calls recorded since ``since`` (default: the last scripted user action or
        ``mark()``), then waits up to ``timeout`` seconds for a new one.
        """
        start = self._mark if since is None else since
        for call in self.calls[start:]:
            if _safe(predicate, call):
                return call
        future: asyncio.Future[Call] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            recent = "\n".join(f"  {c!r}" for c in self.calls[start:][-15:]) or "  (none)"
            offline = "" if self.gateway_connected() else " (no bot is connected to the gateway!)"
            raise WaitTimeout(
                f"timed out after {timeout}s waiting for {what or 'a matching call'}{offline}; "
                f"calls since #{start}:\n{recent}"
            ) from None
        finally:
            self._waiters.remove(entry)

    async def wait_for_call(
        self,
        method: str,
        route: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        since: int | None = None,
        **params: Any,
    ) -> Call:
        """Wait for a call to ``route`` (template or literal path) with the given path params."""
        return await self.wait_for(
            lambda c: c.matches(method, route, **params),
            timeout=timeout,
            since=since,
            what=f"{method} {route} {params or ''}",
        )

    async def wait_for_message(
        self,
        channel: FakeChannel | int | None = None,
        predicate: Callable[[FakeMessage], bool] | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> FakeMessage:
        """Wait until the bot posts (or fills in a deferred) message in ``channel``."""
        cid = None if channel is None else self.channel(channel).id

        def match(call: Call) -> bool:
            m = call.message
            return (
                m is not None
                and call.ok
                and not m.loading
                and m.author_id == self.bot_user.id
                and (cid is None or m.channel_id == cid)
                and (predicate is None or predicate(m))
            )

        call = await self.wait_for(
            match, timeout=timeout, since=since, what=f"a bot message in {cid}"
        )
        assert call.message is not None
        return call.message

    async def idle(self, quiet: float = 0.05, timeout: float = 2.0) -> bool:  # noqa: ASYNC109
        """Wait until no REST call is in flight and none arrived for ``quiet`` seconds.

        Returns False if that did not happen within ``timeout``. Work the bot does without
        calling Discord (e.g. a slow LLM call) is invisible here.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            seen = len(self.calls)
            await asyncio.sleep(quiet)
            if self._in_flight == 0 and len(self.calls) == seen:
                return True
        return False

    @property
    def unknown_calls(self) -> list[Call]:
        """Calls to routes the fake does not implement (answered 404)."""
        return [c for c in self.calls if not c.known]

    def fail_next(
        self,
        method: str,
        route: str,
        *,
        status: int = 503,
        code: int = 0,
        message: str = "injected failure",
        times: int = 1,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        """Make the next ``times`` matching calls fail before they do anything.

        discord.py retries 500, 502, 504 and 524 after sleeping 1, 3, 5, 7 then 9 s (five
        attempts in all); 503 and 4xx are raised at once. Keep ``times`` small.
        """
        self._add_failure(
            method, route, times, params, lambda: ApiError(status, code, message, headers=headers)
        )

    def slow_next(
        self, method: str, route: str, seconds: float, *, times: int = 1, **params: Any
    ) -> None:
        """Answer the next ``times`` matching calls ``seconds`` late: what they did (a message
        posted, say) is already seen by everyone else, as when Discord's reply is slow to come
        back while its gateway has already shown the message."""
        self._slow.append(_injection(method, route, times, params, seconds=seconds))

    def rate_limit_next(
        self,
        method: str,
        route: str,
        *,
        retry_after: float = 0.05,
        scope: str = "user",
        times: int = 1,
        bucket: str | None = None,
        cloudflare: bool = False,
        **params: Any,
    ) -> None:
        """Answer the next ``times`` matching calls with a 429 as Discord sends it.

        ``scope`` is ``"user"`` (per-route bucket), ``"shared"`` (per resource) or
        ``"global"`` (``global: true``: discord.py then holds back *every* request for
        ``retry_after``). discord.py sleeps the body's ``retry_after`` and retries, five
        attempts in all; it raises ``RateLimited`` at once if ``retry_after`` exceeds the
        client's ``max_ratelimit_timeout``. ``cloudflare=True`` sends the HTML 429 of an IP
        ban instead, which discord.py raises as ``HTTPException`` without retrying.
        """
        if scope not in ("user", "shared", "global"):
            raise ValueError(f"scope must be user, shared or global, not {scope!r}")
        bucket = bucket or f"fake-{zlib.crc32(f'{method.upper()} {route}'.encode()):08x}"
        self._add_failure(
            method,
            route,
            times,
            params,
            lambda: rate_limited(retry_after, scope, bucket, cloudflare=cloudflare),
        )

    def _add_failure(
        self,
        method: str,
        route: str,
        times: int,
        params: dict[str, Any],
        make: Callable[[], ApiError],
    ) -> None:
        self._failures.append(_injection(method, route, times, params, make=make))

    def _internal_error(self, text: str) -> None:
        self.internal_errors.append(text)

    # ------------------------------------------------------------------ HTTP plumbing
    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_route("*", "/{tail:.*}", self._api_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def close(self) -> None:
        for conn in list(self._connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and gateway URL at this fake (restored on exit).

        For a bot in another process, ``python -m fakediscord.launch`` does the same there.
        """
        if not self.url:
            raise RuntimeError("start the FakeDiscord before patching discord.py")
        old = point_discord_at(self.url)
        try:
            yield
        finally:
            restore_discord(old)

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        try:
            att = self.attachments[int(request.match_info["attachment_id"])]
        except (KeyError, ValueError):
            return web.Response(status=404, text="not found")
        return web.Response(
            body=att.data, headers={"Content-Type": att.content_type or "application/octet-stream"}
        )

    async def _parse_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if part is None:
                    break
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    files.append(
                        UploadedFile(
                            part.name or "",
                            part.filename or part.name or "file",
                            bytes(data),
                            part.headers.get("Content-Type"),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    def _match_route(self, method: str, path: str):
        best = None
        path_matched = False
        for m, regex, template, handler, score in self._routes:
            found = regex.fullmatch(path)
            if not found:
                continue
            path_matched = True
            if m != method:
                continue
            if best is None or score > best[3]:
                best = (template, handler, found.groupdict(), score)
        return best, path_matched

    async def _api_handler(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        try:
            return await self._answer(request)
        finally:
            self._in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        raw_path = request.path
        path = raw_path[len("/api/v10") :] if raw_path.startswith("/api/v10/") else raw_path
        body, files = await self._parse_body(request)
        call = Call(
            index=len(self.calls),
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
        )
        status, response, headers = 200, None, {}
        try:
            match, path_matched = self._match_route(request.method, path)
            if not raw_path.startswith("/api/v10/"):
                match = None
            if match is None:
                if path_matched:
                    raise ApiError(405, 0, "405: Method Not Allowed")
                raise ApiError(404, 0, "404: Not Found")
            template, handler, params, _ = match
            call.route, call.params = template, params
            if not template.startswith(("/webhooks/", "/interactions/")):
                if request.headers.get("Authorization") != f"Bot {self.token}":
                    raise ApiError(401, 0, "401: Unauthorized")
            self._maybe_fail(call)
            result = await getattr(self, handler)(call)
            if isinstance(result, tuple):
                status, response = result
            else:
                status, response = (204, None) if result is None else (200, result)
        except ApiError as exc:
            status, response, headers = exc.status, exc.body(), exc.headers
        except Exception:
            tb = traceback.format_exc()
            self._internal_error(f"{request.method} {path}:\n{tb}")
            status, response = (
                400,
                {"message": f"fakediscord internal error: {tb.splitlines()[-1]}", "code": 0},
            )
        call.status, call.response, call.response_headers = status, response, headers
        self._record(call)
        await self._maybe_slow(call)
        if status == 204:
            return web.Response(status=204)
        return json_response(response, status, headers)

    async def _maybe_slow(self, call: Call) -> None:
        if (slow := _take(self._slow, call)) is not None:
            await asyncio.sleep(slow["seconds"])

    def _maybe_fail(self, call: Call) -> None:
        if (failure := _take(self._failures, call)) is not None:
            raise failure["make"]()


# ---------------------------------------------------------------------- helpers
def _injection(
    method: str, route: str, times: int, params: dict[str, Any], **what: Any
) -> dict[str, Any]:
    """A failure or delay for the next ``times`` calls matching method, route and params."""
    return {"method": method.upper(), "route": route, "params": params, "times": times, **what}


def _take(injections: list[dict[str, Any]], call: Call) -> dict[str, Any] | None:
    """The first injection still due that matches ``call``, counted as used."""
    for injection in injections:
        if injection["times"] > 0 and call.matches(
            injection["method"], injection["route"], **injection["params"]
        ):
            injection["times"] -= 1
            return injection
    return None


def _template_regex(template: str) -> str:
    out = ""
    for part in re.split(r"(\{\w+\})", template):
        if part.startswith("{"):
            name = part[1:-1]
            # ids are numeric (or @me/@original), so e.g. /messages/pins is not /messages/{message_id}
            pattern = r"\d+|@me|@original" if name.endswith("_id") else "[^/]+"
            out += f"(?P<{name}>{pattern})"
        else:
            out += re.escape(part)
    return out


def _specificity(template: str) -> int:
    return sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))


def _safe(predicate: Callable[[Call], bool], call: Call) -> bool:
    try:
        return bool(predicate(call))
    except Exception:
        return False


def _normalize_embed(embed: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich", **embed}

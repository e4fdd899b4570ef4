"""REST routes of the fake (paths relative to /api/v10).

Each handler takes the :class:`Call` being answered and returns a JSON body, ``None``
(204) or ``(status, body)``; it raises :class:`ApiError` for Discord-style errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ApiError, form_error
from .gateway import GUILD_MEMBERS, GUILDS
from .models import (
    EPHEMERAL,
    GUILD_TEXT,
    LOADING,
    MANAGE_MESSAGES,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Call,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
)
from .validation import validate_modal

if TYPE_CHECKING:
    from .server import FakeDiscord
    from .world import GuildWorld

ROUTES: list[tuple[str, str, str]] = []  # (method, template, handler name)


def route(method: str, template: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        ROUTES.append((method, template, fn.__name__))
        return fn

    return deco


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


class RestMixin:
    """REST handlers for :class:`FakeDiscord`."""

    # ------------------------------------------------------------------ lookups
    def _channel_or_404(self: FakeDiscord, call: Call) -> FakeChannel:
        channel = self.channels.get(_int(call.params["channel_id"]))
        if channel is None or channel.deleted:
            raise ApiError(404, 10003, "Unknown Channel")
        if not self.can_view(self.bot_user, channel):
            raise ApiError(403, 50001, "Missing Access")
        return channel

    def _message_or_404(self: FakeDiscord, call: Call, channel: FakeChannel) -> FakeMessage:
        msg = self.messages.get(_int(call.params["message_id"]))
        # ephemeral messages cannot be reached through channel routes
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    def _check_guild(self: FakeDiscord, call: Call) -> GuildWorld:
        world = self.worlds.get(_int(call.params["guild_id"]))
        if world is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return world

    def _check_application(self: FakeDiscord, call: Call) -> None:
        if _int(call.params["application_id"]) != self.application_id:
            raise ApiError(404, 10002, "Unknown Application")

    # ------------------------------------------------------------------ login / gateway
    @route("GET", "/users/@me")
    async def _get_me(self: FakeDiscord, call: Call) -> Any:
        return {
            **self.bot_user.payload(),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "flags": 0,
        }

    @route("GET", "/oauth2/applications/@me")
    async def _get_application(self: FakeDiscord, call: Call) -> Any:
        return self.application_payload()

    @route("GET", "/applications/@me")
    async def _get_application2(self: FakeDiscord, call: Call) -> Any:
        return self.application_payload()

    def application_payload(self: FakeDiscord) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.name,
            "description": "fake application",
            "icon": None,
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.admin.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "summary": "",
            "flags": 0,
            "interactions_endpoint_url": None,
            "bot": self.bot_user.payload(),
        }

    @route("GET", "/gateway")
    async def _get_gateway(self: FakeDiscord, call: Call) -> Any:
        return {"url": f"{self.url}/gateway"}

    @route("GET", "/gateway/bot")
    async def _get_gateway_bot(self: FakeDiscord, call: Call) -> Any:
        return {
            "url": f"{self.url}/gateway",
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 0,
                "max_concurrency": 1,
            },
        }

    # ------------------------------------------------------------------ users & DMs
    @route("GET", "/users/{user_id}")
    async def _get_user(self: FakeDiscord, call: Call) -> Any:
        user = self.users.get(_int(call.params["user_id"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return user.payload()

    @route("POST", "/users/@me/channels")
    async def _create_dm(self: FakeDiscord, call: Call) -> Any:
        user = self.users.get(_int((call.json or {}).get("recipient_id")))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        if user.bot:
            raise ApiError(400, 50007, "Cannot send messages to this user")
        return self.dm(user).payload()

    # ------------------------------------------------------------------ channels
    @route("GET", "/channels/{channel_id}")
    async def _get_channel(self: FakeDiscord, call: Call) -> Any:
        return self._channel_or_404(call).payload()

    @route("PATCH", "/channels/{channel_id}")
    async def _edit_channel(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        body = call.json or {}
        for key in ("name", "topic", "archived", "locked", "invitable", "auto_archive_duration"):
            if key in body and body[key] is not None:
                setattr(channel, key, body[key])
        if channel.is_thread:
            await self.dispatch("THREAD_UPDATE", channel.payload(), intent=GUILDS)
        elif not channel.is_dm:
            await self.dispatch("CHANNEL_UPDATE", channel.payload(), intent=GUILDS)
        return channel.payload()

    @route("DELETE", "/channels/{channel_id}")
    async def _delete_channel(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        payload = channel.payload()
        if channel.is_dm:
            return payload  # "closing" a DM keeps it around
        channel.deleted = True
        if channel.is_thread:
            await self.dispatch(
                "THREAD_DELETE",
                {
                    "id": payload["id"],
                    "guild_id": payload["guild_id"],
                    "parent_id": payload["parent_id"],
                    "type": channel.type,
                },
                intent=GUILDS,
            )
        else:
            await self.dispatch("CHANNEL_DELETE", payload, intent=GUILDS)
        return payload

    @route("POST", "/channels/{channel_id}/typing")
    async def _typing(self: FakeDiscord, call: Call) -> Any:
        self._channel_or_404(call)
        return None

    @route("GET", "/channels/{channel_id}/messages")
    async def _history(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        msgs = [m for m in channel.messages if not m.deleted and not m.ephemeral]
        q = call.query
        limit = int(q.get("limit", 50))
        if "before" in q:
            msgs = [m for m in msgs if m.id < int(q["before"])]
        if "after" in q:
            msgs = [m for m in msgs if m.id > int(q["after"])]
            return [m.raw for m in reversed(msgs[:limit])]
        if "around" in q:
            around = int(q["around"])
            older = [m for m in msgs if m.id <= around][-(limit // 2 + 1) :]
            newer = [m for m in msgs if m.id > around][: limit // 2]
            msgs = older + newer
        return [m.raw for m in reversed(msgs[-limit:])]

    @route("POST", "/channels/{channel_id}/messages")
    async def _send_message(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        if channel.is_dm and channel.recipients and not channel.recipients[0].dms_open:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        if channel.is_thread and channel.locked:
            raise ApiError(403, 50083, "Thread is archived")
        if channel.is_thread and channel.archived:
            channel.archived = False  # sending unarchives
        msg = await self.create_message(channel, self.bot_user, call.json or {}, call.files)
        call.message = msg
        return msg.raw

    @route("GET", "/channels/{channel_id}/messages/{message_id}")
    async def _get_message(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        return self._message_or_404(call, channel).raw

    @route("PATCH", "/channels/{channel_id}/messages/{message_id}")
    async def _edit_channel_message(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        msg = self._message_or_404(call, channel)
        if msg.author_id != self.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        await self.edit_message(msg, call.json or {}, call.files)
        call.message = msg
        return msg.raw

    @route("DELETE", "/channels/{channel_id}/messages/{message_id}")
    async def _delete_channel_message(self: FakeDiscord, call: Call) -> Any:
        channel = self._channel_or_404(call)
        msg = self._message_or_404(call, channel)
        if msg.author_id != self.bot_user.id and (
            channel.is_dm or not self.permissions_of(self.bot_user, channel) & MANAGE_MESSAGES
        ):
            raise ApiError(403, 50013, "Missing Permissions")
        await self.delete_message(msg)
        return None

    @route("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _add_reaction(self: FakeDiscord, call: Call) -> Any:
        msg = self._message_or_404(call, self._channel_or_404(call))
        reactions = msg.raw.setdefault("reactions", [])
        emoji = call.params["emoji"]
        for r in reactions:
            if r["emoji"]["name"] == emoji:
                r["me"] = True
                r["count"] += 1
                break
        else:
            reactions.append(
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": 1,
                    "me": True,
                    "count_details": {"burst": 0, "normal": 1},
                    "burst_colors": [],
                    "me_burst": False,
                    "burst_me": False,
                    "burst_count": 0,
                }
            )
        return None

    @route("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me")
    async def _remove_reaction(self: FakeDiscord, call: Call) -> Any:
        msg = self._message_or_404(call, self._channel_or_404(call))
        msg.raw["reactions"] = [
            r for r in msg.raw.get("reactions", []) if r["emoji"]["name"] != call.params["emoji"]
        ]
        return None

    @route("PUT", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _pin(self: FakeDiscord, call: Call) -> Any:
        self._message_or_404(call, self._channel_or_404(call)).raw["pinned"] = True
        return None

    @route("DELETE", "/channels/{channel_id}/messages/pins/{message_id}")
    async def _unpin(self: FakeDiscord, call: Call) -> Any:
        self._message_or_404(call, self._channel_or_404(call)).raw["pinned"] = False
        return None

    # ------------------------------------------------------------------ threads
    @route("POST", "/channels/{channel_id}/threads")
    async def _start_thread(self: FakeDiscord, call: Call) -> Any:
        parent = self._channel_or_404(call)
        body = call.json or {}
        if parent.type != GUILD_TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return await self._new_thread(
            call, parent, body, int(body.get("type") or PRIVATE_THREAD), None
        )

    @route("POST", "/channels/{channel_id}/messages/{message_id}/threads")
    async def _start_thread_from_message(self: FakeDiscord, call: Call) -> Any:
        parent = self._channel_or_404(call)
        msg = self._message_or_404(call, parent)
        if parent.type != GUILD_TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if msg.id in self.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        return await self._new_thread(call, parent, call.json or {}, PUBLIC_THREAD, msg.id)

    async def _new_thread(
        self: FakeDiscord,
        call: Call,
        parent: FakeChannel,
        body: dict[str, Any],
        type: int,
        thread_id: int | None,
    ) -> Any:
        name = body.get("name") or ""
        if not 1 <= len(name) <= 100:
            raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        thread = FakeChannel(
            thread_id or self.ids.next(),
            type,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            member_ids={self.bot_user.id},
            invitable=bool(body.get("invitable", True)),
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
        )
        self.channels[thread.id] = thread
        await self.dispatch(
            "THREAD_CREATE", {**thread.payload(), "newly_created": True}, intent=GUILDS
        )
        return thread.payload()

    def _thread_or_404(self: FakeDiscord, call: Call) -> FakeChannel:
        channel = self._channel_or_404(call)
        if not channel.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return channel

    def _thread_member_user(self: FakeDiscord, call: Call, thread: FakeChannel):
        raw = call.params.get("user_id", "@me")
        user = self.bot_user if raw == "@me" else self.users.get(_int(raw))
        if user is None or not self.world(thread).is_member(user):
            raise ApiError(404, 10007, "Unknown Member")
        return user

    def _thread_member_payload(
        self: FakeDiscord, thread: FakeChannel, user_id: int
    ) -> dict[str, Any]:
        return {
            "id": str(thread.id),
            "user_id": str(user_id),
            "join_timestamp": thread.created_at,
            "flags": 0,
        }

    @route("PUT", "/channels/{channel_id}/thread-members/{user_id}")
    async def _add_thread_member(self: FakeDiscord, call: Call) -> Any:
        thread = self._thread_or_404(call)
        user = self._thread_member_user(call, thread)
        if user.id not in thread.member_ids:
            thread.member_ids.add(user.id)
            await self.dispatch(
                "THREAD_MEMBERS_UPDATE",
                {
                    "id": str(thread.id),
                    "guild_id": str(thread.guild_id),
                    "member_count": len(thread.member_ids),
                    "added_members": [self._thread_member_payload(thread, user.id)],
                },
                intent=GUILD_MEMBERS,
            )
        return None

    @route("PUT", "/channels/{channel_id}/thread-members/@me")
    async def _join_thread(self: FakeDiscord, call: Call) -> Any:
        return await self._add_thread_member(call)

    @route("DELETE", "/channels/{channel_id}/thread-members/{user_id}")
    async def _remove_thread_member(self: FakeDiscord, call: Call) -> Any:
        thread = self._thread_or_404(call)
        user = self._thread_member_user(call, thread)
        if user.id in thread.member_ids:
            thread.member_ids.discard(user.id)
            await self.dispatch(
                "THREAD_MEMBERS_UPDATE",
                {
                    "id": str(thread.id),
                    "guild_id": str(thread.guild_id),
                    "member_count": len(thread.member_ids),
                    "removed_member_ids": [str(user.id)],
                },
                intent=GUILD_MEMBERS,
            )
        return None

    @route("DELETE", "/channels/{channel_id}/thread-members/@me")
    async def _leave_thread(self: FakeDiscord, call: Call) -> Any:
        return await self._remove_thread_member(call)

    @route("GET", "/channels/{channel_id}/thread-members/{user_id}")
    async def _get_thread_member(self: FakeDiscord, call: Call) -> Any:
        thread = self._thread_or_404(call)
        user = self._thread_member_user(call, thread)
        if user.id not in thread.member_ids:
            raise ApiError(404, 10007, "Unknown Member")
        return self._thread_member_payload(thread, user.id)

    @route("GET", "/channels/{channel_id}/thread-members")
    async def _list_thread_members(self: FakeDiscord, call: Call) -> Any:
        thread = self._thread_or_404(call)
        return [self._thread_member_payload(thread, uid) for uid in sorted(thread.member_ids)]

    # ------------------------------------------------------------------ guild
    @route("GET", "/guilds/{guild_id}")
    async def _get_guild(self: FakeDiscord, call: Call) -> Any:
        world = self._check_guild(call)
        data = self.guild_payload(guild=world)
        if call.query.get("with_counts") in ("true", "1", "True"):
            n = len(world.members)
            data.update(approximate_member_count=n, approximate_presence_count=n)
        return data

    @route("GET", "/guilds/{guild_id}/channels")
    async def _get_guild_channels(self: FakeDiscord, call: Call) -> Any:
        return [c.payload() for c in self._check_guild(call).text_channels]

    @route("GET", "/guilds/{guild_id}/threads/active")
    async def _active_threads(self: FakeDiscord, call: Call) -> Any:
        world = self._check_guild(call)
        threads = [t for t in world.threads if not t.archived and self.can_view(self.bot_user, t)]
        return {
            "threads": [t.payload() for t in threads],
            "members": [
                self._thread_member_payload(t, self.bot_user.id)
                for t in threads
                if self.bot_user.id in t.member_ids
            ],
        }

    @route("GET", "/guilds/{guild_id}/roles")
    async def _get_roles(self: FakeDiscord, call: Call) -> Any:
        return [r.payload() for r in self._check_guild(call).roles]

    @route("GET", "/guilds/{guild_id}/members")
    async def _list_members(self: FakeDiscord, call: Call) -> Any:
        world = self._check_guild(call)
        after = int(call.query.get("after", 0))
        limit = int(call.query.get("limit", 1))
        members = sorted((u for u in world.members if u.id > after), key=lambda u: u.id)
        return [self.member_payload(u, guild=world) for u in members[:limit]]

    @route("GET", "/guilds/{guild_id}/members/{user_id}")
    async def _get_member(self: FakeDiscord, call: Call) -> Any:
        world = self._check_guild(call)
        user = self.users.get(_int(call.params["user_id"]))
        if user is None or not world.is_member(user):
            raise ApiError(404, 10007, "Unknown Member")
        return self.member_payload(user, guild=world)

    @route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _add_member_role(self: FakeDiscord, call: Call) -> Any:
        world, user, role = self._member_and_role(call)
        current = world.role_ids_of(user)
        if role.id not in current:
            await world.set_roles(user, [self.roles[r] for r in current] + [role])
        return None

    @route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
    async def _remove_member_role(self: FakeDiscord, call: Call) -> Any:
        world, user, role = self._member_and_role(call)
        current = world.role_ids_of(user)
        if role.id in current:
            await world.set_roles(user, [self.roles[r] for r in current if r != role.id])
        return None

    def _member_and_role(self: FakeDiscord, call: Call):
        world = self._check_guild(call)
        user = self.users.get(_int(call.params["user_id"]))
        if user is None or not world.is_member(user):
            raise ApiError(404, 10007, "Unknown Member")
        role = self.roles.get(_int(call.params["role_id"]))
        if role is None or role.guild_id != world.id or role is world.everyone_role:
            raise ApiError(404, 10011, "Unknown Role")
        bot_top = max((self.roles[r].position for r in world.role_ids_of(self.bot_user)), default=0)
        if not world.permissions_of(self.bot_user) & (1 << 28) or role.position >= bot_top:
            raise ApiError(403, 50013, "Missing Permissions")
        return world, user, role

    # ------------------------------------------------------------------ application commands
    def _command_payload(
        self: FakeDiscord, scope: int | None, cmd: dict[str, Any]
    ) -> dict[str, Any]:
        ctype = int(cmd.get("type") or 1)
        name = cmd.get("name") or ""
        if ctype == 1 and (not _COMMAND_NAME.match(name) or name != name.lower()):
            raise form_error(
                "name", "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"
            )
        if ctype == 1 and not 1 <= len(cmd.get("description") or "") <= 100:
            raise form_error(
                "description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        key = (scope, name, ctype)
        if key not in self._command_ids:
            self._command_ids[key] = self.ids.next()
        out = {
            "id": str(self._command_ids[key]),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "type": ctype,
            "name": name,
            "description": cmd.get("description") or "",
            "options": cmd.get("options") or [],
            "default_member_permissions": cmd.get("default_member_permissions"),
            "nsfw": bool(cmd.get("nsfw", False)),
        }
        for key2 in (
            "name_localizations",
            "description_localizations",
            "contexts",
            "integration_types",
            "dm_permission",
        ):
            if key2 in cmd:
                out[key2] = cmd[key2]
        if scope is not None:
            out["guild_id"] = str(scope)
        return out

    def _scope(self: FakeDiscord, call: Call) -> int | None:
        self._check_application(call)
        if "guild_id" in call.params:
            return self._check_guild(call).id
        return None

    async def _bulk_overwrite(self: FakeDiscord, call: Call) -> Any:
        scope = self._scope(call)
        body = call.json or []
        seen = set()
        for cmd in body:
            key = (cmd.get("name"), int(cmd.get("type") or 1))
            if key in seen:
                raise form_error(
                    "name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"duplicate command {key[0]!r}"
                )
            seen.add(key)
        commands = [self._command_payload(scope, cmd) for cmd in body]
        self.commands[scope] = {(c["name"], c["type"]): c for c in commands}
        return commands

    async def _list_commands(self: FakeDiscord, call: Call) -> Any:
        return list(self.commands.get(self._scope(call), {}).values())

    async def _upsert_command(self: FakeDiscord, call: Call) -> Any:
        scope = self._scope(call)
        cmd = self._command_payload(scope, call.json or {})
        self.commands.setdefault(scope, {})[(cmd["name"], cmd["type"])] = cmd
        return (201, cmd)

    def _find_command(
        self: FakeDiscord, call: Call
    ) -> tuple[int | None, tuple[str, int], dict[str, Any]]:
        scope = self._scope(call)
        for key, cmd in self.commands.get(scope, {}).items():
            if cmd["id"] == call.params["command_id"]:
                return scope, key, cmd
        raise ApiError(404, 10063, "Unknown application command")

    async def _get_command(self: FakeDiscord, call: Call) -> Any:
        return self._find_command(call)[2]

    async def _delete_command(self: FakeDiscord, call: Call) -> Any:
        scope, key, _ = self._find_command(call)
        del self.commands[scope][key]
        return None

    for _prefix in (
        "/applications/{application_id}",
        "/applications/{application_id}/guilds/{guild_id}",
    ):
        route("PUT", _prefix + "/commands")(_bulk_overwrite)
        route("GET", _prefix + "/commands")(_list_commands)
        route("POST", _prefix + "/commands")(_upsert_command)
        route("GET", _prefix + "/commands/{command_id}")(_get_command)
        route("DELETE", _prefix + "/commands/{command_id}")(_delete_command)
    del _prefix

    # ------------------------------------------------------------------ interactions
    @route("POST", "/interactions/{interaction_id}/{interaction_token}/callback")
    async def _interaction_callback(self: FakeDiscord, call: Call) -> Any:
        ix = self.interactions.get(_int(call.params["interaction_id"]))
        if ix is None or ix.token != call.params["interaction_token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        call.interaction = ix
        if ix.responded:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        age = asyncio.get_running_loop().time() - ix.created_at
        if self.interaction_deadline is not None and age > self.interaction_deadline:
            raise ApiError(
                404,
                10062,
                f"Unknown interaction (answered after {age:.2f}s, limit "
                f"{self.interaction_deadline}s: defer() slow work)",
            )
        body = call.json or {}
        rtype = int(body.get("type") or 0)
        data = body.get("data") or {}
        allowed = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[ix.type]
        if rtype in (6, 7) and ix.source_message is None:
            allowed = allowed - {6, 7}
        if rtype not in allowed:
            raise form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"callback type {rtype} is not valid for interaction type {ix.type}",
            )
        info: dict[str, Any] = {"id": str(ix.id), "type": ix.type}
        result: dict[str, Any] = {"interaction": info}
        if rtype in (4, 5):
            flags = int(data.get("flags") or 0)
            if rtype == 5:
                msg_data = {"content": "", "flags": (flags & EPHEMERAL) | LOADING}
                msg = await self.create_message(
                    ix.channel, self.bot_user, msg_data, interaction=ix, validate=False
                )
            else:
                msg = await self.create_message(
                    ix.channel, self.bot_user, data, call.files, interaction=ix
                )
            ix.original_message = msg
            ix.deferred_followup_pending = rtype == 5
            call.message = msg
            info.update(
                response_message_id=str(msg.id),
                response_message_loading=rtype == 5,
                response_message_ephemeral=msg.ephemeral,
            )
            result["resource"] = {"type": rtype, "message": msg.raw}
        elif rtype in (6, 7):
            msg = ix.source_message
            assert msg is not None
            ix.original_message = msg
            info.update(
                response_message_id=str(msg.id),
                response_message_loading=False,
                response_message_ephemeral=msg.ephemeral,
            )
            if rtype == 7:
                await self.edit_message(msg, data, call.files)
                call.message = msg
                result["resource"] = {"type": rtype, "message": msg.raw}
        elif rtype == 9:
            validate_modal(data)
            self._open_modals[(ix.user.id, data["custom_id"])] = (data, ix)
        elif rtype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise form_error(
                    "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            for i, choice in enumerate(choices):
                if not 1 <= len(str(choice.get("name", ""))) <= 100:
                    raise form_error(
                        f"data.choices.{i}.name",
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    )
        ix.response_type = rtype
        ix.callback_call = call
        return result

    def _webhook_interaction(self: FakeDiscord, call: Call) -> FakeInteraction:
        ix = self._interactions_by_token.get(call.params["interaction_token"])
        if (
            ix is None
            or _int(call.params["application_id"]) != self.application_id
            or not ix.responded
        ):
            # the interaction webhook only exists once the interaction was acknowledged
            raise ApiError(404, 10015, "Unknown Webhook")
        call.interaction = ix
        return ix

    def _webhook_message(self: FakeDiscord, call: Call, ix: FakeInteraction) -> FakeMessage:
        raw = call.params["message_id"]
        if raw == "@original":
            msg = ix.original_message
        else:
            msg = self.messages.get(_int(raw))
            if (
                msg is not None
                and msg is not ix.original_message
                and msg not in ix.followup_messages
            ):
                msg = None
        if msg is None or msg.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    @route("POST", "/webhooks/{application_id}/{interaction_token}")
    async def _followup(self: FakeDiscord, call: Call) -> Any:
        ix = self._webhook_interaction(call)
        data = call.json or {}
        if ix.deferred_followup_pending and ix.original_message is not None:
            # first follow-up after a deferred response edits the "thinking" message
            ix.deferred_followup_pending = False
            msg = await self.edit_message(
                ix.original_message, {k: v for k, v in data.items() if k != "flags"}, call.files
            )
        else:
            channel = ix.channel
            if call.query.get("thread_id"):
                channel = self.channels.get(_int(call.query["thread_id"]))
                if channel is None or not channel.is_thread:
                    raise ApiError(400, 10003, "Unknown Channel")
            msg = await self.create_message(
                channel, self.bot_user, data, call.files, interaction=ix
            )
            ix.followup_messages.append(msg)
        call.message = msg
        if call.query.get("wait") in ("true", "1", "True"):
            return msg.raw
        return None

    @route("GET", "/webhooks/{application_id}/{interaction_token}/messages/{message_id}")
    async def _get_webhook_message(self: FakeDiscord, call: Call) -> Any:
        ix = self._webhook_interaction(call)
        return self._webhook_message(call, ix).raw

    @route("PATCH", "/webhooks/{application_id}/{interaction_token}/messages/{message_id}")
    async def _edit_webhook_message(self: FakeDiscord, call: Call) -> Any:
        ix = self._webhook_interaction(call)
        msg = self._webhook_message(call, ix)
        if msg is ix.original_message:
            ix.deferred_followup_pending = False
        await self.edit_message(msg, call.json or {}, call.files)
        call.message = msg
        return msg.raw

    @route("DELETE", "/webhooks/{application_id}/{interaction_token}/messages/{message_id}")
    async def _delete_webhook_message(self: FakeDiscord, call: Call) -> Any:
        ix = self._webhook_interaction(call)
        await self.delete_message(self._webhook_message(call, ix))
        return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1

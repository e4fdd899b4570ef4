"""Scripted user actions, delivered to the bot as real gateway events.

Every action first calls ``mark()``, so a following ``wait_for`` only looks at the
bot's reaction to this action. Actions a real Discord client could not perform
(clicking a missing/disabled button, using a command the user cannot see, posting in
a private thread the user is not in) raise instead of sending a bogus event.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .errors import WaitTimeout
from .gateway import DIRECT_MESSAGE_TYPING, GUILD_MESSAGE_TYPING
from .models import (
    ADMINISTRATOR,
    MANAGE_MESSAGES,
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

AttachmentSpec = FakeAttachment | tuple[str, bytes | str] | tuple[str, bytes | str, str]


class UserActionsMixin:
    """User-side actions for :class:`FakeDiscord`."""

    # ------------------------------------------------------------------ messages
    async def user_sends(
        self: FakeDiscord,
        user: FakeUser,
        channel: FakeChannel | int,
        content: str = "",
        *,
        attachments: Sequence[AttachmentSpec] = (),
        reply_to: FakeMessage | int | None = None,
    ) -> FakeMessage:
        """``user`` posts a message (MESSAGE_CREATE). Attachments: ``(filename, data[, content_type])``."""
        self.mark()
        ch = self.channel(channel)
        if not self.can_view(user, ch):
            raise PermissionError(f"{user!r} cannot see {ch!r}")
        if ch.is_thread and ch.locked:
            raise PermissionError(f"{ch!r} is locked")
        atts = [self._as_attachment(a) for a in attachments]
        if not content and not atts:
            raise ValueError("Discord does not allow an empty message")
        if len(content) > 4000:
            raise ValueError("message content longer than 4000 characters (Nitro limit)")
        data: dict[str, Any] = {"content": content}
        if reply_to is not None:
            data["message_reference"] = {"message_id": str(self.message(reply_to).id)}
        if ch.is_thread:
            ch.archived = False
        return await self.create_message(ch, user, data, attachments=atts, validate=False)

    async def user_edits(
        self: FakeDiscord, user: FakeUser, message: FakeMessage | int, content: str
    ) -> FakeMessage:
        """``user`` edits their own message (MESSAGE_UPDATE)."""
        self.mark()
        msg = self.message(message)
        if msg.author_id != user.id:
            raise PermissionError(f"{user!r} cannot edit a message by someone else")
        return await self.edit_message(msg, {"content": content})

    async def user_types(self: FakeDiscord, user: FakeUser, channel: FakeChannel | int) -> None:
        """``user`` starts typing in ``channel`` (TYPING_START, by the server's clock)."""
        self.mark()
        ch = self.channel(channel)
        if not self.can_view(user, ch):
            raise PermissionError(f"{user!r} cannot see {ch!r}")
        data: dict[str, Any] = {
            "channel_id": str(ch.id),
            "user_id": str(user.id),
            "timestamp": self.ids.now_ms() // 1000,  # Discord sends whole seconds
        }
        if not ch.is_dm:
            data["guild_id"] = str(ch.guild_id)
            data["member"] = self.member_payload(user, guild=self.world(ch))
        await self.dispatch(
            "TYPING_START", data, intent=DIRECT_MESSAGE_TYPING if ch.is_dm else GUILD_MESSAGE_TYPING
        )

    def advance_clock(self: FakeDiscord, seconds: float) -> None:
        """Move the server's clock forward: later ids, timestamps and typing events carry it."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.ids.offset_ms += round(seconds * 1000)

    async def user_deletes(self: FakeDiscord, user: FakeUser, message: FakeMessage | int) -> None:
        """``user`` deletes a message (MESSAGE_DELETE)."""
        self.mark()
        msg = self.message(message)
        channel = self.channel(msg.channel_id)
        perms = 0 if channel.is_dm else self.permissions_of(user, channel)
        if msg.author_id != user.id and not perms & MANAGE_MESSAGES:
            raise PermissionError(f"{user!r} cannot delete {msg!r}")
        await self.delete_message(msg)

    def _as_attachment(self: FakeDiscord, spec: AttachmentSpec) -> FakeAttachment:
        if isinstance(spec, FakeAttachment):
            return spec
        return self.new_attachment(*spec)

    async def set_roles(
        self: FakeDiscord, user: FakeUser, roles: list[FakeRole], *, guild: Any = None
    ) -> None:
        """Replace a member's roles (GUILD_MEMBER_UPDATE, needs the members intent).

        The guild is ``guild`` if given, else the roles' guild, else the default guild.
        """
        if guild is None and roles:
            guild = roles[0].guild_id
        await self.world(guild).set_roles(user, roles)

    # ------------------------------------------------------------------ interactions
    async def _create_interaction(
        self: FakeDiscord,
        *,
        type: int,
        user: FakeUser,
        channel: FakeChannel,
        data: dict[str, Any],
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        if not self.can_view(user, channel):
            raise PermissionError(f"{user!r} cannot see {channel!r}")
        world = None if channel.is_dm else self.world(channel)
        iid = self.ids.next()
        token = f"fake-interaction-{iid}-{secrets.token_hex(8)}"
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": self.channel_payload(channel, for_user=user),
            "app_permissions": str(self.permissions_of(self.bot_user, world)),
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if world is not None:
            payload.update(
                guild_id=str(world.id),
                guild={"id": str(world.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member={
                    **self.member_payload(user, guild=world),
                    "permissions": str(world.permissions_of(user)),
                },
                authorizing_integration_owners={"0": str(world.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(), authorizing_integration_owners={"0": "0"}, context=1
            )
        if message is not None:
            payload["message"] = message.raw
        ix = FakeInteraction(
            self,
            id=iid,
            token=token,
            type=type,
            user=user,
            channel=channel,
            payload=payload,
            source_message=message,
        )
        self.interactions[iid] = ix
        self._interactions_by_token[token] = ix
        await self.dispatch("INTERACTION_CREATE", payload)
        return ix

    async def slash(
        self: FakeDiscord,
        user: FakeUser,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        channel: FakeChannel | int | None = None,
        sync_timeout: float = 5.0,
    ) -> FakeInteraction:
        """``user`` runs ``/command`` ("group sub" paths allowed) in ``channel`` (default: the
        default guild's ``general``; pass ``channel=world.general`` for another guild).

        Option values: str/int/float/bool, FakeUser, FakeRole, FakeChannel, or
        ``(filename, data)`` for attachment options. Waits up to ``sync_timeout`` for the
        bot to sync the command.
        """
        self.mark()
        ch = self.channel(channel if channel is not None else self.general)
        cmd = await self._synced_command(user, command, ch, sync_timeout)
        data = self._command_data(cmd, command, options or {}, ch, focused=None)
        return await self._create_interaction(type=2, user=user, channel=ch, data=data)

    async def autocomplete(
        self: FakeDiscord,
        user: FakeUser,
        command: str,
        options: dict[str, Any],
        *,
        focused: str,
        channel: FakeChannel | int | None = None,
        sync_timeout: float = 5.0,
    ) -> FakeInteraction:
        """``user`` is typing option ``focused`` of ``/command`` (APPLICATION_COMMAND_AUTOCOMPLETE).

        The bot's choices are in ``(await ix.wait_response())`` / ``ix.choices``.
        """
        self.mark()
        ch = self.channel(channel if channel is not None else self.general)
        cmd = await self._synced_command(user, command, ch, sync_timeout)
        data = self._command_data(cmd, command, options, ch, focused=focused)
        return await self._create_interaction(type=4, user=user, channel=ch, data=data)

    async def _synced_command(
        self: FakeDiscord,
        user: FakeUser,
        command: str,
        channel: FakeChannel,
        timeout: float,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        top = command.split()[0].lstrip("/")
        in_guild = not channel.is_dm
        where = self.world(channel) if in_guild else None
        loop_deadline = timeout
        while True:
            cmd = self.command(top, guild=None if in_guild else False, where=where)
            if cmd is not None:
                break
            if loop_deadline <= 0:
                synced = {
                    scope: sorted(n for n, _ in cmds) for scope, cmds in self.commands.items()
                }
                raise LookupError(
                    f"/{top} was never synced for this context; synced commands: {synced}"
                )
            try:
                await self.wait_for(
                    lambda c: (
                        c.ok
                        and c.route is not None
                        and c.route.endswith("/commands")
                        and c.method in ("PUT", "POST")
                    ),
                    timeout=min(loop_deadline, 0.5),
                    since=len(self.calls),
                )
            except WaitTimeout:
                pass
            loop_deadline -= 0.5
        # what a real client would refuse to show
        if in_guild:
            contexts = cmd.get("contexts")
            if contexts is not None and 0 not in contexts:
                raise PermissionError(f"/{top} is not available in guilds")
            required = cmd.get("default_member_permissions")
            perms = self.permissions_of(user, where)
            if required is not None and not perms & ADMINISTRATOR and int(required) & ~perms:
                raise PermissionError(
                    f"{user!r} lacks default_member_permissions={required} for /{top}"
                )
        else:
            contexts = cmd.get("contexts")
            if cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                raise PermissionError(f"/{top} is not available in DMs")
        return cmd

    def _command_data(
        self: FakeDiscord,
        cmd: dict[str, Any],
        command: str,
        options: dict[str, Any],
        channel: FakeChannel,
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        names = command.lstrip("/").split()
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        resolved: dict[str, dict[str, Any]] = {}
        defs = cmd.get("options") or []
        container: list[dict[str, Any]] = []
        data["options"] = container
        for name in names[1:]:
            d = next((o for o in defs if o["name"] == name and o["type"] in (1, 2)), None)
            if d is None:
                raise LookupError(
                    f"/{command}: no subcommand {name!r}; options: {[o['name'] for o in defs]}"
                )
            node: dict[str, Any] = {"type": d["type"], "name": name, "options": []}
            container.append(node)
            container = node["options"]
            defs = d.get("options") or []
        if any(o["type"] in (1, 2) for o in defs):
            raise LookupError(f"/{command} needs a subcommand: {[o['name'] for o in defs]}")
        for name, value in options.items():
            d = next((o for o in defs if o["name"] == name), None)
            if d is None:
                raise LookupError(
                    f"/{command} has no option {name!r}; options: {[o['name'] for o in defs]}"
                )
            opt: dict[str, Any] = {"type": d["type"], "name": name}
            if name == focused:
                opt.update(value=str(value), focused=True)
            else:
                opt["value"] = self._option_value(command, d, value, resolved, channel)
            container.append(opt)
        if focused is None:
            missing = [o["name"] for o in defs if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"/{command}: missing required options {missing}")
        elif focused not in options:
            raise ValueError(f"focused option {focused!r} must be among the options")
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_value(
        self: FakeDiscord,
        command: str,
        d: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        channel: FakeChannel,
    ) -> Any:
        t, name = d["type"], d["name"]
        where = f"/{command} option {name!r}"
        if t == 3:
            if not isinstance(value, str):
                raise TypeError(f"{where} expects a string")
            if not int(d.get("min_length", 0)) <= len(value) <= int(d.get("max_length", 6000)):
                raise ValueError(f"{where}: length out of bounds")
        elif t == 4:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{where} expects an int")
        elif t == 10:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{where} expects a number")
        elif t == 5:
            if not isinstance(value, bool):
                raise TypeError(f"{where} expects a bool")
        elif t in (6, 9) and isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if not channel.is_dm and self.world(channel).is_member(value):
                member = self.member_payload(value, with_user=False, guild=channel)
                member["permissions"] = str(self.permissions_of(value, channel))
                resolved.setdefault("members", {})[str(value.id)] = member
            return str(value.id)
        elif t in (8, 9) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return str(value.id)
        elif t == 7 and isinstance(value, FakeChannel):
            allowed = d.get("channel_types")
            if allowed and value.type not in allowed:
                raise ValueError(f"{where}: channel type {value.type} not in {allowed}")
            resolved.setdefault("channels", {})[str(value.id)] = self.channel_payload(
                value, for_user=self.bot_user
            )
            return str(value.id)
        elif t == 11:
            att = self._as_attachment(value)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
            return str(att.id)
        else:
            raise TypeError(f"{where}: unsupported value {value!r} for option type {t}")
        if t in (4, 10):
            lo, hi = d.get("min_value"), d.get("max_value")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValueError(f"{where}: {value} outside [{lo}, {hi}]")
        choices = d.get("choices")
        if choices and not d.get("autocomplete") and value not in [c["value"] for c in choices]:
            raise ValueError(f"{where}: {value!r} is not one of {[c['value'] for c in choices]}")
        return value

    async def click(
        self: FakeDiscord,
        user: FakeUser,
        message: FakeMessage | int,
        custom_id: str,
        *,
        values: list[Any] | None = None,
    ) -> FakeInteraction:
        """``user`` clicks a button (or picks ``values`` in a select) on a bot message."""
        self.mark()
        msg = self.message(message)
        if msg.deleted:
            raise LookupError(f"{msg!r} was deleted")
        if msg.visible_to is not None and msg.visible_to != user.id:
            raise PermissionError(f"{user!r} cannot see ephemeral {msg!r}")
        comp = msg.component(custom_id)
        if comp is None:
            raise LookupError(f"no component {custom_id!r} on {msg!r}; it has {msg.custom_ids}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        ctype = int(comp["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype == 2:
            if values is not None:
                raise TypeError("buttons take no values")
        else:
            values = list(values or [])
            lo, hi = int(comp.get("min_values", 1)), int(comp.get("max_values", 1))
            if not lo <= len(values) <= hi:
                raise ValueError(f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}")
            data["values"], resolved = self._select_values(
                comp, values, self.channel(msg.channel_id)
            )
            if resolved:
                data["resolved"] = resolved
        return await self._create_interaction(
            type=3, user=user, channel=self.channel(msg.channel_id), data=data, message=msg
        )

    def _select_values(
        self: FakeDiscord, comp: dict[str, Any], values: list[Any], channel: FakeChannel
    ) -> tuple[list[str], dict[str, dict[str, Any]]]:
        ctype = int(comp["type"])
        if ctype == 3:
            allowed = [o["value"] for o in comp.get("options") or []]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"{bad} not among select options {allowed}")
            return [str(v) for v in values], {}
        resolved: dict[str, dict[str, Any]] = {}
        out = []
        for v in values:
            fake_def = {"type": {5: 6, 6: 8, 7: 9, 8: 7}[ctype], "name": comp["custom_id"]}
            out.append(self._option_value("select", fake_def, v, resolved, channel))
        return out, resolved

    async def submit_modal(
        self: FakeDiscord,
        user: FakeUser,
        custom_id: str,
        values: dict[str, Any],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeInteraction:
        """``user`` submits the modal ``custom_id`` the bot showed them, with field values by custom_id.

        Waits up to ``timeout`` for the bot to show that modal (callback type 9).
        """
        self.mark()
        key = (user.id, custom_id)
        left = timeout
        while key not in self._open_modals and left > 0:
            try:
                await self.wait_for(
                    lambda c: (
                        c.ok and c.interaction is not None and c.interaction.response_type == 9
                    ),
                    timeout=min(left, 0.5),
                    since=len(self.calls),
                )
            except WaitTimeout:
                pass
            left -= 0.5
        try:
            modal, opener = self._open_modals.pop(key)
        except KeyError:
            shown = [cid for (uid, cid) in self._open_modals if uid == user.id]
            raise LookupError(
                f"the bot did not show modal {custom_id!r} to {user!r}; open: {shown}"
            ) from None
        remaining = dict(values)

        def answer(comp: dict[str, Any]) -> dict[str, Any]:
            cid = comp.get("custom_id")
            ctype = comp.get("type")
            out: dict[str, Any] = {"type": ctype, "custom_id": cid}
            if "id" in comp:
                out["id"] = comp["id"]
            if ctype == 4:
                value = str(remaining.pop(cid, comp.get("value") or ""))
                if comp.get("required", True) and not value:
                    raise ValueError(f"modal field {cid!r} is required")
                lo, hi = int(comp.get("min_length", 0)), int(comp.get("max_length", 4000))
                if value and not lo <= len(value) <= hi:
                    raise ValueError(
                        f"modal field {cid!r}: length {len(value)} outside [{lo}, {hi}]"
                    )
                out["value"] = value
            else:
                chosen = list(remaining.pop(cid, []))
                if ctype == 3:
                    out["values"] = self._select_values(comp, chosen, opener.channel)[0]
                else:
                    out["values"] = [str(getattr(v, "id", v)) for v in chosen]
            return out

        components: list[dict[str, Any]] = []
        for comp in modal.get("components") or []:
            if comp.get("type") == 1:
                components.append(
                    {"type": 1, "components": [answer(c) for c in comp.get("components") or []]}
                )
            elif comp.get("type") == 18:
                entry: dict[str, Any] = {"type": 18, "component": answer(comp["component"])}
                if "id" in comp:
                    entry["id"] = comp["id"]
                components.append(entry)
            elif comp.get("type") == 10:
                components.append({"type": 10, **({"id": comp["id"]} if "id" in comp else {})})
        if remaining:
            raise LookupError(f"modal {custom_id!r} has no fields {sorted(remaining)}")
        source = opener.source_message if opener.type == 3 else None
        return await self._create_interaction(
            type=5,
            user=user,
            channel=opener.channel,
            data={"custom_id": custom_id, "components": components},
            message=source,
        )

"""One guild of the fake (``GuildWorld``): its roles, channels, members and default inhabitants.

The default guild keeps its membership on the users themselves (``user.in_guild`` and
``user.role_ids``), so existing tests that edit those keep working; every other guild keeps
a ``FakeMember`` per user, so one user can sit in several guilds with different roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .gateway import GUILD_MEMBERS
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    GUILD_TEXT,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

Membership = FakeUser | FakeMember  # both have role_ids, nick and joined_at


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord routes a guild to: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


class GuildWorld:
    """A guild with ``general``, ``admin`` (owner, ``admin_role``), ``curator`` (``curator_role``),
    ``expert`` and ``stranger``, plus ``everyone_role`` and the bot's ``bot_role``.

    Create one with ``server.add_guild(...)``; the default guild is ``server.default_world``.
    """

    everyone_role: FakeRole
    curator_role: FakeRole
    admin_role: FakeRole
    bot_role: FakeRole
    expert: FakeUser
    curator: FakeUser
    admin: FakeUser
    stranger: FakeUser
    general: FakeChannel

    def __init__(self, server: FakeDiscord, guild: FakeGuild, *, default: bool) -> None:
        self.server = server
        self.guild = guild
        self.default = default
        self._members: dict[int, FakeMember] = {}  # unused for the default guild

    # ------------------------------------------------------------------ identity
    @property
    def id(self) -> int:
        return self.guild.id

    @property
    def name(self) -> str:
        return self.guild.name

    def shard_id(self, shard_count: int | None = None) -> int:
        """The shard this guild lands on (``shard_count`` defaults to the server's)."""
        return shard_of(self.id, shard_count or self.server.shard_count)

    def __repr__(self) -> str:
        return f"<GuildWorld {self.name!r} id={self.id}>"

    # ------------------------------------------------------------------ contents
    @property
    def roles(self) -> list[FakeRole]:
        return [r for r in self.server.roles.values() if r.guild_id == self.id]

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [
            c
            for c in self.server.channels.values()
            if c.guild_id == self.id and c.type == GUILD_TEXT and not c.deleted
        ]

    @property
    def threads(self) -> list[FakeChannel]:
        return [t for t in self.server.threads if t.guild_id == self.id]

    @property
    def members(self) -> list[FakeUser]:
        """Users who are members of this guild (the bot included)."""
        return [u for u in self.server.users.values() if self.member(u) is not None]

    def member(self, user: FakeUser) -> Membership | None:
        """``user``'s membership here (its ``role_ids``/``nick``/``joined_at``), or None."""
        if self.default:
            return user if user.in_guild else None
        return self._members.get(user.id)

    def is_member(self, user: FakeUser) -> bool:
        return self.member(user) is not None

    def role_ids_of(self, user: FakeUser) -> list[int]:
        member = self.member(user)
        return [] if member is None else member.role_ids

    # ------------------------------------------------------------------ building
    def add_role(self, name: str, permissions: int = 0, *, managed: bool = False) -> FakeRole:
        """A role above the existing ones (so the bot's role must be moved up to assign it)."""
        role = FakeRole(
            self.server.ids.next(),
            name,
            permissions,
            position=len(self.roles),
            managed=managed,
            guild_id=self.id,
        )
        self.server.roles[role.id] = role
        return role

    def add_user(self, name: str, *, roles: Sequence[FakeRole] = (), bot: bool = False) -> FakeUser:
        """A new user who is a member of this guild only."""
        if self.default:
            return self.server.add_user(name, roles=roles, bot=bot)
        user = self.server.add_user(name, in_guild=False, bot=bot)
        self.add_member(user, roles=roles)
        return user

    def add_member(self, user: FakeUser, *, roles: Sequence[FakeRole] = ()) -> FakeUser:
        """Make an existing user (same id everywhere) a member here, with these roles."""
        for role in roles:
            self._check_role(role)
        role_ids = [r.id for r in roles if r is not self.everyone_role]
        if self.default:
            user.in_guild = True
            user.role_ids = role_ids
        else:
            self._members[user.id] = FakeMember(user, self.id, role_ids)
        return user

    def remove_member(self, user: FakeUser) -> None:
        if self.default:
            user.in_guild = False
            user.role_ids = []
        else:
            self._members.pop(user.id, None)

    def add_text_channel(self, name: str, *, topic: str | None = None) -> FakeChannel:
        channel = FakeChannel(
            self.server.ids.next(),
            GUILD_TEXT,
            name=name,
            guild_id=self.id,
            topic=topic,
            position=len(self.text_channels),
        )
        self.server.channels[channel.id] = channel
        return channel

    def _check_role(self, role: FakeRole) -> None:
        if role.guild_id != self.id:
            raise ValueError(f"{role!r} belongs to another guild than {self!r}")

    # ------------------------------------------------------------------ permissions
    def permissions_of(self, user: FakeUser) -> int:
        """Guild-level permissions (no channel overwrites in the fake)."""
        member = self.member(user)
        if member is None:
            return 0
        if user.id == self.guild.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone_role.permissions
        for role_id in member.role_ids:
            role = self.server.roles.get(role_id)
            if role is not None and role.guild_id == self.id:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    async def set_roles(self, user: FakeUser, roles: Sequence[FakeRole]) -> None:
        """Replace ``user``'s roles here and send GUILD_MEMBER_UPDATE (members intent)."""
        member = self.member(user)
        if member is None:
            raise LookupError(f"{user!r} is not a member of {self!r}")
        for role in roles:
            self._check_role(role)
        member.role_ids = [r.id for r in roles if r is not self.everyone_role]
        await self.server.dispatch(
            "GUILD_MEMBER_UPDATE",
            {"guild_id": str(self.id), **self.server.member_payload(user, guild=self)},
            intent=GUILD_MEMBERS,
        )


def populate(
    world: GuildWorld,
    *,
    bot_user: FakeUser,
    bot_name: str,
    bot_permissions: int,
    suffix: str = "",
    admin: FakeUser | None = None,
    curator: FakeUser | None = None,
    expert: FakeUser | None = None,
    stranger: FakeUser | None = None,
) -> GuildWorld:
    """Give ``world`` the standard roles, inhabitants and ``general`` channel.

    Passing a user (e.g. ``expert=server.expert``) makes that existing user play the part.
    """
    world.everyone_role = FakeRole(
        world.id, "@everyone", EVERYONE_PERMISSIONS, position=0, guild_id=world.id
    )
    world.server.roles[world.id] = world.everyone_role
    world.curator_role = world.add_role("curator")
    world.admin_role = world.add_role("admin", ADMINISTRATOR)
    # the bot's managed role sits above these, so it may assign them (roles added later sit higher)
    world.bot_role = world.add_role(bot_name, bot_permissions, managed=True)
    if world.default:
        bot_user.role_ids.append(world.bot_role.id)
    else:
        world.add_member(bot_user, roles=[world.bot_role])

    def cast(given: FakeUser | None, name: str, roles: list[FakeRole]) -> FakeUser:
        if given is None:
            return world.add_user(name + suffix, roles=roles)
        return world.add_member(given, roles=roles)

    world.expert = cast(expert, "expert", [])
    world.curator = cast(curator, "curator", [world.curator_role])
    world.admin = cast(admin, "admin", [world.admin_role])
    world.stranger = cast(stranger, "stranger", [])
    world.guild.owner_id = world.admin.id
    world.general = world.add_text_channel("general")
    return world

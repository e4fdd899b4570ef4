"""Who may do what: curators are server admins or hold a role named in discord.curator_roles."""

from __future__ import annotations

import discord

from knowledge.config import DiscordSettings


def is_curator(user: discord.abc.User, settings: DiscordSettings) -> bool:
    """True for a member who administers the server or has a configured curator role.

    Roles are matched by id or by name, from the entry for this guild id and the "*" entry.
    Outside a server (DMs) nobody is a curator.
    """
    if not isinstance(user, discord.Member):
        return False
    if user.guild_permissions.administrator:
        return True
    wanted = {
        str(r).strip().lower()
        for key in (str(user.guild.id), "*")
        for r in settings.curator_roles.get(key, [])
    }
    return any(str(r.id) in wanted or r.name.lower() in wanted for r in user.roles)

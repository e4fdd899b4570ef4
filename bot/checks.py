"""Who may do what, and where: served servers, curators (admins, configured roles, roles set
with /review curators), and admins."""

from __future__ import annotations

import discord

from knowledge.config import DiscordSettings
from knowledge.review.curators import CuratorRoles

NOT_SERVED = (
    "tacit is not set up for this server, so it does nothing here and stores nothing. "
    "The operator lists the servers it serves in `[discord] allowed_guilds`."
)


def served(interaction: discord.Interaction, settings: DiscordSettings) -> bool:
    """Whether the bot works where this interaction happened (DMs: always)."""
    return settings.serves(interaction.guild_id)


async def refuse_unserved(interaction: discord.Interaction, settings: DiscordSettings) -> bool:
    """For buttons and forms: False, after one private line, outside the served servers."""
    if served(interaction, settings):
        return True
    if not interaction.response.is_done():
        await interaction.response.send_message(NOT_SERVED, ephemeral=True)
    return False


def is_admin(user: discord.abc.User) -> bool:
    return isinstance(user, discord.Member) and user.guild_permissions.administrator


def configured_curator(user: discord.abc.User, settings: DiscordSettings) -> bool:
    """An admin, or a holder of a role named (by id or name) in `[discord] curator_roles` for
    this guild id or "*"."""
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


async def is_curator(
    user: discord.abc.User, settings: DiscordSettings, roles: CuratorRoles
) -> bool:
    """True for a member who curates the server the interaction is in: an admin, a holder of a
    configured role, or of a role its admins set with /review curators. Outside a server
    (DMs) nobody is a curator. Asked of SQL every time, so a removed role stops at once."""
    if not isinstance(user, discord.Member):
        return False
    if configured_curator(user, settings):
        return True
    if not settings.serves(user.guild.id):
        return False
    mine = {r.id for r in user.roles}
    return bool(mine & await roles.role_ids(user.guild.id))

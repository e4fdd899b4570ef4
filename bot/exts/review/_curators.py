"""/review curators add|remove|list: a server's admins choose which roles curate it.

Stored in SQL and audited (knowledge.review.curators); the settings' `[discord] curator_roles`
stay a default on top, and administrators always curate.
"""

from __future__ import annotations

import discord

from bot.checks import is_admin
from bot.identity import curator_id
from bot.messages import tell
from knowledge.services import Services

ADMINS_ONLY = "Only the server's administrators can choose who curates it."


async def _admin(interaction: discord.Interaction) -> bool:
    if is_admin(interaction.user):
        return True
    await tell(interaction, ADMINS_ONLY)
    return False


async def add(services: Services, interaction: discord.Interaction, role: discord.Role) -> None:
    if not await _admin(interaction):
        return
    if role.is_default():
        await tell(interaction, "@everyone cannot curate: choose a role some members have.")
        return
    added = await services.curators.add(
        interaction.guild_id, role.id, actor=curator_id(interaction.user)
    )
    await tell(
        interaction,
        f"Members of {role.mention} now curate this server: they can use `/review` and "
        "`/export` (give the role Manage Messages, or allow the commands for it under "
        "Server Settings > Integrations, so Discord shows them)."
        if added
        else f"{role.mention} already curates this server.",
    )


async def remove(services: Services, interaction: discord.Interaction, role: discord.Role) -> None:
    if not await _admin(interaction):
        return
    removed = await services.curators.remove(
        interaction.guild_id, role.id, actor=curator_id(interaction.user)
    )
    configured = {r.lower() for r in _configured(services, interaction.guild_id)}
    still = str(role.id) in configured or role.name.lower() in configured
    if removed:
        text = f"{role.mention} no longer curates this server."
    else:
        text = f"{role.mention} was not set to curate here."
    if still:
        text += (
            " It is still named in the settings (`[discord] curator_roles`), so its members "
            "remain curators until the operator removes it there."
        )
    await tell(interaction, text)


async def show(services: Services, interaction: discord.Interaction) -> None:
    rows = await services.curators.list(interaction.guild_id)
    lines = ["**Who curates this server**", "- Administrators, always."]
    lines += [f"- <@&{r.role_id}>, set by {_who(r.added_by)}" for r in rows]
    lines += [
        f"- `{name}`, from the settings" for name in _configured(services, interaction.guild_id)
    ]
    if len(lines) == 2:
        lines.append("No curator roles yet: an admin adds one with `/review curators add`.")
    await tell(interaction, "\n".join(lines))


def _configured(services: Services, guild_id: int | None) -> list[str]:
    roles = services.settings.discord.curator_roles
    return [*roles.get(str(guild_id), []), *roles.get("*", [])]


def _who(actor: str) -> str:
    kind, _, rest = actor.partition(":")
    return f"<@{rest}>" if kind == "discord" and rest.isdigit() else f"`{actor}`"

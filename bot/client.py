"""The Bot: holds the services it is given, loads the extensions, syncs commands on request."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import NOT_SERVED, served
from bot.messages import refuse, sentence, tell
from knowledge.errors import TacitError
from knowledge.ops import metrics
from knowledge.ops.doctor import quick_check, warn_if_off
from knowledge.ops.health import start_health
from knowledge.services import Services

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.exts.interview", "bot.exts.me", "bot.exts.review", "bot.exts.export")


def intents() -> discord.Intents:
    """Guilds, guild and DM messages, and message content (privileged): answers are messages."""
    it = discord.Intents.default()
    it.message_content = True
    it.presences = False
    it.members = False  # interactions and messages carry the member with its roles
    return it


class Tree(app_commands.CommandTree):
    """Every refusal of the core (TacitError) becomes a private reply, in this one place;
    anything else is logged as a bug. In a server the bot does not serve
    (`[discord] allowed_guilds`) every command gets one line, before anything is stored."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if served(interaction, self.client.services.settings.discord):
            return True
        if interaction.type == discord.InteractionType.application_command:
            await interaction.response.send_message(NOT_SERVED, ephemeral=True)
        return False  # autocomplete: no choices

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        cause = getattr(error, "original", error)
        if isinstance(cause, TacitError):
            await refuse(interaction, cause)
            return
        if isinstance(cause, app_commands.CheckFailure):
            await tell(interaction, sentence(str(cause)))
            return
        command = interaction.command.qualified_name if interaction.command else "?"
        metrics.error("unexpected")
        log.error("command /%s failed", command, exc_info=cause)
        try:
            await tell(interaction, "Sorry, something went wrong on my side. Please try again.")
        except discord.HTTPException:
            pass


class _TacitMixin:
    """What both bot classes share; `services` are built once in __main__ and passed in."""

    def __init__(self, services: Services, *, sync: bool = False, **kwargs: Any):
        # tacit has no voice: spare the operator discord.py's warnings about voice libraries.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            tree_cls=Tree,
            **kwargs,
        )
        self.services = services
        self.sync_globally = sync

    async def setup_hook(self) -> None:
        # The cheap half of `tacit doctor`: one warning line when SQL and Chroma disagree.
        warn_if_off(await quick_check(self.services))
        self.health = await start_health(
            self.services, self.services.settings.metrics, gateway=self.connected
        )
        # Extensions register their persistent buttons (DynamicItems) and resume the
        # interviews that were running when the bot stopped.
        for name in EXTENSIONS:
            await self.load_extension(name)
        await self._sync_commands()

    async def _sync_commands(self) -> None:
        guild_id = self.services.settings.discord.dev_guild_id
        if guild_id:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild %s", len(synced), guild_id)
        if self.sync_globally:
            synced = await self.tree.sync()
            log.info(
                "synced %d commands globally (Discord may take a while to show them)", len(synced)
            )

    def connected(self) -> bool:
        """Whether the gateway is up: ready, not closed, and no shard disconnected."""
        if self.is_closed() or not self.is_ready():
            return False
        shards = getattr(self, "shards", None)
        if shards:
            return not any(s.is_closed() for s in shards.values())
        return self.ws is not None and self.ws.open

    async def close(self) -> None:
        health, self.health = getattr(self, "health", None), None
        if health is not None:
            await health.stop()
        await super().close()

    async def on_message(self, message: discord.Message) -> None:
        # No prefix commands: answers are read by the interview extension's listener.
        return

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d guild(s)", self.user, self.user.id, len(self.guilds))
        discord_settings = self.services.settings.discord
        unserved = [g for g in self.guilds if not discord_settings.serves(g.id)]
        if unserved:
            log.warning(
                "in %d server(s) not in discord.allowed_guilds (answering one line there): %s",
                len(unserved),
                ", ".join(str(g.id) for g in unserved),
            )


class TacitBot(_TacitMixin, commands.Bot):
    pass


class ShardedTacitBot(_TacitMixin, commands.AutoShardedBot):
    pass


def create_bot(services: Services, *, sync: bool = False) -> TacitBot | ShardedTacitBot:
    """The bot class the config asks for: sharded when discord.shards is "auto" or above 0;
    `shard_ids` runs only those shards in this process (the others run elsewhere)."""
    d = services.settings.discord
    if d.shards == "auto":
        return ShardedTacitBot(services, sync=sync)
    if d.shards > 0:
        ids = {"shard_ids": sorted(d.shard_ids)} if d.shard_ids else {}
        return ShardedTacitBot(services, sync=sync, shard_count=d.shards, **ids)
    return TacitBot(services, sync=sync)

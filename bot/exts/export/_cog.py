"""/export dataset and /export list: a curator asks for a fine-tuning dataset of their server's
entries; it is written in the background.

The command answers at once (privately) and returns; the export (knowledge.export.export) runs
in a task of its own, on the server's own view of the core, its SQL and Chroma reads awaited and
its CPU work in worker threads, so the bot keeps serving everyone else. The reply is edited with
progress every few seconds and with the result. The dataset, zipped, goes to the curator's DMs
when it fits Discord's upload limit (a DM, unlike an ephemeral reply, stays readable and can be
deleted by the bot later: erasure deletes the messages of exports that held erased words); it
is always written on the server ([export] out_dir). One export runs at a time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import zipfile
from pathlib import Path

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import guide_choices
from bot.checks import is_curator
from bot.exts.export import _render
from bot.identity import curator_id
from bot.messages import refuse, sentence, tell
from bot.posts import delete_recalled, where
from bot.tenancy import curator_view
from knowledge.export import (
    ExportError,
    ExportOptions,
    ExportReport,
    count_selected,
    default_out,
    export,
)
from knowledge.services import Services
from knowledge.vocab import EntryStatus, ExportFormat

log = logging.getLogger(__name__)

PROGRESS_SECONDS = 3.0  # how often the reply shows progress (well inside Discord's rate limits)
NOT_ALLOWED = (
    "Only curators can export datasets. A server admin can give you one of the curator roles."
)
_FORMAT_NAMES = {
    ExportFormat.openai: "chat messages, JSONL",
    ExportFormat.sharegpt: "conversations, JSONL",
    ExportFormat.alpaca: "instruction and output, JSONL",
    ExportFormat.hf: "Hugging Face dataset folder (Parquet)",
    ExportFormat.dpo: "preference pairs from edits and corrections, JSONL",
}
FORMAT_CHOICES = [
    app_commands.Choice(name=f"{f.value}: {_FORMAT_NAMES[f]}", value=f.value) for f in ExportFormat
]
# The default status first.
STATUS_CHOICES = [
    app_commands.Choice(name=s.value, value=s.value)
    for s in sorted(EntryStatus, key=lambda s: s != EntryStatus.approved)
]


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class ExportCog(
    commands.GroupCog,
    name="Export",
    group_name="export",
    group_description="Fine-tuning datasets of this server's reviewed entries (curators)",
):
    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services
        self.settings = services.settings
        self.job: asyncio.Task | None = None
        # The upload limit; None means what Discord says for the interaction (guild boosts).
        self.upload_limit: int | None = None

    async def cog_unload(self) -> None:
        if self.job is not None:
            self.job.cancel()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # Discord's default permission can be changed by any server admin: check here too.
        if not await self._curator(interaction):
            raise app_commands.CheckFailure(NOT_ALLOWED)
        return True

    async def _curator(self, interaction: discord.Interaction) -> bool:
        return await is_curator(interaction.user, self.settings.discord, self.services.curators)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Messages an erasure asked to delete while the bot was away (or could not reach).
        try:
            await delete_recalled(self.bot, self.services.exports)
        except Exception:
            log.exception("could not delete recalled export messages; trying again later")

    @app_commands.command(name="list", description="The datasets exported for this server")
    async def list_(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        rows = await curator_view(interaction, self.services).exports.list(limit=15)
        await tell(interaction, _render.listing(rows))

    @app_commands.command(name="dataset", description="Export reviewed entries as a dataset")
    @app_commands.rename(fmt="format")
    @app_commands.describe(
        fmt="The dataset format",
        guide="Only entries from this interview guide",
        status="Entries with this review status (default: approved)",
    )
    @app_commands.choices(fmt=FORMAT_CHOICES, status=STATUS_CHOICES)
    async def export_(
        self,
        interaction: discord.Interaction,
        fmt: str,
        guide: str | None = None,
        status: str = EntryStatus.approved.value,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if self.job is not None and not self.job.done():
            await tell(interaction, "An export is already running. Try again when it is done.")
            return
        out = default_out(self.settings.export.out_dir / f"guild-{interaction.guild_id}", fmt)
        tenant = curator_view(interaction, self.services)
        try:
            opts = ExportOptions(out=out, format=fmt, status=status, guide=guide)
            found = await count_selected(tenant, opts)
        except ExportError as e:
            await refuse(interaction, e)
            return
        label = _render.what(fmt, status, guide)
        if found == 0:
            await tell(interaction, _render.nothing(label))
            return
        await interaction.edit_original_response(content=_render.started(label))
        self.job = asyncio.create_task(
            self._run(interaction, tenant, opts, label), name="tacit-export"
        )
        self.job.add_done_callback(_log_failure)

    @export_.autocomplete("guide")
    async def _guide_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if not await self._curator(interaction):
            return []
        return guide_choices(self.services.guides, current)

    # ---- the background job ------------------------------------------------------------------

    async def _run(
        self, interaction: discord.Interaction, tenant, opts: ExportOptions, label: str
    ) -> None:
        state: dict = {"phase": None, "done": 0, "total": 0}

        def progress(phase: str, done: int, total: int) -> None:
            state.update(phase=phase, done=done, total=total)  # shown by the loop below

        actor = curator_id(interaction.user)
        work = asyncio.create_task(export(tenant, opts, progress=progress, actor=actor))
        shown = None
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=PROGRESS_SECONDS)
                text = _render.progress(label, state["phase"], state["done"], state["total"])
                if not work.done() and text != shown:
                    await self._edit(interaction, content=text)
                    shown = text
            report = work.result()
        except ExportError as e:
            await self._edit(interaction, content=f"The export failed: {sentence(str(e))}")
            return
        except asyncio.CancelledError:
            work.cancel()
            raise
        except Exception:
            log.exception("export %s failed", opts.out)
            await self._edit(
                interaction, content="The export failed on the server side; the log says why."
            )
            return
        await self._deliver(interaction, tenant, report, label)

    async def _deliver(
        self, interaction: discord.Interaction, tenant, report: ExportReport, label: str
    ) -> None:
        """The zip to the curator's DMs (recorded, so erasure can delete it), the report here."""
        text = _render.summary(report, label)
        name = report.out.name.removesuffix(".jsonl") + ".zip"
        limit = self.upload_limit or interaction.filesize_limit
        path = await asyncio.to_thread(_zip, report.files, report.out)
        try:
            nbytes = path.stat().st_size
            if nbytes > limit:
                await self._edit(
                    interaction, content=_render.too_big(text, nbytes, limit, report.out)
                )
                return
            try:
                dm = await interaction.user.create_dm()
                message = await dm.send(
                    _render.dm_note(label, interaction.guild),
                    file=discord.File(path, filename=name),
                )
            except discord.HTTPException:
                await self._edit(interaction, content=_render.no_dm(text, report.out))
                return
            await tenant.exports.posted(report.export_id, where(message))
            await self._edit(interaction, content=_render.sent(text, name, nbytes, report.out))
        finally:
            path.unlink(missing_ok=True)

    async def _edit(self, interaction: discord.Interaction, **kwargs) -> None:
        try:
            await interaction.edit_original_response(**kwargs)
        except discord.HTTPException as e:
            # After 15 minutes Discord no longer lets the bot edit its reply; the files stay.
            log.warning("could not update the /export reply: %s", e)


def _zip(files: list[Path], out: Path) -> Path:
    """The dataset's files in a temporary zip (deflated); paths inside are relative to out_dir."""
    base = out.parent
    fd, name = tempfile.mkstemp(prefix="tacit-export-", suffix=".zip")
    os.close(fd)
    path = Path(name)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for f in files:
            z.write(f, arcname=f.relative_to(base).as_posix())
    return path


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the export job failed", exc_info=task.exception())

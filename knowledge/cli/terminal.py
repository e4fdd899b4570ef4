"""The terminal front-end of an interview (`tacit chat`): same engine, same storage as Discord."""

from __future__ import annotations

import asyncio
import shlex
import sys

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from knowledge.cli.common import cell, plain
from knowledge.config import Settings
from knowledge.interview import Ask, InterviewError, NotSaved, Reply
from knowledge.ops.counts import collect
from knowledge.ops.doctor import quick_check, warn_if_off
from knowledge.services import Services, open_services
from knowledge.storage import unavailable, utcnow
from knowledge.vocab import Platform

HELP = (
    "Commands: /skip (next question), /pause (stop, resume later), /end (finish now), /status, "
    "/retry (send again an answer that could not be saved)"
)


class ChatError(InterviewError):
    """A terminal-specific refusal, reported as one line."""


class ConsentMissing(ChatError):
    exit_code = 2


class TerminalInterview:
    def __init__(self, settings: Settings, *, name: str, stdin=None, out: Console | None = None):
        self.settings = settings
        self.name = name
        if stdin is None and hasattr(sys.stdin, "reconfigure"):
            # Bytes that are not UTF-8 become U+FFFD instead of ending the interview.
            sys.stdin.reconfigure(errors="replace")
        self.stdin = stdin or sys.stdin
        self.interactive = self.stdin.isatty()
        self.out = out or Console(highlight=False, soft_wrap=not self.interactive)
        self.unsaved: str | None = None  # an answer the database did not take: /retry sends it
        self.interview_id: int | None = None

    async def run(self, *, guide_slug: str | None, consent: bool, resume: str | None) -> None:
        if guide_slug is not None and resume is not None:
            raise ChatError("give either --guide (a new interview) or --resume, not both")
        async with open_services(self.settings) as svc:
            # Load the model while the expert reads the consent notice.
            warm = asyncio.create_task(svc.engine.prepare())
            warn_if_off(await quick_check(svc))
            try:
                interview_id = await self._open(svc, guide_slug, consent, resume)
            finally:
                warm.cancel()
            try:
                await self._converse(svc, interview_id)
            finally:
                await self._flush(svc)

    async def _open(self, svc: Services, guide_slug, consent: bool, resume) -> int:
        expert = await svc.experts.find(Platform.terminal, self.name)
        mine = await svc.engine.list(expert_id=expert.id) if expert else []
        if resume is not None:
            if resume == "latest":
                open_ones = [iv for iv in mine if iv.status in ("paused", "active")]
                if not open_ones:
                    raise ChatError(await self._nothing_to_resume(svc))
                iv = open_ones[0]
            else:
                try:
                    iv = next(iv for iv in mine if iv.id == int(resume))
                except (ValueError, StopIteration):
                    raise ChatError(f"{self.name} has no interview {resume}") from None
            await svc.engine.resume(iv.id)
            self.out.print(cell(f"Resuming interview {iv.id} ({iv.guide_title})."))
            return iv.id
        running = [iv for iv in mine if iv.status == "active"]
        if len(running) >= self.settings.interview.max_active_per_expert:
            raise ChatError(
                f"interview {running[0].id} is still running: continue it with "
                f"`tacit chat --resume {running[0].id}`"
            )
        if expert is None or svc.experts.needs_consent(expert):
            if not consent:
                if not self.interactive:
                    raise ConsentMissing(
                        "consent is needed before a new interview; with input piped, pass "
                        "--consent to agree to the notice (`tacit chat --help`)"
                    )
                self.out.print(Panel(self.settings.consent.text, title="Before we start"))
                answer = await self._read_line("Do you agree? [y/N] ")
                if (answer or "").strip().lower() not in ("y", "yes"):
                    raise ConsentMissing("no consent given; nothing was recorded")
            # Nothing about the expert is stored before this point.
            expert = await svc.experts.identify(Platform.terminal, self.name, self.name)
            expert = await svc.experts.give_consent(expert.id)
        slug = guide_slug or await self._choose_guide(svc)
        guide = svc.guides.get(slug)
        ask = await svc.engine.start(expert.id, slug, channel="terminal")
        intro = cell(guide.intro)
        self.out.print(Panel(intro, title=cell(guide.title)) if self.interactive else intro)
        if self.interactive:
            self.out.print(f"[dim]{HELP}. An empty line sends your answer.[/dim]")
        return ask.interview_id

    async def _nothing_to_resume(self, svc: Services) -> str:
        """Why there is nothing to resume under this name, and which interviews there are."""
        others = [
            iv
            for iv in await svc.engine.list(channel="terminal", limit=50)
            if iv.status in ("paused", "active")
        ]
        msg = f"{plain(self.name)} has no paused interview to resume"
        if not others:
            return msg + "; start one with `tacit chat --guide SLUG`"
        shown = "; ".join(
            f"{iv.id} ({plain(iv.expert_name)}, {iv.guide_slug}, {iv.status}): "
            f"`tacit chat --resume {iv.id} --name {shlex.quote(plain(iv.expert_name))}`"
            for iv in others[:5]
        )
        return f"{msg}; paused interviews: {shown}"

    async def _choose_guide(self, svc: Services) -> str:
        default = self.settings.interview.default_guide
        if not self.interactive:
            return default
        guides = list(svc.guides)
        table = Table("#", "guide", "questions", box=None)
        for i, g in enumerate(guides, 1):
            table.add_row(str(i), cell(g.title), str(len(g.questions)))
        self.out.print(table)
        while True:
            pick = await self._read_line(f"Which guide? [number or slug, default {default}] ")
            pick = (pick or "").strip()
            if not pick:
                return default
            if pick.isdigit() and 1 <= int(pick) <= len(guides):
                return guides[int(pick) - 1].slug
            if pick in svc.guides.slugs():
                return pick
            self.out.print(cell(f"No guide {pick!r}."))

    async def _converse(self, svc: Services, interview_id: int) -> None:
        self.interview_id = interview_id
        ask = await svc.engine.current(interview_id)
        if ask is None:
            ask = await svc.engine.resume(interview_id)
        show = True
        while ask is not None:
            if show:
                self._show(ask)
            show = True
            text = await self._read_answer()
            try:
                if text is None:
                    await svc.engine.pause(interview_id)
                    self.out.print(
                        f"\nPaused interview {interview_id}. Continue with `tacit chat --resume`."
                    )
                    return
                if text.split()[0].lower() == "/retry" and self.unsaved is not None:
                    text = self.unsaved
                if text.startswith("/"):
                    cmd = text.split()[0].lower()
                    if cmd == "/skip":
                        reply = await svc.engine.skip(interview_id)
                    elif cmd == "/pause":
                        await svc.engine.pause(interview_id)
                        self.out.print(
                            f"Paused interview {interview_id}. Continue with `tacit chat --resume`."
                        )
                        return
                    elif cmd == "/end":
                        view = await svc.engine.end(interview_id)
                        self.out.print(
                            f"Interview {interview_id} ended: {view.answered} answers kept."
                        )
                        return
                    elif cmd == "/status":
                        v = await svc.engine.get(interview_id)
                        self.out.print(
                            f"{v.guide_title}: question {v.position + 1} of {v.total}, "
                            f"{v.answered} answered, {v.skipped} skipped, "
                            f"{int(v.active_seconds // 60)} min active"
                        )
                        show = False
                        continue
                    else:
                        self.out.print(HELP)
                        show = False
                        continue
                else:
                    reply = await svc.engine.answer(interview_id, text, turn_id=ask.turn_id)
                    self.unsaved = None
            except NotSaved as e:
                if text is not None and not text.startswith("/"):
                    self.unsaved = text
                    self.out.print(
                        f"{e}. Your answer is kept: type /retry to send it again.", markup=False
                    )
                else:
                    self.out.print(f"{e}. Try again in a moment.", markup=False)
                if text is None:
                    return
                show = False
                continue
            self._acknowledge(reply)
            ask = reply.next
            if reply.finished:
                await self._teach_back(svc, interview_id)
                self.out.print(reply.closing or "Thank you.", markup=False)

    async def _teach_back(self, svc: Services, interview_id: int) -> None:
        """Show what was understood (when an LLM is configured) and keep the correction."""
        summary = await svc.engine.summarize(interview_id)
        if summary is None:
            return
        self.out.print("\nHere is what I understood:", markup=False)
        self.out.print(cell(summary))
        if not self.interactive:
            return
        correction = await self._read_answer_prompted(
            "Anything wrong or missing? Correct it here (an empty line if it is right)."
        )
        if correction:
            await svc.engine.correct_summary(interview_id, correction)
            self.out.print("Thank you, your correction is kept.")

    async def _read_answer_prompted(self, prompt: str) -> str | None:
        self.out.print(prompt, markup=False)
        line = await self._read_line("> ")
        return (line or "").strip() or None

    def _show(self, ask: Ask) -> None:
        if self.interactive:
            if ask.step_intro:
                self.out.print(
                    Text.assemble(
                        "\n", (plain(ask.step_title), "bold"), "  ", plain(ask.step_intro)
                    )
                )
            label = "follow-up" if ask.followup else f"{ask.number}/{ask.total}"
            self.out.print(
                Panel(cell(ask.text), title=cell(f"{ask.step_title} · {label}"), title_align="left")
            )
        else:
            label = "follow-up" if ask.followup else f"Q{ask.number}/{ask.total}"
            self.out.print(cell(f"[{label}] {ask.text}"))

    def _acknowledge(self, reply: Reply) -> None:
        for text in reply.covered:
            self.out.print(cell(f"(already covered, skipping: {text})"))

    async def _read_line(self, prompt: str = "") -> str | None:
        if prompt:
            self.out.print(prompt, end="", markup=False, highlight=False)
        line = await asyncio.to_thread(self.stdin.readline)
        return line.rstrip("\n") if line else None

    async def _read_answer(self) -> str | None:
        """One answer: a line when piped; lines up to an empty one in a terminal."""
        if not self.interactive:
            while True:
                line = await self._read_line()
                if line is None:
                    return None
                if line.strip():
                    return line.strip()
        lines: list[str] = []
        while True:
            line = await self._read_line("> " if not lines else "  ")
            if line is None:
                return "\n".join(lines).strip() or None
            if not line.strip():
                if lines:
                    return "\n".join(lines).strip()
                continue
            if not lines and line.startswith("/"):
                return line.strip()
            lines.append(line)

    async def _flush(self, svc: Services) -> None:
        if self.unsaved is not None:
            self._keep_unsaved()
        try:
            await self._report(svc)
        except Exception as e:
            if (reason := unavailable(e)) is None:
                raise
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"The database is unavailable ({reason}): what was saved before stays saved.",
                markup=False,
            )

    def _keep_unsaved(self) -> None:
        """The answer the database never took, written where the expert can find it."""
        folder = self.settings.data_dir / "unsaved"
        err = Console(stderr=True, highlight=False, soft_wrap=True)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            stamp = utcnow().strftime("%Y%m%dT%H%M%S")
            path = folder / f"interview-{self.interview_id}-{stamp}.txt"
            path.write_text(self.unsaved + "\n", encoding="utf-8")
            err.print(f"Your last answer was not saved; it is kept in {path}.", markup=False)
        except OSError:
            err.print("Your last answer was not saved; here it is:", markup=False)
            err.print(self.unsaved, markup=False)

    async def _report(self, svc: Services) -> None:
        await svc.engine.drain()
        result = await svc.indexer.sync()
        st = await collect(svc)
        where = svc.db.url.split("///")[-1] if svc.db.is_sqlite else "the database"
        msg = (
            f"Saved in {where}: {st.entries} entries ({st.entries_by_status.get('pending', 0)} "
            f"pending review); vectors in Chroma at {svc.index.where}: "
            f"{st.indexed if st.indexed >= 0 else 'unreachable'}"
        )
        if result.pending:
            msg += f"; {result.pending} waiting to be indexed (they are safe in SQL)"
        Console(stderr=True, highlight=False, soft_wrap=True).print(msg, style="dim", markup=False)

"""Hostile input, property-based: whatever experts and operators feed in, never a traceback.

Answer text (every Unicode plane, right-to-left and zero-width marks, control characters, rich
markup, 100,000 characters) goes through the engine and the terminal and is stored exactly as
sent (trimmed at both ends); NUL is refused with one clear line on every database (PostgreSQL
cannot store it). Guide files and config files, mutated at random, fail with one line naming
the file and the field. Examples are bounded so that the whole module stays well under 30 s.
"""

from __future__ import annotations

import asyncio
import io
import random
import tomllib

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from rich.console import Console
from sqlalchemy import select

from knowledge.config import ConfigError, load_settings
from knowledge.guides import DEFAULT_GUIDES_DIR, GuideError, load_guide
from knowledge.interview import InterviewError
from knowledge.storage import Entry, Turn
from tests.conftest import ROOT

FAST = examples(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text an expert might paste: any printable or control character but NUL and surrogates,
# with right-to-left overrides, zero-width joiners, BOMs and rich markup mixed in.
TRICKY = st.sampled_from(
    [
        "\u202e",
        "\u200b",
        "\u200d",
        "\ufeff",
        "\u2066",
        "[bold]",
        "[/]",
        "[link=x]",
        "\x1b[31m",
        "\r",
        "\t",
        "\x7f",
        "\u0645\u0631\u062d\u0628\u0627",
        "\U0001f9d1\u200d\U0001f52c",
    ]
)
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
ANSWER = st.lists(
    st.one_of(st.text(CHARS, min_size=1, max_size=40), TRICKY), min_size=1, max_size=12
).map("".join)


@pytest.fixture
def engine_runner(settings, encoder):
    """(a runner, the services built in it, a consented expert): sync tests drive the engine."""
    from knowledge.services import build

    with asyncio.Runner() as runner:
        svc = runner.run(build(settings, encoder=encoder, background=False))
        ex = runner.run(svc.experts.identify("terminal", "ana", "Ana Ruiz"))
        ex = runner.run(svc.experts.give_consent(ex.id))
        yield runner, svc, ex
        runner.run(svc.close())


async def _answer_once(svc, expert_id: int, text: str):
    """A new interview, one answer, ended: (the reply or the refusal, turn and entry texts)."""
    ask = await svc.engine.start(expert_id, "generic")
    try:
        reply = await svc.engine.answer(ask.interview_id, text, turn_id=ask.turn_id)
    except InterviewError as e:
        return e, None, None
    finally:
        await svc.engine.end(ask.interview_id)
    async with svc.db.sessions() as s:
        turn = await s.get(Turn, reply.turn_id)
        entries = list(await s.scalars(select(Entry).where(Entry.turn_id == reply.turn_id)))
    return reply, turn.answer, [e.answer for e in entries]


@pytest.mark.postgres
def test_any_answer_text_is_stored_exactly_as_sent(engine_runner):
    runner, svc, expert = engine_runner

    @FAST
    @given(ANSWER)
    def check(text):
        reply, in_turn, in_entries = runner.run(_answer_once(svc, expert.id, text))
        if not text.strip():
            assert isinstance(reply, InterviewError) and "needs some text" in str(reply)
            return
        assert not isinstance(reply, Exception), reply
        assert in_turn == text.strip() and in_entries == [text.strip()]

    check()
    huge = "".join(random.Random(7).choice("abc דוד [b] ​\t") for _ in range(100_000))
    for text in (huge, "  [bold]mark[/bold]  ", "‮evil‬", "[31mred[0m"):
        _reply, in_turn, _ = runner.run(_answer_once(svc, expert.id, text))
        assert in_turn == text.strip()


@pytest.mark.postgres
def test_nul_in_an_answer_is_refused_in_one_line_and_nothing_is_stored(engine_runner):
    runner, svc, expert = engine_runner
    refused, in_turn, _ = runner.run(_answer_once(svc, expert.id, "before\x00after"))
    assert isinstance(refused, InterviewError) and "NUL" in str(refused)
    assert "\n" not in str(refused) and in_turn is None
    reply, in_turn, _ = runner.run(_answer_once(svc, expert.id, "before after"))
    assert in_turn == "before after"


LINE = ANSWER.map(lambda t: t.replace("\n", " ").replace("\r", " "))  # one line of piped input
NAME = st.text(CHARS, min_size=1, max_size=30).map(lambda t: " ".join(t.split()) or "x")


def test_the_terminal_takes_any_line_and_any_name_without_a_traceback(tmp_path, encoder):
    """On SQLite only: past the terminal, the engine test above covers both databases."""
    from knowledge.cli.terminal import TerminalInterview
    from knowledge.config import ChromaSettings, Settings
    from knowledge.services import build

    settings = Settings(
        data_dir=tmp_path,
        database={"url": f"sqlite+aiosqlite:///{tmp_path / 'tacit.db'}"},
        chroma=ChromaSettings(path=tmp_path / "chroma"),
    )

    with asyncio.Runner() as runner:
        svc = runner.run(build(settings, encoder=encoder, background=False))
        try:

            @settings_of(max_examples=6)
            @given(NAME, LINE)
            def check(name, line):
                assume(not line.strip().startswith("/"))
                out = io.StringIO()
                chat = TerminalInterview(
                    settings,
                    name=name,
                    stdin=io.StringIO(line + "\n"),
                    out=Console(file=out, width=100, highlight=False, soft_wrap=True),
                )
                runner.run(_piped(chat, svc))
                text = out.getvalue()
                assert "Paused interview" in text, text
                stored = runner.run(_answers(svc, chat.interview_id))
                assert stored == ([line.strip()] if line.strip() else []), (stored, line)

            check()
        finally:
            runner.run(svc.close())


async def _piped(chat, svc) -> None:
    """The terminal interview on the services already built (no model load per example)."""
    import knowledge.cli.terminal as terminal

    real = terminal.open_services

    class Shared:
        async def __aenter__(self):
            return svc

        async def __aexit__(self, *exc):
            return False

    terminal.open_services = lambda settings, **kw: Shared()
    try:
        await chat.run(guide_slug="generic", consent=True, resume=None)
    finally:
        terminal.open_services = real


async def _answers(svc, interview_id: int) -> list[str]:
    async with svc.db.sessions() as s:
        q = select(Turn.answer).where(Turn.interview_id == interview_id, Turn.answer.is_not(None))
        return list(await s.scalars(q))


def settings_of(**kw):
    return examples(
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **kw,
    )


# ---- guide files and config files -------------------------------------------------------

GUIDE_TEXT = (DEFAULT_GUIDES_DIR / "physician.toml").read_text(encoding="utf-8")
CONFIG_TEXT = (ROOT / "config.example.toml").read_text(encoding="utf-8")
JUNK = st.one_of(
    st.sampled_from(
        [
            '"',
            "[",
            "]]",
            "= 1",
            '= "x"',
            "= []",
            "= {a = 1}",
            "= -1e999",
            "= true",
            "\\",
            "\x00",
            "\xff",
            "[[steps]]",
            "[llm]",
            "\u202e",
            "#",
        ]
    ),
    st.text(CHARS, max_size=8),
)


@st.composite
def mutated(draw, text: str) -> bytes:
    """The file with a few random edits: lines dropped, doubled or cut, junk put in."""
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "double", "cut", "junk", "value"]))
        if how == "drop":
            del lines[i]
        elif how == "double":
            lines.insert(i, lines[i])
        elif how == "cut":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif how == "junk":
            lines.insert(i, draw(JUNK))
        elif "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + draw(JUNK)
        lines = lines or [""]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


def _one_line(message: str, *names: str) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    assert any(n in message for n in names), message


@settings_of(max_examples=60)
@given(mutated(GUIDE_TEXT))
def test_a_mutated_guide_file_loads_or_fails_in_one_line_naming_the_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("g") / "physician.toml"
    path.write_bytes(data)
    try:
        load_guide(path)
    except GuideError as e:
        _one_line(str(e), "physician.toml")


@settings_of(max_examples=60)
@given(mutated(CONFIG_TEXT))
def test_a_mutated_config_file_loads_or_fails_in_one_line_naming_the_file_or_key(
    tmp_path_factory, data
):
    path = tmp_path_factory.mktemp("c") / "config.toml"
    path.write_bytes(data)
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        parsed = None
    try:
        load_settings(path)
    except ConfigError as e:
        keys = [k for k in (parsed or {})] + ["config.toml"]
        _one_line(str(e), *keys)

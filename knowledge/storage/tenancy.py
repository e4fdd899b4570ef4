"""Tenancy: which server's rows a unit of work may see, enforced on every ORM statement.

A session opened through `Database.scoped(scope)` carries its `Scope`; the `do_orm_execute`
hook below adds `guild_id = <its guild>` for every tenanted table (`models.Tenanted`) to each
SELECT, UPDATE and DELETE the session runs, in joins and subqueries too. Review, payouts and
exports for a Discord server run on such sessions, so "a curator in server G only ever sees
server G" holds without any query remembering a filter. The operator's sessions (the command
line, the interview engine, the indexer) are unscoped and see everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from knowledge.storage.models import Tenanted

SCOPE_KEY = "tacit.scope"


@dataclass(frozen=True)
class Scope:
    """One server's data (`guild_id`), the terminal's (guild None), or everything (`all`)."""

    guild_id: int | None = None
    all: bool = False

    @classmethod
    def server(cls, guild_id: int) -> Scope:
        return cls(int(guild_id))

    @property
    def label(self) -> str:
        """As stored with an export and shown to operators: "all", "terminal", "guild:<id>"."""
        if self.all:
            return "all"
        return "terminal" if self.guild_id is None else f"guild:{self.guild_id}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        """ "all", "terminal" or a server id, as given to `--guild`; ValueError otherwise."""
        value = text.strip().lower()
        if value == "all":
            return EVERYTHING
        if value == "terminal":
            return TERMINAL
        if value.isascii() and value.isdigit() and 0 < int(value) < 2**63:  # a 64-bit snowflake
            return cls.server(int(value))
        raise ValueError(f"{text!r} is not a server id, 'terminal' or 'all'")


EVERYTHING = Scope(all=True)
TERMINAL = Scope()


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    scope: Scope | None = state.session.info.get(SCOPE_KEY)
    if scope is None or scope.all or state.is_column_load:
        return  # unscoped, or refreshing attributes of a row this session already saw
    if not (state.is_select or state.is_update or state.is_delete):
        return
    guild = scope.guild_id
    criteria = (
        (lambda cls: cls.guild_id.is_(None))
        if guild is None
        else (lambda cls: cls.guild_id == guild)
    )
    state.statement = state.statement.options(
        with_loader_criteria(Tenanted, criteria, include_aliases=True)
    )

"""Choices offered while a slash-command option is typed, shared by every extension."""

from __future__ import annotations

from discord import app_commands

from knowledge.guides import GuideLibrary

MAX_CHOICES = 25  # Discord shows at most this many


def guide_choices(guides: GuideLibrary, current: str) -> list[app_commands.Choice[str]]:
    """Guides whose slug or title holds what was typed."""
    cur = current.strip().lower()
    return [
        app_commands.Choice(name=f"{g.title} ({g.slug})"[:100], value=g.slug)
        for g in guides
        if cur in g.slug or cur in g.title.lower()
    ][:MAX_CHOICES]

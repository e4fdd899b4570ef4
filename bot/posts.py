"""Messages the bot posted with an export attached: where they are, and deleting them when
erasure took words out of that export (the registry marks them; this deletes them)."""

from __future__ import annotations

import logging

import discord

from knowledge.export import ExportRegistry

log = logging.getLogger(__name__)


def where(message: discord.Message) -> str:
    """How the registry names a posted message: "discord:<channel id>:<message id>"."""
    return f"discord:{message.channel.id}:{message.id}"


def _parse(text: str) -> tuple[int, int] | None:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] != "discord" or not (parts[1] + parts[2]).isdigit():
        return None
    return int(parts[1]), int(parts[2])


async def delete_recalled(client: discord.Client, registry: ExportRegistry) -> int:
    """Delete every posted export erasure recalled; how many messages went. A message already
    gone counts as deleted; one that cannot be deleted now is tried again next time."""
    deleted = 0
    for post in await registry.recalled_posts():
        place = _parse(post.where)
        if place is None:
            await registry.post_deleted(post.id)
            continue
        channel_id, message_id = place
        try:
            await (
                client.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
            )
        except discord.NotFound:
            pass
        except discord.HTTPException as e:
            log.warning("could not delete the export message %s yet: %s", post.where, e)
            continue
        await registry.post_deleted(post.id)
        deleted += 1
    if deleted:
        log.info("deleted %d message(s) holding erased exports", deleted)
    return deleted

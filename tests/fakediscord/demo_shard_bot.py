"""A throwaway one-shard bot for the launcher test: it echoes messages, naming its shard.

Run it with ``python -m fakediscord.launch --url URL -- fakediscord.demo_shard_bot:main
--shard 1 --shards 2`` (the token comes from ``$FAKEDISCORD_TOKEN``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import discord


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--shards", type=int, required=True)
    args = parser.parse_args(sys.argv[1:])
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.AutoShardedClient(
        intents=intents,
        shard_ids=[args.shard],
        shard_count=args.shards,
        # no 2 s wait for more GUILD_CREATEs: the fake sends them all right after READY
        guild_ready_timeout=0.05,
    )

    @client.event
    async def on_ready() -> None:
        guilds = sorted(g.id for g in client.guilds)
        print(f"ready shard={args.shard} guilds={guilds}", flush=True)

    @client.event
    async def on_message(message: discord.Message) -> None:
        if not message.author.bot:
            await message.channel.send(f"shard {args.shard}: {message.content}")

    client.run(os.environ["FAKEDISCORD_TOKEN"], log_level=logging.WARNING)
    return 0

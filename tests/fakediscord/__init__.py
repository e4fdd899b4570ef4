"""A fake Discord (REST + gateway over loopback) for driving the real discord.py bot in tests.

Import it as ``fakediscord`` (pytest puts ``tests/`` on sys.path); see docs/testing-discord.md::

    async with FakeDiscord() as server, run_bot(server, make_bot()) as bot:
        ix = await server.slash(server.expert, "demo hello")
        call = await ix.wait_response()
"""

from .errors import ApiError, WaitTimeout
from .gateway import GatewaySession
from .harness import (
    DEFAULT_ERROR_LOGGERS,
    ErrorCapture,
    capture_errors,
    run_bot,
    start_bot,
    stop_bot,
)
from .models import (
    DM,
    EPHEMERAL,
    GUILD_TEXT,
    LOADING,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Call,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    UploadedFile,
)
from .server import FakeDiscord
from .world import GuildWorld, shard_of

# ``launch`` is left out on purpose: ``python -m fakediscord.launch`` must import it fresh.

__all__ = [
    "DEFAULT_ERROR_LOGGERS",
    "DM",
    "EPHEMERAL",
    "GUILD_TEXT",
    "LOADING",
    "PRIVATE_THREAD",
    "PUBLIC_THREAD",
    "ApiError",
    "Call",
    "ErrorCapture",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewaySession",
    "GuildWorld",
    "UploadedFile",
    "WaitTimeout",
    "capture_errors",
    "run_bot",
    "shard_of",
    "start_bot",
    "stop_bot",
]

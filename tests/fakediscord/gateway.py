"""Gateway (websocket) side of the fake: HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatch.

Frames are sent as JSON text, which discord.py accepts even when it asked for
``compress=zlib-stream`` (only *binary* frames go through its decompressor).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

# Gateway opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE = 0, 1, 2, 3
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION = 6, 7, 8, 9
HELLO, HEARTBEAT_ACK = 10, 11

# Intents (https://discord.com/developers/docs/events/gateway#gateway-intents)
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15


class Connection:
    """One websocket; sends are serialised so frames keep their order."""

    def __init__(self, ws: web.WebSocketResponse, query: dict[str, str]) -> None:
        self.ws = ws
        self.query = query
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        async with self._lock:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(json.dumps(payload))
            except (ConnectionResetError, RuntimeError):
                pass


class GatewaySession:
    """A gateway session (survives a disconnect so the bot can RESUME it)."""

    def __init__(self, session_id: str, identify: dict[str, Any]) -> None:
        self.id = session_id
        self.identify = identify
        self.intents: int = int(identify.get("intents") or 0)
        self.shard: list[int] | None = identify.get("shard")
        self.seq = 0
        self.history: deque[dict[str, Any]] = deque(maxlen=5000)
        self.conn: Connection | None = None

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.ws.closed

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.history.append(frame)
        if self.conn is not None:
            await self.conn.send(frame)


class GatewayMixin:
    """Gateway handling for :class:`FakeDiscord`."""

    async def _gateway_handler(self: FakeDiscord, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = Connection(ws, dict(request.query))
        self._connections.add(conn)
        if request.query.get("encoding", "json") != "json":
            self._internal_error(f"gateway: unsupported encoding {request.query.get('encoding')!r}")
        session: GatewaySession | None = None
        try:
            await conn.send(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        self._internal_error(
                            "gateway: binary (ETF/compressed) frames are not supported"
                        )
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d")
                self.gateway_received.append(_redact(frame))
                if op == HEARTBEAT:
                    await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
                elif op == IDENTIFY:
                    session = await self._identify(conn, data)
                elif op == RESUME:
                    session = await self._resume(conn, data)
                elif op == PRESENCE_UPDATE:
                    self.presence = data
                elif op == REQUEST_GUILD_MEMBERS and session is not None:
                    await self._request_members(session, data)
        finally:
            self._connections.discard(conn)
            if session is not None and session.conn is conn:
                session.conn = None
                # a clean close (1000/1001) ends the session; anything else stays resumable
                if ws.close_code in (1000, 1001):
                    self.sessions.pop(session.id, None)
        return ws

    async def _identify(
        self: FakeDiscord, conn: Connection, data: dict[str, Any]
    ) -> GatewaySession | None:
        if data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return None
        session = GatewaySession(secrets.token_hex(16), data)
        session.conn = conn
        self.sessions[session.id] = session
        self.identifies.append(_redact({"op": IDENTIFY, "d": data})["d"])
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **self.bot_user.payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "flags": 0,
            },
            "guilds": [{"id": str(self.guild.id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": f"{self.url}/gateway",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth_session_id_hash": "",
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await session.dispatch("READY", ready)
        await session.dispatch("GUILD_CREATE", self.guild_payload(full=True, session=session))
        return session

    async def _resume(
        self: FakeDiscord, conn: Connection, data: dict[str, Any]
    ) -> GatewaySession | None:
        session = self.sessions.get(data.get("session_id") or "")
        if session is None or data.get("token") != self.token:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        session.conn = conn
        last = data.get("seq") or 0
        for frame in list(session.history):
            if frame["s"] > last:
                await conn.send(frame)
        await session.dispatch("RESUMED", {})
        self.resumes += 1
        return session

    async def _request_members(
        self: FakeDiscord, session: GatewaySession, data: dict[str, Any]
    ) -> None:
        members = [u for u in self.users.values() if u.in_guild]
        if data.get("user_ids"):
            wanted = {int(x) for x in data["user_ids"]}
            members = [u for u in members if u.id in wanted]
        elif data.get("query"):
            members = [u for u in members if u.name.lower().startswith(str(data["query"]).lower())]
        payload = {
            "guild_id": str(self.guild.id),
            "members": [self.member_payload(u) for u in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            payload["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", payload)

    async def dispatch(self: FakeDiscord, event: str, data: Any, *, intent: int = 0) -> None:
        """Send a gateway event to every session (``data`` may be ``fn(session) -> dict|None``).

        Sessions lacking ``intent`` are skipped, as Discord does.
        """
        for session in list(self.sessions.values()):
            if intent and not session.has(intent):
                continue
            payload = data(session) if callable(data) else data
            if payload is not None:
                await session.dispatch(event, payload)

    async def gateway_reconnect(self: FakeDiscord) -> None:
        """Ask every connected bot to reconnect (op 7); discord.py then RESUMEs."""
        for session in list(self.sessions.values()):
            if session.conn is not None:
                await session.conn.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    def gateway_connected(self: FakeDiscord) -> bool:
        return any(s.connected for s in self.sessions.values())


def _redact(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("d")
    if isinstance(data, dict) and "token" in data:
        frame = {**frame, "d": {**data, "token": "<redacted>"}}
    return frame

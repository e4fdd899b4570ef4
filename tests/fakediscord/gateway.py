"""Gateway (websocket) side of the fake: HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatch.

Frames are sent as JSON text, which discord.py accepts even when it asked for
``compress=zlib-stream`` (only *binary* frames go through its decompressor).
Each session belongs to a shard ``[shard_id, shard_count]`` (``[0, 1]`` when IDENTIFY has
no ``shard``); guild events go to the shard owning the guild, DM events to shard 0.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import deque
from collections.abc import Iterable
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
GUILD_MESSAGE_TYPING = 1 << 11
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_TYPING = 1 << 14
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
        self.resumes = 0
        self.ready = False  # READY and the GUILD_CREATEs were sent

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    @property
    def shard_count(self) -> int:
        return self.shard[1] if self.shard else 1

    def owns(self, guild_id: int | None) -> bool:
        """Whether Discord would send this session events of ``guild_id`` (None: DMs)."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """The ``d`` of the dispatches sent to this session (kept for resume), oldest first."""
        return [f["d"] for f in self.history if name is None or f["t"] == name]

    def __repr__(self) -> str:
        state = "connected" if self.connected else "disconnected"
        return f"<GatewaySession {self.id[:8]} shard={self.shard_id}/{self.shard_count} {state}>"

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
        shard = data.get("shard")
        if shard is not None and not _valid_shard(shard):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return None
        session = GatewaySession(secrets.token_hex(16), data)
        session.conn = conn
        self.sessions[session.id] = session
        self.identifies.append(_redact({"op": IDENTIFY, "d": data})["d"])
        # only the guilds of this shard, as Discord does
        worlds = [w for w in self.worlds.values() if session.owns(w.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **self.bot_user.payload(),
                "verified": True,
                "mfa_enabled": False,
                "email": None,
                "flags": 0,
            },
            "guilds": [{"id": str(w.id), "unavailable": True} for w in worlds],
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
        for world in worlds:
            await session.dispatch(
                "GUILD_CREATE", self.guild_payload(full=True, session=session, guild=world)
            )
        session.ready = True
        self.gateway_log.append(("identify", session))
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
        # events sent to the dead socket after ``seq`` (or while disconnected) come again
        for frame in list(session.history):
            if frame["s"] > last:
                await conn.send(frame)
        await session.dispatch("RESUMED", {})
        self.resumes += 1
        session.resumes += 1
        self.gateway_log.append(("resume", session))
        return session

    async def _request_members(
        self: FakeDiscord, session: GatewaySession, data: dict[str, Any]
    ) -> None:
        try:
            world = self.world(data.get("guild_id"))
        except LookupError:
            return
        members = world.members
        if data.get("user_ids"):
            wanted = {int(x) for x in data["user_ids"]}
            members = [u for u in members if u.id in wanted]
        elif data.get("query"):
            members = [u for u in members if u.name.lower().startswith(str(data["query"]).lower())]
        payload = {
            "guild_id": str(world.id),
            "members": [self.member_payload(u, guild=world) for u in members],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            payload["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", payload)

    async def dispatch(
        self: FakeDiscord,
        event: str,
        data: Any,
        *,
        intent: int = 0,
        guild_id: int | str | None = None,
    ) -> None:
        """Send a gateway event (``data`` may be ``fn(session) -> dict|None``) to the sessions
        that would get it on Discord.

        Sessions lacking ``intent`` are skipped. The event goes only to the shard owning its
        guild: ``guild_id`` if given, else the payload's ``guild_id``; events without a guild
        (DMs) go to shard 0.
        """
        for session in list(self.sessions.values()):
            if intent and not session.has(intent):
                continue
            payload = data(session) if callable(data) else data
            if payload is None:
                continue
            gid = guild_id if guild_id is not None else payload.get("guild_id")
            if session.owns(None if gid is None else int(gid)):
                await session.dispatch(event, payload)

    def sessions_on(
        self: FakeDiscord, shard: int | None = None, *, connected: bool = True
    ) -> list[GatewaySession]:
        """Live sessions (of ``shard`` if given), in the order they were identified."""
        return [
            s
            for s in self.sessions.values()
            if s.ready and (shard is None or s.shard_id == shard) and (s.connected or not connected)
        ]

    def _targets(
        self: FakeDiscord, shard: int | None, session: GatewaySession | str | None
    ) -> list[GatewaySession]:
        if session is not None:
            sid = session.id if isinstance(session, GatewaySession) else session
            found = [s for s in self.sessions.values() if s.id == sid and s.connected]
        else:
            found = self.sessions_on(shard)
        if not found and (shard is not None or session is not None):
            raise LookupError(
                f"no connected gateway session for shard={shard} session={session}; "
                f"sessions: {list(self.sessions.values())}"
            )
        return found

    async def gateway_reconnect(
        self: FakeDiscord,
        *,
        shard: int | None = None,
        session: GatewaySession | str | None = None,
        wait: bool = False,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[GatewaySession]:
        """Send op 7 RECONNECT (to every session, one shard's, or one ``session``).

        discord.py closes the socket and RESUMEs; the fake replays what it missed. With
        ``wait=True`` this returns once each targeted session has resumed.
        """
        return await self._send_op(RECONNECT, None, shard, session, wait, timeout)

    async def invalidate_session(
        self: FakeDiscord,
        *,
        resumable: bool = False,
        shard: int | None = None,
        session: GatewaySession | str | None = None,
        wait: bool = False,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[GatewaySession]:
        """Send op 9 INVALID_SESSION with ``d: resumable``.

        ``resumable=True``: discord.py reconnects and RESUMEs (nothing is lost).
        ``resumable=False``: the fake forgets the session at once (events until the new
        IDENTIFY are lost, as on Discord); discord.py closes with 1000 and IDENTIFYs again,
        but only after its ``before_identify_hook``, which sleeps 5 s unless overridden.
        With ``wait=True`` this returns once each targeted shard has resumed/re-identified.
        """
        return await self._send_op(INVALID_SESSION, resumable, shard, session, wait, timeout)

    async def _send_op(
        self: FakeDiscord,
        op: int,
        d: Any,
        shard: int | None,
        session: GatewaySession | str | None,
        wait: bool,
        timeout: float,  # noqa: ASYNC109
    ) -> list[GatewaySession]:
        targets = self._targets(shard, session)
        start = len(self.gateway_log)
        for target in targets:
            conn = target.conn
            if op == INVALID_SESSION and not d:
                # not resumable: stop buffering for it, and refuse a RESUME of it
                self.sessions.pop(target.id, None)
            if conn is not None:
                await conn.send({"op": op, "d": d, "s": None, "t": None})
        if wait:
            renewed = op == INVALID_SESSION and not d
            await self._wait_gateway_log(targets, start, renewed=renewed, timeout=timeout)
        return targets

    async def _wait_gateway_log(
        self: FakeDiscord,
        targets: Iterable[GatewaySession],
        start: int,
        *,
        renewed: bool,
        timeout: float,  # noqa: ASYNC109
    ) -> None:
        def done(target: GatewaySession) -> bool:
            for kind, s in self.gateway_log[start:]:
                if renewed and kind == "identify" and s.shard == target.shard:
                    return True
                if not renewed and s is target:
                    return True
            return False

        pending = list(targets)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := [t for t in pending if not done(t)]:
            if loop.time() > deadline:
                raise TimeoutError(f"gateway sessions did not come back in {timeout}s: {pending}")
            await asyncio.sleep(0.01)

    async def wait_for_sessions(
        self: FakeDiscord,
        count: int = 1,
        *,
        shard: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[GatewaySession]:
        """Wait until ``count`` sessions (of ``shard`` if given) are connected and identified.

        The bot got READY and its GUILD_CREATEs then, but may still be in its
        ``guild_ready_timeout`` before ``on_ready`` fires.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found := self.sessions_on(shard)) < count:
            if loop.time() > deadline:
                raise TimeoutError(
                    f"{len(found)}/{count} gateway sessions (shard={shard}) after {timeout}s; "
                    f"identifies: {[i.get('shard') for i in self.identifies]}"
                )
            await asyncio.sleep(0.01)
        return found

    def gateway_connected(self: FakeDiscord) -> bool:
        return any(s.connected for s in self.sessions.values())


def _valid_shard(shard: Any) -> bool:
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(x, int) for x in shard)
        and 0 <= shard[0] < shard[1]
    )


def _redact(frame: dict[str, Any]) -> dict[str, Any]:
    data = frame.get("d")
    if isinstance(data, dict) and "token" in data:
        frame = {**frame, "d": {**data, "token": "<redacted>"}}
    return frame

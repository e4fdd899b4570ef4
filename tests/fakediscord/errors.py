"""Discord-style API errors raised by the fake's route handlers."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """Raised by route handlers; becomes a Discord-style JSON error response.

    ``body`` replaces the usual ``{"message", "code"}`` body (a str is sent as HTML, as a
    Cloudflare error page would be); ``headers`` are added to the response.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors
        self._body = body
        self.headers = dict(headers or {})

    def body(self) -> Any:
        if self._body is not None:
            return self._body
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def form_error(path: str, code: str, message: str) -> ApiError:
    """A 400 "Invalid Form Body" error for the dotted field ``path`` (as Discord nests them)."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


class WaitTimeout(AssertionError):
    """``wait_for`` did not see a matching call in time."""


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    if isinstance(data, str):
        return web.Response(
            status=status, text=data, content_type="text/html", headers=headers or None
        )
    # exactly "application/json": discord.py only decodes JSON for that exact content type
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def rate_limited(retry_after: float, scope: str, bucket: str, *, cloudflare: bool) -> ApiError:
    """A 429 shaped like Discord's (docs: topics/rate-limits), headers computed now."""
    if cloudflare:
        # an IP ban answers with an HTML page and no ``Via``; discord.py does not retry it
        page = "<html><body>error code: 1015 You are being rate limited.</body></html>"
        return ApiError(429, 0, "cloudflare", body=page)
    headers = {
        "Retry-After": str(math.ceil(retry_after)),
        # discord.py only treats a 429 as Discord's (not Cloudflare's) if ``Via`` is present
        "Via": "1.1 google",
        "X-RateLimit-Scope": scope,
    }
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    else:
        headers.update(
            {
                "X-RateLimit-Limit": "5",
                # a shared (per-resource) limit can hit while the bot's own bucket has room
                "X-RateLimit-Remaining": "4" if scope == "shared" else "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
            }
        )
    message = (
        "The resource is being rate limited."
        if scope == "shared"
        else "You are being rate limited."
    )
    body = {"message": message, "retry_after": retry_after, "global": scope == "global"}
    return ApiError(429, 0, message, body=body, headers=headers)

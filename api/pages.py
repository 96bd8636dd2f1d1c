"""The pages Promessa serves to people: the guest order-status page and its static files.

The page is plain HTML, CSS and JavaScript from `api/static/` (no build step, nothing loaded
from elsewhere, no inline code, so a strict Content-Security-Policy applies to it). It talks to
the public API only: `trackOrder` over POST /graphql and `orderEvents` over the WebSocket.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
# The page needs nothing but its own origin: its script, its style sheet, POST /graphql and
# the WebSocket at /graphql ('self' covers ws:/wss: to the same host).
TRACK_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
             "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


async def track(_: Request) -> FileResponse:
    """The order-status page; the order comes in the URL fragment, never to the server."""
    return FileResponse(STATIC / "track.html", media_type="text/html; charset=utf-8",
                        headers={"cache-control": "no-cache", "referrer-policy": "no-referrer",
                                 "content-security-policy": TRACK_CSP})


def routes() -> list[BaseRoute]:
    return [Route("/track", track, methods=["GET", "HEAD"]),
            Mount("/static", _Static(directory=STATIC), name="static")]


class _Static(StaticFiles):
    """The page's files, under the page's own policy (also track.html fetched directly)."""

    async def get_response(self, path: str, scope):  # noqa: ANN201 - Starlette's signature
        response = await super().get_response(path, scope)
        response.headers.setdefault("content-security-policy", TRACK_CSP)
        return response

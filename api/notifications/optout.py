"""Turning off non-essential updates from a link in a mail.

GET shows what the link does and a button; POST does it (a mail scanner that follows links
must not opt anyone out). POST also serves RFC 8058 one-click unsubscribes
(`List-Unsubscribe-Post: List-Unsubscribe=One-Click`). The token is an HMAC over the address
(domain/notifications.optout_token): it can only turn updates off, for that address only.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from domain.notifications import optout_email, optout_key

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>{title}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;max-width:36em;margin:3em auto;padding:0 1em">
<h1 style="font-size:1.4em">{title}</h1><p>{text}</p>{form}</body></html>"""


def _page(title: str, text: str, form: str = "", status: int = 200) -> Response:
    return HTMLResponse(PAGE.format(title=title, text=text, form=form), status_code=status,
                        headers={"Cache-Control": "no-store"})


async def optout(request: Request) -> Response:
    """GET/POST /notifications/optout?token=…"""
    deps = request.app.state.deps
    settings = request.app.state.settings
    token = request.query_params.get("token", "")
    email = optout_email(optout_key(settings.jwt_secret), token) if len(token) < 1000 else None
    if email is None or deps.notifications is None:
        return _page("Link not valid", "This link is not valid. Use the link in your most "
                     "recent mail.", status=404)
    shown = html.escape(email)
    if request.method == "GET":
        form = (f'<form method="post" action="?token={html.escape(token)}">'
                '<button type="submit" style="padding:.6em 1.2em">Turn off these updates'
                "</button></form>")
        return _page("Fewer mails", f"Stop sending <strong>{shown}</strong> non-essential "
                     "updates (out for delivery, delivered)? Order, shipping, cancellation "
                     "and refund mails still arrive.", form)
    await deps.notifications.opt_out(email, at=deps.clock.now())
    return _page("Done", f"<strong>{shown}</strong> no longer gets non-essential updates.")

"""What the notification tests share: the app with SMTP pointed at a test server, and the
notifications consumer driven round by round (as `serve` or `worker` would run it)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse, print_ast

from api.app import create_app
from api.bootstrap import open_notifications
from api.integration.runner import Runner
from persistence.consumers import SqlConsumers
from tests.conftest import ROOT, Api, make_settings
from tests.payments.support import drain

__all__ = ["drain"]

HERE = ROOT / "tests" / "contract_notifications"
DOCUMENTS = {d.name.value: print_ast(d) for d in parse(
    (HERE / "notifications.graphql").read_text()).definitions
    if isinstance(d, OperationDefinitionNode) and d.name}
EXAMPLES = json.loads((HERE / "examples.json").read_text())
PUBLIC = "http://test"


@asynccontextmanager
async def mail_app(db_url: str, clock: Any, port: int | None) -> AsyncIterator[Api]:
    """The app; its mails go to the SMTP server on `port` (None: recorded, not sent)."""
    settings = make_settings(db_url, smtp_url=f"smtp://127.0.0.1:{port}" if port else None,
                             public_url=PUBLIC, mail_from="Negozio <ordini@negozio.example>")
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=PUBLIC) as client:
            yield Api(client, app)


def mailer(api: Api, *, retries: int = 2) -> Runner:
    """The notifications consumer of this app, with waits of 0 s between attempts."""
    from domain.integration import Backoff

    state = api.app.state
    handler = open_notifications(state.settings, state.db, state.deps, clock=state.deps.clock)
    handler.backoff = Backoff((0.0,) * retries, 0)
    return Runner(SqlConsumers(state.db), handler, clock=state.deps.clock, owner="test")


async def run(api: Api, name: str, variables: dict[str, Any], token: str | None
              ) -> dict[str, Any] | None:
    """One notifications document of the contract, unchanged; its first root field."""
    data = await api.data(DOCUMENTS[name], variables, token=token, operation=name)
    return next(iter(data.values()))

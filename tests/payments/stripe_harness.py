"""A test's side of the Stripe emulator (tests/payments/stripe_emulator.py): the emulator in
its own process, and a handle that sets up PaymentIntents as a shop's checkout would and
reads the emulator's state and calls."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.payments.stripe_emulator import API_KEY, encode_form
from tests.processes import ROOT, free_port

__all__ = ["API_KEY", "Control", "emulator_process"]


@dataclass
class Control:
    """A test's handle on a running emulator: sets up PaymentIntents over the API, as a shop's
    checkout would, and reads the state and the calls through `/_emulator/`."""

    http: httpx.AsyncClient  # with base_url the emulator's
    api_key: str = API_KEY

    async def v1(self, path: str, params: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, content=urlencode(encode_form(params)), headers={
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/x-www-form-urlencoded"})

    async def create_intent(self, amount: int, currency: str = "eur", *,
                            method: str = "pm_card_visa", multicapture: bool = True,
                            extended: bool = False) -> httpx.Response:
        card = {"request_multicapture": "if_available" if multicapture else None,
                "request_extended_authorization": "if_available" if extended else None}
        return await self.v1("/v1/payment_intents", {
            "amount": amount, "currency": currency, "capture_method": "manual",
            "confirm": True, "payment_method": method,
            "payment_method_options": {"card": card}})

    async def control(self, what: str, args: dict[str, Any] | None = None) -> Any:
        answer = await (self.http.get(f"/_emulator/{what}") if args is None
                        else self.http.post(f"/_emulator/{what}", json=args))
        answer.raise_for_status()
        return answer.json()

    async def intent(self, id_: str, **patch: Any) -> dict[str, Any]:
        """The PaymentIntent with its charge expanded and its `refunds`."""
        state: dict[str, Any] = await self.control(f"payment_intents/{id_}", patch or None)
        return state

    async def calls(self, path: str = "") -> list[dict[str, Any]]:
        """The recorded /v1 calls whose path contains `path`."""
        return [c for c in await self.control("calls") if path in c["path"]]


@contextmanager
def emulator_process(api_key: str = API_KEY, *, startup: float = 30) -> Iterator[str]:
    """The emulator in its own process on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="stripe-emulator-", suffix=".log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.payments.stripe_emulator", "--port", str(port),
             "--api-key", api_key], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + startup
            while not Path(log.name).read_text().startswith("ready"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"no Stripe emulator:\n{Path(log.name).read_text()}")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

"""How many fuzz cases a run sent: each fuzz test records its count here, and `.ci/run` adds
them up (PROMESSA_FUZZ_LOG names the file; without it nothing is written). One line per test
and engine: `<transport>\t<cases>`; pytest-xdist workers append to the same file."""

from __future__ import annotations

import os


def record(transport: str, cases: int) -> None:
    path = os.environ.get("PROMESSA_FUZZ_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{transport}\t{cases}\n")

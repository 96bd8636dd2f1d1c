"""schema.graphql is exactly what the code exports."""

from __future__ import annotations

import subprocess
import sys

from api.schema.root import export_sdl
from tests.conftest import ROOT


def test_schema_file_equals_the_exported_schema():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == export_sdl(), (
        "schema.graphql is stale: run `promessa export-schema > schema.graphql` and review")


def test_cli_export_prints_the_same_schema():
    out = subprocess.run([sys.executable, "-m", "api.cli", "export-schema"], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout == export_sdl()

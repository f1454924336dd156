"""The code stays clean: ruff (lint and format) on everything, mypy strict on service/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_check_and_format() -> None:
    lint = run(str(BIN / "ruff"), "check", "service", "tests", "benchmarks")
    assert lint.returncode == 0, lint.stdout
    formatting = run(str(BIN / "ruff"), "format", "--check", "service", "tests", "benchmarks")
    assert formatting.returncode == 0, formatting.stdout


def test_mypy_strict() -> None:
    result = run(str(BIN / "mypy"))
    assert result.returncode == 0, result.stdout

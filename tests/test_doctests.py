"""The examples in the service's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest
from support.paths import ROOT

SERVICE = ROOT / "service"
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in SERVICE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8") and "migrations" not in path.parts
)


def test_some_modules_have_examples() -> None:
    assert "service.nlu.cues" in MODULES and len(MODULES) >= 10


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # examples read intents/ relative to the checkout
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"

"""Diagnostics tests run against the loopback lab (see support/lab.py)."""

from __future__ import annotations

import pytest
from support.fixtures import lab, lab_trust  # noqa: F401
from support.lab import Lab

from service.diagnostics import Diagnostician


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything that uses the lab needs nsd and unbound: mark it ``dns``."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dns)


@pytest.fixture
def diagnostician(lab: Lab, lab_trust: object) -> Diagnostician:  # noqa: F811
    """A fresh Diagnostician aimed at the lab: 1.5 s budget, 127.0.0.0/8 allowed."""
    return Diagnostician(lab.config())

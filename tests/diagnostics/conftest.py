"""Diagnostics tests run against the loopback lab (see support/lab.py)."""

from __future__ import annotations

import pytest
from support.lab import Lab

from service.diagnostics import Diagnostician


@pytest.fixture
def diagnostician(lab: Lab, lab_trust: object) -> Diagnostician:
    """A fresh Diagnostician aimed at the lab: 1.5 s budget, 127.0.0.0/8 allowed."""
    return Diagnostician(lab.config())

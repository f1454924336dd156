"""Pytest fixtures for the loopback lab. Import them into a conftest.py::

    from support.fixtures import lab, lab_trust  # noqa: F401

(or list ``"support.fixtures"`` in the root conftest's ``pytest_plugins``, so every
directory shares one lab per session).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .lab import Lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """nsd x2, unbound, aiosmtpd and silent listeners on 127.0.0.0/8, once per session."""
    with Lab.running(tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture
def lab_trust(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Trust the lab's test CA (``SSL_CERT_FILE``) for TLS contexts made in this test."""
    monkeypatch.setenv("SSL_CERT_FILE", str(lab.ca.bundle))
    return lab.ca.bundle

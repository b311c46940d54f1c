"""Fixtures shared by the core tests."""

from __future__ import annotations

import pytest

from tests.core.payment_helpers import FakeGateway


@pytest.fixture
def gateway() -> FakeGateway:
    """A payment provider that answers like YooKassa, in memory (an external service)."""
    return FakeGateway()

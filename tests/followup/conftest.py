"""The analysts' seeded store (tests/analysts/conftest.py), with a feedback secret for links."""

from __future__ import annotations

import pytest

from storage.db import Store
from tests.analysts.conftest import Seeded, analyst_settings, seed_store

LINK_KEY = "k" * 40


@pytest.fixture
def seeded(store: Store) -> Seeded:
    settings = analyst_settings()
    settings.feedback.secret_key = type(settings.api.read_tokens[0])(LINK_KEY)
    return seed_store(store, settings)

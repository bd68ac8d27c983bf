"""Scheduler and cycle fixtures: the digest tests' SMTP server, settings and seeding."""

from __future__ import annotations

from tests.digest.conftest import seed, settings, smtp_server  # noqa: F401 - shared fixtures

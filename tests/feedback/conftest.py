"""Feedback fixtures: settings with a signing key, a live SMTP server, a live uvicorn serving the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from reviewwatch.api import create_app
from reviewwatch.config import Settings
from reviewwatch.sync import sync_settings
from storage.db import Store
from tests.digest.smtpserver import SmtpServer, free_port
from tests.live_server import serve_in_thread

BUSINESS = "cafe-test"
OWNER = "owner@cafe.example"
KEY = "k" * 16 + "0123456789abcdef"
CSV = (
    "email,name,language,visited_on,reference\n"
    "ann@example.com,Ann,en,2026-11-01,R-1\n"
    "bo@example.com,Bo,sv,,\n"
    "ANN@Example.com,Ann again,en,,\n"
)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api_port() -> int:
    return free_port()


def make_settings(tmp_path: Path, smtp_port: int, api_port: int, **feedback: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        smtp={"host": "127.0.0.1", "port": smtp_port, "security": "none", "timeout_s": 5},
        feedback={"public_url": f"http://127.0.0.1:{api_port}", "secret_key": KEY, **feedback},
        businesses=[{"id": BUSINESS, "name": "Café <b>Test</b> & Co", "owners": [OWNER]}],
    )


@pytest.fixture
def settings(tmp_path: Path, smtp_server: SmtpServer, api_port: int) -> Settings:
    return make_settings(tmp_path, smtp_server.port, api_port,
                         public_review_url="https://reviews.example/cafe-test")


@pytest.fixture
def synced(store: Store, settings: Settings) -> Store:
    with store.transaction() as session:
        sync_settings(session, settings)
    return store


@pytest.fixture
def live_url(synced: Store, settings: Settings, api_port: int) -> Iterator[str]:
    with serve_in_thread(create_app(settings, synced), api_port) as url:
        yield url


LINK = re.compile(r"https?://[^\s\"'<>]+/f/[A-Za-z0-9._-]+")


def feedback_links(message: EmailMessage) -> set[str]:
    """The distinct feedback links in every text part of a message."""
    found: set[str] = set()
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found |= set(LINK.findall(part.get_content()))
    return found


def form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no field {name}"
    return match.group(1)

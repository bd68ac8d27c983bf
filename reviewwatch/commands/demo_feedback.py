"""The demo's feedback step: each demo business asks the bundled customers (dry run); two of the
first business's customers answer as customers would.

The feedback page runs in a real uvicorn on a free port of 127.0.0.1; the two answers are
posted to it over HTTP from the links in the written .eml files, like a customer's browser
would. Without REVIEWWATCH_FEEDBACK__SECRET_KEY the demo signs its links with a key of its own,
made for this run only.
"""

from __future__ import annotations

import email
import email.policy
import re
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
from pydantic import SecretStr

from reviewwatch.config import Settings
from reviewwatch.digest.send import OutboxTransport
from reviewwatch.feedback.customers import read_customers
from reviewwatch.feedback.invite import AskRun, ask_customers
from storage.db import Store

# (score, comment) of the two customers who answer: one unhappy, one happy.
ANSWERS = ((2, "Vi väntade 40 minuter på maten och ingen sa något."),
           (9, "Très bon accueil, nous reviendrons."))
_LINK = re.compile(r"https?://\S+?/f/[A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class DemoFeedback:
    runs: list[AskRun]
    answered: list[tuple[str, int]]  # (the .eml answered, its score), of the first business


def with_demo_key(settings: Settings, port: int) -> Settings:
    key = settings.feedback.secret_key or SecretStr(secrets.token_urlsafe(32))
    feedback = settings.feedback.model_copy(
        update={"secret_key": key, "public_url": f"http://127.0.0.1:{port}"})
    return settings.model_copy(update={"feedback": feedback})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def feedback_server(settings: Settings, store: Store, port: int) -> Iterator[str]:
    from reviewwatch.api import create_app
    from reviewwatch.api.in_thread import serve_in_thread

    with serve_in_thread(create_app(settings, store), port, "the feedback page's server") as url:
        yield url


def ask_and_answer(
    store: Store, settings: Settings, slugs: list[str], customers: Path, outbox: Path
) -> DemoFeedback:
    """`settings` carries the demo's key and public_url (`with_demo_key`)."""
    port = int(settings.feedback.public_url.rsplit(":", 1)[1])
    listed = read_customers(customers)
    with feedback_server(settings, store, port):
        runs, written = [], []
        for slug in slugs:
            writer = OutboxTransport(outbox, prefix=f"feedback-{slug}")
            runs.append(ask_customers(store, settings, slug, listed, writer))
            written.append(writer.written)
        answered = []
        with httpx.Client(timeout=10) as client:
            for path, (score, comment) in zip(written[0] if written else [], ANSWERS, strict=False):
                answer(client, _link(path), score, comment)
                answered.append((path.name, score))
    return DemoFeedback(runs, answered)


def answer(client: httpx.Client, link: str, score: int, comment: str) -> None:
    """What a customer's browser does: GET the page, POST its form with the csrf_token."""
    form = client.get(link)
    form.raise_for_status()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if csrf is None:
        raise RuntimeError(f"no feedback form at {link}")
    posted = client.post(link, data={"score": str(score), "comment": comment,
                                     "csrf_token": csrf.group(1)})
    posted.raise_for_status()


def _link(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    if match is None:
        raise RuntimeError(f"{path}: no feedback link")
    return match.group(0)

"""The API app under a real uvicorn in a thread, on a free port, as `reviewwatch serve` runs it:
what the browser tests drive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI

from reviewwatch.api import in_thread
from tests.digest.smtpserver import free_port


@contextmanager
def serve_in_thread(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve `app` until the block ends (on a free port unless given); yields its base URL once
    uvicorn has started."""
    with in_thread.serve_in_thread(app, port or free_port()) as url:
        yield url

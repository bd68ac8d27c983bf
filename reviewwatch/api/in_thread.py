"""The API app under a real uvicorn in a thread of this process, on 127.0.0.1: what the demo's
feedback page and the browser tests need, where `reviewwatch serve` would be a process too many."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI


@contextmanager
def serve_in_thread(app: FastAPI, port: int, what: str = "the server") -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL once uvicorn has started."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{what} did not start on port {port}")
        time.sleep(0.02)  # polling the start flag, with a deadline
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

"""`reviewwatch serve --workers N`: N worker processes built by the app factory from the same
configuration file and environment, answering on one port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.conftest import REPO

CONFIG = """
[[businesses]]
id = "cafe-w"
name = "Café Workers"
[[businesses.sources]]
type = "feed"
url = "https://cafe-w.example/feed"
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_two_workers_reads_one_configuration(tmp_path: Path) -> None:
    config = tmp_path / "rw.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\ndatabase_pool_size = 2\n' + CONFIG,
                      encoding="utf-8")
    port = _free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("REVIEWWATCH_")},
           "REVIEWWATCH_API__READ_TOKENS": json.dumps(["ana:serve-secret"]),
           "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "reviewwatch", "--config", str(config), "serve", "--port",
         str(port), "--workers", "2"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    token = {"Authorization": "Bearer serve-secret"}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "serve did not answer"
            try:
                if httpx.get(f"{base}/api/v1/me", headers=token, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)  # polling the server's start, with a deadline
        workers = [p for p in psutil.Process(server.pid).children(recursive=True)
                   if "multiprocessing.resource_tracker" not in " ".join(p.cmdline())]
        assert len(workers) == 2, [p.cmdline() for p in workers]
        for _ in range(6):  # whichever worker answers knows the file's business and token
            response = httpx.get(f"{base}/api/v1/businesses", headers=token, timeout=10)
            assert response.json() == [{"id": "cafe-w", "name": "Café Workers"}]
        assert httpx.get(f"{base}/api/docs", timeout=10).status_code == 200
        assert httpx.get(f"{base}/api/v1/businesses", timeout=10).status_code == 401
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert not (tmp_path / "data" / "reviewwatch.db").is_dir()
    assert (tmp_path / "data" / "reviewwatch.db").is_file()

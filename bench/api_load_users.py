"""The simulated analysts of bench/api_load.py (a locustfile; run by locust in its own process).

Each user does what the dashboard does, with 0.5-1.5 s of thinking between requests: list a
business's newest mentions, filter them (sentiment and a 90-day period), read aggregates
(sentiment per week, topics), the claims chart, the gap report and one mention. Every answer's
status code is counted and written as JSON to $API_LOAD_STATUS when locust quits.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections import Counter

from locust import FastHttpUser, between, events, task

BUSINESSES = int(os.environ.get("API_LOAD_BUSINESSES", "200"))
ROWS = int(os.environ.get("API_LOAD_ROWS", "1000000"))
END = dt.date.fromisoformat(os.environ.get("API_LOAD_END", "2026-11-20"))
SPAN_DAYS = 730
TOKEN = os.environ.get("API_LOAD_TOKEN", "bench-token")
STATUS: Counter[str] = Counter()


@events.request.add_listener
def _count(response=None, exception=None, **_: object) -> None:
    code = getattr(response, "status_code", None)
    STATUS[str(code) if code else f"error:{type(exception).__name__}"] += 1


@events.quitting.add_listener
def _write(**_: object) -> None:
    path = os.environ.get("API_LOAD_STATUS")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(STATUS), handle)


def _business() -> str:
    return f"biz-{random.randrange(BUSINESSES):03d}"


def _period() -> dict[str, str]:
    since = END - dt.timedelta(days=random.randrange(90, SPAN_DAYS))
    return {"since": since.isoformat(), "until": (since + dt.timedelta(days=89)).isoformat()}


class Analyst(FastHttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    def _get(self, path: str, name: str, **params: object) -> None:
        with self.client.get(path, params=params, headers=self.headers, name=name,
                             catch_response=True) as response:
            if response.status_code >= 400:
                response.failure(f"{response.status_code}")
            else:
                response.success()

    @task(4)
    def list_newest(self) -> None:
        self._get("/api/v1/mentions", "list", business=_business(), limit=20)

    @task(3)
    def filter_period(self) -> None:
        self._get("/api/v1/mentions", "filter", business=_business(), sentiment="negative",
                  limit=20, **_period())

    @task(2)
    def sentiment_weekly(self) -> None:
        since = (END - dt.timedelta(days=365)).isoformat()
        self._get("/api/v1/aggregates/sentiment", "aggregate sentiment", business=_business(),
                  bucket="week", since=since)

    @task(1)
    def topics(self) -> None:
        self._get("/api/v1/aggregates/topics", "aggregate topics", business=_business(),
                  **_period())

    @task(2)
    def claims(self) -> None:
        self._get("/api/v1/claims/perceived", "claims", business=_business())

    @task(2)
    def gap(self) -> None:
        self._get(f"/api/v1/gap/{_business()}", "gap")

    @task(2)
    def one_mention(self) -> None:
        self._get(f"/api/v1/mentions/{random.randrange(1, ROWS + 1)}", "single mention")

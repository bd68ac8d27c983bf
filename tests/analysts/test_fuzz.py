"""The whole API fuzzed from its own OpenAPI schema (schemathesis), on each backend.

Every operation gets generated inputs, valid (positive) and invalid (negative), with a write
token: no answer may be a 5xx, and every answer must match the schema (status code, content
type, body). The examples per operation and mode are bounded
(FUZZ_EXAMPLES, default 25) so that the suite stays fast; the requests sent are counted and
written to test-artifacts/fuzz-requests.json. The inputs are the same on every run unless
FUZZ_RANDOM=1 (then new ones each run: what to run after changing the API).

Not checked: that every schema-invalid query is refused (schemathesis' negative_data_rejection).
A query string carries only text: the "invalid" boolean `search=false` is the valid search for
the word "false", `language=true` a string; the checker flagged such requests at random, one CI
run in a few. What the schema can enforce on text is enforced (a day is YYYY-MM-DD, a language
looks like a code) and tested in test_api_robustness.py; invalid inputs must still never give a
5xx or an answer outside the schema.
Not checked: that every schema-valid request is accepted (schemathesis' positive_data_acceptance).
The API refuses, with 422 and a sentence, a business or topic that does not exist, control
characters and an empty correction; the schema cannot list the businesses and topics, as it is
served without a token and would tell them to anyone.

schemathesis' own pytest loader reads a node attribute pytest 9 removed, so the strategies are
driven with Hypothesis' `@given` directly, as schemathesis documents for `as_strategy`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from reviewwatch.api import create_app
from storage.db import Store
from tests.analysts.conftest import Seeded, analyst_settings
from tests.conftest import REPO

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# The same inputs on every run (Hypothesis' derandomize), so a build does not pass or fail by
# chance; FUZZ_RANDOM=1 explores new inputs (run it when changing the API, fix what it finds).
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
SENT: Counter[str] = Counter()
TOKEN = {"Authorization": "Bearer write-secret"}


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation (listed from an app over an empty store)."""
    store = Store("sqlite://", migrate=False)
    try:
        spec = create_app(analyst_settings(), store).openapi()
    finally:
        store.dispose()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


@pytest.fixture(scope="module", autouse=True)
def _count_requests() -> Iterator[None]:
    yield
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "fuzz-requests.json").write_text(
        json.dumps({"total": sum(SENT.values()), "per_operation": dict(SENT)}, indent=1) + "\n"
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), _operations())
def test_no_input_gives_a_server_error_and_every_answer_matches_the_schema(
    seeded: Seeded, method: str, path: str, mode: GenerationMode
) -> None:
    app = create_app(seeded.settings, seeded.store)
    operation = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)[path][method]
    sent = []

    @given(case=operation.as_strategy(generation_mode=mode))
    # No shrinking: a failure is reported as found, so a failing run stays as short as a passing one.
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def fuzz(case) -> None:
        sent.append(1)
        case.call_and_validate(headers=TOKEN,
                               excluded_checks=[positive_data_acceptance, negative_data_rejection])

    try:
        fuzz()
    finally:
        SENT[f"{method} {path} {mode.value}"] += len(sent)
    assert sent, "no request was generated"

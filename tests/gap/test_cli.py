"""`reviewwatch claims import/list` and `reviewwatch gap` end to end on a real store."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from reviewwatch.cli import cli
from reviewwatch.config import load_settings
from reviewwatch.gap.report import json_schema
from storage.db import Store
from storage.models import Claim, Correction, Mention, utcnow
from tests.gap import seed
from tests.gap.schema_check import errors

HOSTILE = "<script>alert('x')</script>"
CONFIG = """
database_url = "{url}"
[gap]
min_mentions = 5
[[businesses]]
id = "cafe"
name = "Café {hostile}"
  [[businesses.sources]]
  type = "schema_org"
  url = "http://127.0.0.1:1/reviews/"
  [[businesses.sources]]
  type = "trustpilot"
  url = "http://127.0.0.1:1/tp/"
  [[businesses.claims]]
  positive_share = 0.9
  stated_at = 2026-01-15
  [[businesses.claims]]
  topic = "service"
  average_rating = 4.5
  stated_at = 2026-01-15
  [[businesses.claims]]
  positive_share = 0.6
  predicted_for = "{month}"
  stated_at = 2026-01-15
"""


@pytest.fixture
def configured(database_url: str, write_config: Callable[..., Path]) -> Path:
    month = utcnow().strftime("%Y-%m")
    return write_config(CONFIG.format(url=database_url, hostile=HOSTILE, month=month))


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def survey_claims(database_url: str) -> list[Claim]:
    store = Store(database_url)
    try:
        with store.session() as s:
            return list(
                s.scalars(select(Claim).where(Claim.origin == "survey").order_by(Claim.claim_key))
            )
    finally:
        store.dispose()


def test_survey_import_maps_csat_and_nps_and_reimport_does_not_duplicate(
    configured: Path, database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "survey.csv"
    csv.write_text(
        "period_start,period_end,metric,value,topic,responses\n"
        "2026-01-01,2026-03-31,csat,85,,312\n"
        "2026-01-01,2026-03-31,nps,40,service,\n"
        "\n"
        "2026-04-01,2026-04-30,positive_share,0.7,,\n",
        encoding="utf-8",
    )
    first = run(configured, "claims", "import", str(csv), "--business", "cafe")
    assert first.exit_code == 0, first.output
    assert "3 survey claims" in first.output and "(3 new, 0 updated)" in first.output
    again = run(configured, "claims", "import", str(csv), "--business", "cafe")
    assert "(0 new, 3 updated)" in again.output
    claims = survey_claims(database_url)
    assert [(c.claim_key, round(c.value, 4), c.topic, c.period) for c in claims] == [
        ("survey:csat:*:2026-01-01..2026-03-31", 0.85, None, "2026-01-01..2026-03-31"),
        ("survey:nps:service:2026-01-01..2026-03-31", 0.7, "service", "2026-01-01..2026-03-31"),
        ("survey:positive_share:*:2026-04-01..2026-04-30", 0.7, None, "2026-04-01..2026-04-30"),
    ]
    assert "312 responses" in (claims[0].evidence_text or "")
    listed = run(configured, "claims", "list", "--business", "cafe")
    origins = re.findall(r"│ cafe\s+│ (\w+)", listed.output)
    assert origins.count("survey") == 3 and origins.count("declared") == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,csat,80\n"
            "2026-02-01,2026-02-28,happiness,3\n",
            "line 3: metric 'happiness' is not one of",
        ),
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,nps,140\n",
            "line 2: nps value 140 is outside -100..100",
        ),
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,csat,80\n"
            "2026-13-01,2026-01-31,csat,80\n",
            "line 3: period_start and period_end must be dates",
        ),
        (
            "period_start,period_end,metric,value\n2026-02-01,2026-01-31,csat,80\n",
            "line 2: period_end 2026-01-31 is before period_start",
        ),
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,csat,eighty\n",
            "line 2: value 'eighty' is not a number",
        ),
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,csat,80\n"
            "2026-01-01,2026-01-31,csat,81\n",
            "line 3: same period, metric and topic as line 2",
        ),
        (
            "period_start,period_end,metric,value\n2026-01-01,2026-01-31,csat,80,extra\n",
            "line 2: more values than columns",
        ),
        ("period_start,metric,value\n2026-01-01,csat,80\n", "line 1: missing column(s) period_end"),
        (
            "period_start,period_end,metric,value,topic\n2026-01-01,2026-01-31,csat,80,<b>x</b>\n",
            "line 2: topic '<b>x</b>' must be a topic name",
        ),
    ],
)
def test_a_bad_survey_names_the_line_and_imports_nothing(
    configured: Path, database_url: str, tmp_path: Path, body: str, message: str
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(body, encoding="utf-8")
    result = run(configured, "claims", "import", str(csv), "--business", "cafe")
    assert result.exit_code == 2
    assert message in result.output
    assert survey_claims(database_url) == []


def _seed(config: Path, database_url: str) -> None:
    settings = load_settings(config)
    store = Store(database_url)
    recent = utcnow() - dt.timedelta(days=3)
    try:
        with store.transaction() as s:
            business, sources = seed.setup(s, settings)
            seed.many(
                s,
                business,
                sources["schema_org"],
                {"positive": 6, "negative": 2},
                topics=["service"],
                stars=4.0,
                at=recent,
            )
            seed.add(
                s,
                business,
                sources["trustpilot"],
                "neutral",
                rating=7,
                scale=10,
                at=recent,
                language="sv",
                topics=["service"],
                text=HOSTILE,
            )
            mention = s.scalars(select(Mention).order_by(Mention.id)).first()
            assert mention is not None
            s.add(
                Correction(mention_id=mention.id, analyst="ana", topics_after=[f"service{HOSTILE}"])
            )
            s.add(
                Claim(
                    business_id=business.id,
                    claim_key="own_site:x",
                    origin="own_site",
                    metric="positive_share",
                    topic="service",
                    value=0.97,
                    stated_at=recent,
                    evidence_url="javascript:alert(1)",
                    evidence_text=f"friendliest staff {HOSTILE}",
                )
            )
    finally:
        store.dispose()


def test_gap_json_follows_the_schema(configured: Path, database_url: str) -> None:
    _seed(configured, database_url)
    result = run(configured, "gap", "--business", "cafe", "--format", "json", "--period", "30d")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert errors(report, json_schema()) == []
    assert report["overall"]["mentions"] == 9
    assert {c["origin"] for c in report["claims"]} == {"declared", "own_site"}
    assert report["calibration"][0]["status"] == "in progress"
    assert errors({**report, "extra": 1}, json_schema()) == ["$: unexpected 'extra'"]
    every = json.loads(run(configured, "gap", "--format", "json").output)
    assert isinstance(every, list) and every[0]["business"]["slug"] == "cafe"


def test_gap_table_has_one_row_per_claim(configured: Path, database_url: str) -> None:
    _seed(configured, database_url)
    result = run(configured, "gap", "--business", "cafe", "--since", "2020-01-01")
    assert result.exit_code == 0, result.output
    assert "declared: 90% positive" in result.output
    assert "own_site: 97% positive on service" in result.output
    assert "predictions versus what came" in result.output
    assert "overstated" in result.output


def test_gap_html_is_self_contained_and_escapes_hostile_text(
    configured: Path, database_url: str, tmp_path: Path
) -> None:
    _seed(configured, database_url)
    out = tmp_path / "report" / "gap.html"
    out.parent.mkdir()  # a folder named by the user is not created on a guess
    result = run(configured, "gap", "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert html.count("<svg") >= 3  # claims, topics, at least one trend
    assert "<polygon" in html and "stroke-dasharray" in html  # the interval band, the claim line
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_gap_options_are_checked(configured: Path) -> None:
    both = run(configured, "gap", "--period", "30d", "--since", "2026-01-01")
    assert both.exit_code == 2 and "not both" in both.output
    bad = run(configured, "gap", "--period", "soon")
    assert bad.exit_code == 2 and "30d" in bad.output
    unknown = run(configured, "gap", "--business", "nobody")
    assert unknown.exit_code == 2 and "unknown business" in unknown.output


def test_a_claim_read_off_a_page_shows_its_sentence_safely() -> None:
    from rich.console import Console

    from reviewwatch.gap.render_table import claim_cell

    item = {"label": "own_site: 90% positive on service",
            "evidence_text": "The [bold]friendliest[/] staff\x1b[2J in   town, " + "really " * 20}
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(claim_cell(item))
    text = console.export_text()
    assert text.startswith("own_site: 90% positive on service\n“The [bold]friendliest[/] staff")
    assert "\x1b" not in text and "in town," in text and text.rstrip().endswith("…”")
    assert claim_cell({"label": "declared: 90% positive", "evidence_text": None}).plain == (
        "declared: 90% positive")


def test_a_bad_survey_reports_every_bad_line_at_once(
    configured: Path, database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "period_start,period_end,metric,value,topic\n"
        "2026-01-01,2026-01-31,csat,80,service\n"
        "2026-01-01,2026-01-31,csat,81,servise\n"  # misspelt: no mention is ever about it
        "2026-02-01,2026-02-28,csat,0.9,\n"  # a share where percent is expected
        "2026-03-01,2026-03-31,nps,0.45,\n"
        "2026-04-01,2026-04-30,nps,eighty,\n"
        "2026-05-01,2026-05-31,csat,1,price\n",  # CSAT 1 %? a share of 1 written as percent
        encoding="utf-8",
    )
    result = run(configured, "claims", "import", str(csv), "--business", "cafe")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {csv}: 5 bad lines, nothing imported:"
    assert lines[1].strip().startswith("line 3: unknown topic 'servise': did you mean 'service'?")
    assert lines[2].strip().startswith("line 4: csat value 0.9 looks like a fraction")
    assert "write 90 for 90 %" in lines[2]
    assert lines[3].strip().startswith("line 5: nps value 0.45 looks like a fraction")
    assert lines[4].strip() == "line 6: value 'eighty' is not a number"
    assert lines[5].strip().startswith("line 7: csat value 1 looks like a fraction")
    assert survey_claims(database_url) == []


def test_claims_remove_takes_back_an_imported_claim(
    configured: Path, database_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "survey.csv"
    csv.write_text("period_start,period_end,metric,value,topic\n"
                   "2026-01-01,2026-03-31,csat,85,\n2026-01-01,2026-03-31,nps,40,service\n",
                   encoding="utf-8")
    assert run(configured, "claims", "import", str(csv), "--business", "cafe").exit_code == 0
    key = "survey:nps:service:2026-01-01..2026-03-31"
    assert key in run(configured, "claims", "list").output  # whole, on one line
    removed = run(configured, "claims", "remove", key, "--business", "cafe")
    assert removed.exit_code == 0, removed.output
    assert f"removed claim {key}" in removed.output
    assert [(c.claim_key, c.active) for c in survey_claims(database_url)] == [
        ("survey:csat:*:2026-01-01..2026-03-31", True), (key, False)]
    gap = json.loads(run(configured, "gap", "--business", "cafe", "--format", "json").output)
    assert key not in {c["claim_key"] for c in gap["claims"]}

    again = run(configured, "claims", "remove", key, "--business", "cafe")
    assert again.exit_code == 2 and "has no active claim" in again.stderr
    declared = next(c["claim_key"] for c in gap["claims"] if c["origin"] == "declared")
    refused = run(configured, "claims", "remove", declared, "--business", "cafe")
    assert refused.exit_code == 2 and "declared in the configuration" in refused.stderr
    # Importing the line again brings it back.
    assert run(configured, "claims", "import", str(csv), "--business", "cafe").exit_code == 0
    assert all(c.active for c in survey_claims(database_url))


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_bidi_controls_in_crawled_text_do_not_reorder_the_report(
    configured: Path, database_url: str, tmp_path: Path
) -> None:
    """Stored as crawled; the HTML report and the terminal table show it without them."""
    _seed(configured, database_url)
    crawled = "we are the \u202edetar tsehgih\u202c \u2067cafe\u2069 in town\u200f"
    store = Store(database_url)
    try:
        with store.transaction() as s:
            business = s.scalars(select(Claim.business_id)).first()
            s.add(Claim(business_id=business, claim_key="own_site:bidi", origin="own_site",
                        metric="positive_share", topic=None, value=0.9,
                        stated_at=utcnow() - dt.timedelta(days=3), evidence_text=crawled))
        with store.session() as s:  # the store keeps the text as crawled
            assert s.scalar(select(Claim.evidence_text).where(
                Claim.claim_key == "own_site:bidi")) == crawled
    finally:
        store.dispose()
    out = tmp_path / "gap.html"
    assert run(configured, "gap", "--format", "html", "--output", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "we are the detar tsehgih cafe in town" in html
    assert not any(c in html for c in BIDI)
    table = run(configured, "gap", "--business", "cafe", "--since", "2020-01-01")
    assert table.exit_code == 0, table.output
    assert not any(c in table.output for c in BIDI)
    as_json = run(configured, "gap", "--business", "cafe", "--format", "json", "--since", "2020-01-01")
    texts = [c.get("evidence_text") for c in json.loads(as_json.output)["claims"]]
    assert crawled in texts  # JSON is data, kept exact

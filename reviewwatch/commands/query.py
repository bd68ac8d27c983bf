"""`reviewwatch query`: the analysts' mention filters on the command line, streamed to a file.

CSV (cells a spreadsheet would run neutralised, see reviewwatch/csvsafe.py), JSON and Parquet
(both exact) are written chunk by chunk (a server-side cursor on PostgreSQL), so a
large result never sits in memory; `table` prints at most `--limit` rows (default 50).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.table import Table

from reviewwatch.context import AppContext
from reviewwatch.csvsafe import csv_writer
from reviewwatch.errors import InputError
from reviewwatch.paths import output_file
from reviewwatch.terminal import console as make_console, safe_text
from storage.queries import MENTION_COLUMNS, iter_mention_chunks, make_filter, validate_filter

COLUMNS = (*MENTION_COLUMNS, "topics", "topic_sentiment")
TABLE_COLUMNS = ("mention_id", "business", "source_type", "published_at", "language", "rating",
                 "label", "model_label", "topics", "text")
TABLE_DEFAULT_LIMIT = 50


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _cell(name: str, value: Any) -> Any:
    """A CSV cell: lists joined by ';', the topics' opinions as topic:label pairs."""
    if name == "topics":
        return ";".join(value)
    if name == "topic_sentiment":
        return ";".join(f"{topic}:{label}" for topic, label in value.items())
    return _plain(value)


@contextmanager
def _text_output(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def write_csv(chunks: Iterator[list[dict[str, Any]]], out: IO[str]) -> int:
    writer = csv_writer(out, COLUMNS)  # formula-like cells neutralised for spreadsheets
    writer.writeheader()
    count = 0
    for chunk in chunks:
        for row in chunk:
            writer.writerow({k: _cell(k, v) for k, v in row.items()})
        count += len(chunk)
    return count


def write_json(chunks: Iterator[list[dict[str, Any]]], out: IO[str]) -> int:
    """One JSON array, written element by element."""
    out.write("[")
    count = 0
    for chunk in chunks:
        for row in chunk:
            out.write(",\n" if count else "\n")
            out.write(json.dumps({k: _plain(row[k]) for k in COLUMNS}, ensure_ascii=False))
            count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_parquet(chunks: Iterator[list[dict[str, Any]]], output: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(pa)
    count = 0
    with pq.ParquetWriter(output, schema) as writer:
        for chunk in chunks:
            columns = {name: [row[name] for row in chunk] for name in COLUMNS}
            columns["topic_sentiment"] = [list(m.items()) for m in columns["topic_sentiment"]]
            writer.write_table(pa.Table.from_pydict(columns, schema=schema))
            count += len(chunk)
    return count


def parquet_schema(pa: Any) -> Any:
    types = {
        "mention_id": pa.int64(), "published_at": pa.timestamp("us", tz="UTC"),
        "rating": pa.float64(), "rating_scale": pa.float64(), "stars": pa.float64(),
        "corrected": pa.bool_(), "p_negative": pa.float64(), "p_neutral": pa.float64(),
        "p_positive": pa.float64(), "topics": pa.list_(pa.string()),
        "topic_sentiment": pa.map_(pa.string(), pa.string()),
    }
    return pa.schema([(name, types.get(name, pa.string())) for name in COLUMNS])


def _opinion(topic: str, row: dict[str, Any]) -> str:
    own = row["topic_sentiment"].get(topic)
    return f"{topic} ({own})" if own else topic


def print_table(chunks: Iterator[list[dict[str, Any]]]) -> int:
    table = Table(show_lines=False)
    for name in TABLE_COLUMNS:
        table.add_column(name, overflow="fold", max_width=60 if name == "text" else None)
    count = 0
    for chunk in chunks:
        for row in chunk:
            values = {**row, "topics": ", ".join(_opinion(t, row) for t in row["topics"]),
                      "published_at": f"{row['published_at']:%Y-%m-%d}" if row["published_at"] else "",
                      "text": row["text"][:300]}
            # Crawled text is shown as it is: never read as rich markup, no escape obeyed.
            table.add_row(*(safe_text(values[name]) for name in TABLE_COLUMNS))
            count += 1
    make_console().print(table)
    return count


@click.command("query")
@click.option("--business", help="Business id.")
@click.option("--source", help="Source type (trustpilot, mastodon, ...).")
@click.option("--language", help="Language code (en, fr, ...).")
@click.option("--topic", help="Topic key.")
@click.option("--sentiment", type=click.Choice(["negative", "neutral", "positive"]),
              help="The label that counts; with --topic, the opinion about that topic.")
@click.option("--min-rating", type=float, help="Lowest rating, on 1..5.")
@click.option("--max-rating", type=float, help="Highest rating, on 1..5.")
@click.option("--since", help="First day, YYYY-MM-DD (UTC), inclusive (published, else first seen).")
@click.option("--until", help="Last day, YYYY-MM-DD (UTC), inclusive.")
@click.option("--search", help="Text the mention contains (any case; % and _ are literal).")
@click.option("--include-own", is_flag=True, help="Include the business's own posts.")
@click.option("--include-duplicates", is_flag=True, help="Include cross-posted copies.")
@click.option("--disagree", is_flag=True,
              help="Only rated mentions whose rating and model label differ.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many mentions.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "parquet"]),
              default="table", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output; required for parquet).")
@click.pass_obj
def command(app: AppContext, limit: int | None, fmt: str, output: Path | None,
            **filters: Any) -> None:
    """Mentions matching the filters, newest first (undated ones last), with the label that
    counts (an analyst's, else the rating's, else the model's) beside the model's."""
    flt = make_filter(**{k: v for k, v in filters.items() if v is not None})
    if fmt == "parquet" and output is None:
        raise InputError("--format parquet needs --output FILE")
    if output is not None:
        output_file(output)
    if fmt == "table" and limit is None:
        limit = TABLE_DEFAULT_LIMIT
    store = app.store()
    with store.session() as session:
        validate_filter(session, flt, known_topics=list(app.settings.sentiment.topics))
    with store.engine.connect() as connection:
        chunks = iter_mention_chunks(connection, flt, limit=limit)
        if fmt == "table":
            count = print_table(chunks)
        elif fmt == "parquet":
            assert output is not None
            count = write_parquet(chunks, output)
        else:
            with _text_output(output) as out:
                count = (write_csv if fmt == "csv" else write_json)(chunks, out)
    if output is not None or fmt == "table":
        where = f" to {output}" if output else ""
        click.echo(f"{count} mention{'s' if count != 1 else ''}{where}", err=True)

"""Synthetic analyst-scale stores for bench/query.py: bulk-loaded mentions, scores and topics.

200 businesses with Zipf-like sizes, 3 sources each (two with star ratings, one social), 6
languages, two years of mentions growing over time, ratings J-shaped, labels following the
ratings with noise, 1-3 topics, a few own posts, duplicates and analysts' corrections.
SQLite is loaded with executemany in large transactions, PostgreSQL with COPY.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from reviewwatch.config import Settings

BUSINESSES = 200
END = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
SPAN_DAYS = 730
CHUNK = 50_000
SEARCH_WORD = "refund"
LANGS = ("en", "fr", "de", "es", "sv", "ru")
LANG_P = (0.45, 0.15, 0.12, 0.12, 0.08, 0.08)
TOPICS = ("service", "wait_time", "price", "quality", "cleanliness", "ambience", "location",
          "communication", "booking")
TOPIC_P = (0.22, 0.12, 0.14, 0.2, 0.07, 0.08, 0.06, 0.06, 0.05)
LABELS = ("negative", "neutral", "positive")
SOURCES = (("trustpilot", 5.0), ("app_store", 5.0), ("mastodon", None))
PHRASES = {
    "en": {"negative": ["terrible experience", "never again", "rude staff", "very slow",
                        "cold food", "overpriced"],
           "neutral": ["it was okay", "nothing special", "average visit"],
           "positive": ["lovely place", "great service", "friendly staff", "highly recommend",
                        "excellent value", "will come back"]},
    "fr": {"negative": ["très déçu", "service lent", "trop cher", "personnel désagréable"],
           "neutral": ["correct sans plus", "rien de spécial"],
           "positive": ["excellent accueil", "très bon repas", "je recommande"]},
    "de": {"negative": ["sehr enttäuscht", "unfreundliche Bedienung", "viel zu teuer"],
           "neutral": ["ganz okay", "nichts Besonderes"],
           "positive": ["sehr freundlich", "tolles Essen", "gerne wieder"]},
    "es": {"negative": ["muy mala experiencia", "servicio lento", "demasiado caro"],
           "neutral": ["normal", "nada especial"],
           "positive": ["excelente servicio", "muy recomendable", "comida deliciosa"]},
    "sv": {"negative": ["otrevlig personal", "alldeles för dyrt", "lång väntetid"],
           "neutral": ["helt okej", "inget speciellt"],
           "positive": ["trevlig personal", "god mat", "rekommenderas"]},
    "ru": {"negative": ["ужасное обслуживание", "очень дорого", "долго ждали"],
           "neutral": ["нормально", "ничего особенного"],
           "positive": ["отличный сервис", "очень вкусно", "рекомендую"]},
}


def slug(i: int) -> str:
    return f"biz-{i:03d}"


def bench_settings(api: dict[str, Any] | None = None) -> Settings:
    businesses = []
    for i in range(BUSINESSES):
        sources = [{"type": t, "url": f"https://{t}.example/{slug(i)}"} for t, _ in SOURCES]
        claims = [
            {"positive_share": 0.85, "stated_at": "2025-01-01"},
            {"topic": "service", "positive_share": 0.8, "stated_at": "2025-01-01"},
            {"topic": "quality", "average_rating": 4.5, "stated_at": "2025-01-01"},
        ]
        businesses.append({"id": slug(i), "name": f"Business {i}", "sources": sources,
                           "claims": claims})
    return Settings(businesses=businesses, api=api or {})


def business_weights() -> np.ndarray:
    ranks = np.arange(1, BUSINESSES + 1)
    weights = 1.0 / ranks**0.8
    return weights / weights.sum()


def _iso(ts: np.ndarray) -> list[dt.datetime]:
    base = END - dt.timedelta(days=SPAN_DAYS)
    return [base + dt.timedelta(seconds=float(s)) for s in ts]


def generate(
    rows: int, sources: dict[str, list[tuple[int, str]]], seed: int = 11
) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                    list[tuple[Any, ...]]]]:
    """Chunks of (mentions, scores, score_topics, corrections) rows; ids are 1..rows."""
    rng = np.random.default_rng(seed)
    weights = business_weights()
    # Growth: more mentions lately (the density rises over the two years). Ids follow time,
    # as the crawler writes them: day after day, one batch per business and source.
    seconds = np.sort((rng.random(rows) ** 0.7) * SPAN_DAYS * 86400)
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        yield _chunk(rng, start, seconds[start : start + n], weights, sources)


def _chunk(rng: np.random.Generator, start: int, seconds: np.ndarray, weights: np.ndarray,
           sources: dict[str, list[tuple[int, str]]]) -> tuple[list[Any], ...]:
    n = len(seconds)
    biz = rng.choice(BUSINESSES, n, p=weights)
    src = rng.integers(0, len(SOURCES), n)
    lang = rng.choice(len(LANGS), n, p=LANG_P)
    order = np.lexsort((seconds, src, biz, (seconds // 86400).astype(int)))
    seconds, biz, src = seconds[order], biz[order], src[order]
    stars = rng.choice(5, n, p=(0.12, 0.06, 0.1, 0.25, 0.47)) + 1
    noise = rng.random(n)
    topic_counts = rng.choice(3, n, p=(0.5, 0.35, 0.15)) + 1
    published = _iso(seconds)
    mentions, scores, topics, corrections = [], [], [], []
    for k in range(n):
        mid = start + k + 1
        star = int(stars[k])
        label = "negative" if star <= 2 else "neutral" if star == 3 else "positive"
        if noise[k] < 0.12:  # the model and the stars disagree sometimes
            label = LABELS[int(noise[k] * 25) % 3]
        source_id, source_type = sources[slug(int(biz[k]))][int(src[k])]
        rated = SOURCES[int(src[k])][1] is not None
        language = LANGS[int(lang[k])]
        words = PHRASES[language][label]
        text = ". ".join(words[(mid + j) % len(words)] for j in range(2 + mid % 3)).capitalize()
        if mid % 97 == 0:
            text += f". I asked for a {SEARCH_WORD} twice"
        when = published[k] if mid % 150 else None
        chosen = sorted(set(rng.choice(len(TOPICS), int(topic_counts[k]), p=TOPIC_P)))
        mentions.append((
            mid, int(biz[k]) + 1, source_id, str(mid), f"https://{source_type}.example/r/{mid}",
            f"user{mid % 9973}", star if rated else None, 5.0 if rated else None,
            (star - 1) / 4 if rated else None, None, text, False, language, mid % 101 == 0, None,
            mid - 1 if mid % 211 == 0 else None, when, published[k], published[k],
            f"{mid:064x}", 1, None, "{}",
        ))
        p = {"negative": 0.1, "neutral": 0.1, "positive": 0.1}
        p[label] = 0.8
        scores.append((
            mid, mid, 1, "bench-model", "1", label, p["negative"], p["neutral"], p["positive"],
            float(star), language, json.dumps({TOPICS[t]: 0.9 for t in chosen}), True,
            published[k],
        ))
        topics.extend((mid, TOPICS[t], 0.9) for t in chosen)
        if mid % 1000 == 0:
            corrected = LABELS[(LABELS.index(label) + 1) % 3]
            corrections.append((
                mid // 1000, mid, "bench-analyst", published[k], label, corrected,
                json.dumps([TOPICS[t] for t in chosen]), None, None,
            ))
    return mentions, scores, topics, corrections


COLUMNS = {
    "mentions": ("id", "business_id", "source_id", "external_id", "url", "author", "rating",
                 "rating_scale", "rating_normalised", "title", "text", "truncated", "language",
                 "is_own", "reply_text", "duplicate_of_id", "published_at", "first_seen_at",
                 "last_seen_at", "content_hash", "revision", "deleted_at", "extra"),
    "scores": ("id", "mention_id", "mention_revision", "model_id", "model_version", "label",
               "p_negative", "p_neutral", "p_positive", "stars", "language", "topic_scores",
               "is_current", "scored_at"),
    "score_topics": ("score_id", "topic", "probability"),
    "corrections": ("id", "mention_id", "analyst", "created_at", "label_before", "label_after",
                    "topics_before", "topics_after", "note"),
}


def sqlite_value(value: Any) -> Any:
    """As SQLAlchemy stores it on SQLite: naive UTC text timestamps, 0/1 booleans."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def load_sqlite(raw: Any, chunks: Iterator[tuple[list[Any], ...]], progress: Any) -> None:
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    for chunk in chunks:
        for name, rows in zip(COLUMNS, chunk, strict=True):
            cols = COLUMNS[name]
            sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            cursor.executemany(sql, [tuple(sqlite_value(v) for v in row) for row in rows])
        raw.commit()
        progress(len(chunk[0]))
    cursor.execute("ANALYZE")
    raw.commit()


def load_postgresql(raw: Any, chunks: Iterator[tuple[list[Any], ...]], progress: Any) -> None:
    """COPY with the rollup triggers off; every loaded day is then marked dirty at once."""
    cursor = raw.cursor()
    for name in COLUMNS:
        cursor.execute(f"ALTER TABLE {name} DISABLE TRIGGER USER")
    for chunk in chunks:
        for name, rows in zip(COLUMNS, chunk, strict=True):
            with cursor.copy(f"COPY {name} ({', '.join(COLUMNS[name])}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
        progress(len(chunk[0]))
    for name in ("mentions", "scores", "corrections"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
        )
    for name in COLUMNS:
        cursor.execute(f"ALTER TABLE {name} ENABLE TRIGGER USER")
    cursor.execute(
        "INSERT INTO rollup_dirty (business_id, day) SELECT DISTINCT business_id, "
        "CAST((published_at AT TIME ZONE 'UTC') AS DATE) FROM mentions "
        "WHERE published_at IS NOT NULL ON CONFLICT DO NOTHING"
    )
    raw.commit()
    raw.autocommit = True
    cursor.execute("VACUUM ANALYZE")
    raw.autocommit = False

"""A store holding a business and its competitors with known shares, for the benchmark tests.

Every mention is rated (1 or 5 stars), so its label is known and the shares are exact:

| topic | cafe | rival-a | rival-b | rival-small |
|---|---|---|---|---|
| cleanliness | 12 of 40 positive (30 %) | 32 of 40 (80 %) | 30 of 40 (75 %) | 2 of 2 |
| service | 20 of 40 (50 %) | 21 of 40 (52.5 %) | 19 of 40 (47.5 %) | 1 of 2 |

cafe is clearly below on cleanliness, within noise on service; rival-small has too few mentions
to be compared (min_mentions = 10).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from reviewwatch.config import BusinessConfig, Settings
from reviewwatch.sync import sync_settings
from storage.models import Business, Source
from tests.gap import seed

SLUGS = ("cafe", "rival-a", "rival-b", "rival-small")
# slug -> topic -> (positive, total)
SHARES: dict[str, dict[str, tuple[int, int]]] = {
    "cafe": {"cleanliness": (12, 40), "service": (20, 40)},
    "rival-a": {"cleanliness": (32, 40), "service": (21, 40)},
    "rival-b": {"cleanliness": (30, 40), "service": (19, 40)},
    "rival-small": {"cleanliness": (2, 2), "service": (1, 2)},
}
MIN_MENTIONS = 10


def settings(
    share_method: str = "counts", competitors: list[str] | None = None, **api: object
) -> Settings:
    named = ["rival-a", "rival-b", "rival-small"] if competitors is None else competitors
    businesses = [
        BusinessConfig(
            id=slug,
            name=slug.replace("-", " ").title(),
            sources=[{"type": "schema_org", "url": f"http://127.0.0.1:1/{slug}/"}],
            competitors=named if slug == "cafe" else [],
        )
        for slug in SLUGS
    ]
    return Settings(
        api=api,
        businesses=businesses,
        gap={"share_method": share_method, "min_mentions": MIN_MENTIONS, "prior_strength": 0},
    )


def populate(session: Session, config: Settings, at: dt.datetime | None = None) -> None:
    """The mentions of the table above, each about one topic, published `at` (default: inside
    seed's window)."""
    sync_settings(session, config)
    for slug, topics in SHARES.items():
        business = session.query(Business).filter_by(slug=slug).one()
        source = session.query(Source).filter_by(business_id=business.id).one()
        for topic, (positive, total) in topics.items():
            for i in range(total):
                label = "positive" if i < positive else "negative"
                seed.add(
                    session, business, source, label, topics=[topic],
                    rating=5.0 if label == "positive" else 1.0, scale=5.0,
                    at=at or seed.UNTIL - dt.timedelta(days=10),
                )

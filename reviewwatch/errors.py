"""Domain exceptions: library code raises these, the CLI turns them into one message and exit 2.

The base and the store's and input's errors are defined in `storage.errors` (the lowest layer, so
every package can raise them); the configuration's error belongs to the application.
"""

from __future__ import annotations

from storage.errors import InputError, ReviewwatchError, StoreError

__all__ = ["ConfigError", "InputError", "ReviewwatchError", "StoreError"]


class ConfigError(ReviewwatchError):
    """The configuration file or environment holds something invalid."""

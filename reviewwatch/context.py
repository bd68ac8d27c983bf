"""What every command shares: the settings (read once) and the store (opened on first use)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from reviewwatch.config import Settings
from storage.db import Store


@dataclass
class AppContext:
    settings: Settings
    config_file: Path
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        """The store, migrated to the current schema and in step with the configuration."""
        if self._store is None:
            from reviewwatch.sync import sync_settings

            self._store = Store(self.settings.resolved_database_url, pool=self.settings.pool_options)
            with self._store.transaction() as session:
                sync_settings(session, self.settings)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.dispose()
            self._store = None


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    # Alembic reports every plugin and step at INFO; only its problems matter to a user.
    logging.getLogger("alembic").setLevel(logging.WARNING)

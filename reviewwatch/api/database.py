"""A request's database work: one step, in one worker thread, with a session of its own.

Under load the API once deadlocked: a dependency took a pooled connection, then the request
waited for a worker thread while every thread waited for a connection held by such a request.
Now no session outlives a step and no step waits for a connection: a request first waits,
without a thread and without a connection, for one of `capacity` places (the pool's size plus
its overflow, `database_pool_size` + `database_max_overflow`), then opens a session, does all its
database work and closes the session in one worker thread. A request that waits longer than
`database_pool_timeout_s` for its place gets 503 with Retry-After instead of a hung socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import HTTPException
from sqlalchemy.orm import Session

from storage.db import Store

T = TypeVar("T")


class StoreGate:
    """Runs database steps for requests, at most as many at once as the pool has connections."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.capacity = store.pool.capacity
        self._wait_s = store.pool.timeout_s
        self._places = anyio.CapacityLimiter(self.capacity)
        # Threads of our own: the places above are the bound, never the shared thread pool.
        self._threads = anyio.CapacityLimiter(self.capacity)

    async def run(self, step: Callable[[Session], T]) -> T:
        """`step(session)` in a worker thread; committed if it returns, rolled back if it raises.

        Reads commit too: an aggregate keeps the rollup days it refreshed.
        """
        try:
            with anyio.fail_after(self._wait_s):
                await self._places.acquire()
        except TimeoutError:
            raise HTTPException(
                503, "the store is busy, retry shortly", headers={"Retry-After": "1"}
            ) from None
        try:
            return await anyio.to_thread.run_sync(self._in_session, step, limiter=self._threads)
        finally:
            self._places.release()

    def _in_session(self, step: Callable[[Session], T]) -> T:
        with self.store.transaction() as session:
            return step(session)

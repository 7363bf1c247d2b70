"""The part of the local store's API that the sync code uses (see app/store/db.py).

A Protocol, so that sync modules type-check against the agreed contract without
importing the store's implementation: every write goes through the single writer
(`store.writer.submit(fn)`, resolved after COMMIT), every read through
`store.read_session()`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class WriterLike(Protocol):
    def submit(self, fn: Callable[[Session], T]) -> Future[T]: ...


class StoreLike(Protocol):
    @property
    def writer(self) -> Any: ...

    def read_session(self) -> AbstractContextManager[Session]: ...


def write(store: StoreLike, fn: Callable[[Session], T], timeout: float | None = 60.0) -> T:
    """Run `fn` in the writer's transaction and wait for the commit."""
    fut: Future[T] = store.writer.submit(fn)
    return fut.result(timeout=timeout)

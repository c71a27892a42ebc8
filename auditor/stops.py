"""Stopping a long command (SIGTERM from systemd or a container, Ctrl-C) where it is, except
inside a database write.

A stop is raised as an exception in the main thread, wherever it happens to be, so that the
command's cleanup (the batch's lease) runs. Raised inside SQLAlchemy while a session closes, it
can leave that session's connection checked out with its write transaction open, and the cleanup
that follows then finds the database locked. So, once `install()` has run, a stop that arrives
inside `held()` waits until the block is over: a transaction under way commits (or rolls back)
and its connection goes back to the pool first.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is (a KeyboardInterrupt, so cleanup treats it as Ctrl-C)."""


_depth = 0  # how many `held()` blocks the main thread is in
_pending: KeyboardInterrupt | None = None


def install() -> None:
    """Raise SIGTERM as `Terminated` and Ctrl-C as KeyboardInterrupt, held while in `held()`. A
    second SIGTERM is ignored, so that it cannot cut the first one's cleanup short; a second
    Ctrl-C while the first is held is raised at once (a database that does not answer would
    otherwise hold it for ever)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    global _pending
    stop: KeyboardInterrupt
    if signum == signal.SIGTERM:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop = Terminated()
    else:
        stop = KeyboardInterrupt()
    if _depth and not (signum == signal.SIGINT and _pending is not None):
        _pending = _pending or stop
        return
    _pending = None  # a second Ctrl-C replaces the held one
    raise stop


@contextmanager
def held() -> Iterator[None]:
    """A block a stop does not break into: a stop that arrives inside it is raised as it ends
    (even if the block ends with an error of its own). Signals reach only the main thread, so in
    any other thread this does nothing."""
    global _depth, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending is not None:
            stop, _pending = _pending, None
            raise stop

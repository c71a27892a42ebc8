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
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is (a KeyboardInterrupt, so cleanup treats it as Ctrl-C)."""


_depth = 0  # how many `held()` blocks the main thread is in
_pending: KeyboardInterrupt | None = None  # a stop held until the block ends
_stopping = False  # a stop has arrived: the command is on its way out

Handlers = tuple[Any, Any]


def install() -> Handlers:
    """Raise SIGTERM as `Terminated` and Ctrl-C as KeyboardInterrupt, held while in `held()`.
    Returns the handlers they replace, for `restore`. Once a stop has arrived, a further SIGTERM
    is ignored, so that it cannot cut the cleanup short, and a Ctrl-C is raised at once, held or
    not (a database that does not answer would otherwise hold it for ever), as the stop that
    arrived first (a SIGTERM still ends the command as terminated)."""
    global _pending, _stopping
    _pending, _stopping = None, False
    return signal.signal(signal.SIGTERM, _on_signal), signal.signal(signal.SIGINT, _on_signal)


def restore(handlers: Handlers) -> None:
    """Put back the handlers `install` replaced (a command run in-process, as tests run it)."""
    global _pending, _stopping
    signal.signal(signal.SIGTERM, handlers[0])
    signal.signal(signal.SIGINT, handlers[1])
    _pending, _stopping = None, False


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    global _pending, _stopping
    stop: KeyboardInterrupt
    if signum == signal.SIGTERM:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop = Terminated()
    else:
        stop = KeyboardInterrupt()
    forced = signum == signal.SIGINT and _stopping
    _stopping = True
    if _depth and not forced:
        _pending = _pending or stop
        return
    stop, _pending = _pending or stop, None
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

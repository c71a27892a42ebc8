"""Where the service scores records: a pool of scoring processes.

`auditor serve --workers N` runs one service process (HTTP, storage, the job worker) and N
scoring processes, each with its own engine. A request's records go to whichever scoring process
is free, so the load is shared request by request. (With N uvicorn processes instead, each
client's keep-alive connection stayed with the process that accepted it, and one process often
accepted all of a burst of connections while the other core idled.) A batch of more than a few
records is split across the processes.

A scoring process that dies (killed, out of memory) breaks the pool: the requests it was serving
fail with `ScoringUnavailable` (the API answers 503, and a job's chunk is retried), and new
scoring processes start at once."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Protocol

from auditor.findings import RecordResult
from auditor.records import Record

if TYPE_CHECKING:
    from auditor.engine import Auditor

logger = logging.getLogger("uvicorn.error")

# A batch is split across the processes only when each part keeps at least this many records:
# below it, sending the parts costs more than scoring them in parallel saves.
SPLIT_AT = 8


class Scoring(Protocol):
    """What the service needs of a scorer: an `Auditor`, or a `ScoringPool`."""

    def audit_many(self, records: Iterable[Record]) -> Iterable[RecordResult]: ...


class ScoringUnavailable(RuntimeError):
    """The scoring processes stopped (one was killed); new ones are starting."""


_ENGINE: Auditor | None = None


def _start() -> None:
    """Each scoring process's start: its own engine, configured by the same environment. Ctrl-C
    reaches the whole process group; the service, not each scorer, decides when to stop."""
    global _ENGINE
    # Not SIGTERM: the executor stops the survivors of a broken pool with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(os.getppid(),), name="auditor-orphan-check", daemon=True).start()
    # scikit-learn imports pandas whenever it is installed, only to recognise DataFrames, and the
    # engine hands it none: kept out while the engine loads, a scoring process takes 64 MB less
    # (278 MB, not 342, with the same scores; tests/test_scoring_pool.py checks both). Then the
    # block goes, so that anything that looks for pandas later finds it absent, or imports it.
    blocked = "pandas" not in sys.modules
    if blocked:
        sys.modules["pandas"] = None  # type: ignore[assignment]
    try:
        from auditor.engine import Auditor  # here: a process that only hands records out need not import spaCy

        _ENGINE = Auditor()
    finally:
        if blocked and sys.modules.get("pandas", 0) is None:
            del sys.modules["pandas"]


def _exit_with(service: int, every: float = 1.0) -> None:
    """Stop this scoring process once the service process is gone (killed, say): it would wait
    for work forever otherwise, since it holds its task queue's pipe open itself."""
    while os.getppid() == service:
        time.sleep(every)
    os._exit(0)


def _score(records: list[Record]) -> list[RecordResult]:
    assert _ENGINE is not None, "the scoring process did not start"
    return list(_ENGINE.audit_many(records))


def _versions() -> dict[str, str]:
    assert _ENGINE is not None, "the scoring process did not start"
    return _ENGINE.versions()


def _ready(pause: float) -> int:
    time.sleep(pause)  # long enough that every process takes one of the start-up calls
    return os.getpid()


class ScoringPool:
    """`processes` scoring processes. With `recycle_after`, they are all replaced by fresh ones
    once they have scored that many records between them: spaCy's string store and the engine's
    word caches keep every new word they see (building a new engine in the same process does not
    give the memory back), so a process that scores millions of real notes (new dates, reference
    numbers, misspellings) would grow without end. `auditor batch` recycles them; the service
    does not yet."""

    def __init__(self, processes: int, recycle_after: int | None = None) -> None:
        if processes < 1:
            raise ValueError("a scoring pool needs at least one process")
        self.processes, self.recycle_after = processes, recycle_after
        self._scored = 0
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the service process has threads (the event loop's, the job worker's).
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"), initializer=_start)

    def start(self, timeout: float = 300) -> None:
        """Start every scoring process and wait until each has loaded its engine, so that the
        service is ready only when the first request can be scored at once. Raises RuntimeError
        if they do not start in `timeout` seconds, or die starting (an engine that cannot load)."""
        try:
            self._start(self._pool, timeout)
        except (BrokenProcessPool, TimeoutError):
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError("the scoring processes did not start") from None

    def _start(self, pool: ProcessPoolExecutor, timeout: float) -> None:
        deadline, seen = time.monotonic() + timeout, set[int]()
        while len(seen) < self.processes:
            seen.update(pool.map(_ready, [0.05] * self.processes * 2, timeout=max(0.0, deadline - time.monotonic())))

    def _restart(self, pool: ProcessPoolExecutor) -> None:
        with contextlib.suppress(BrokenProcessPool, TimeoutError):  # broken again: the next call replaces it
            self._start(pool, 300)

    def versions(self) -> dict[str, str]:
        """What the scoring processes score with (the service's process need not load an engine)."""
        return self._pool.submit(_versions).result()

    def audit_many(self, records: Iterable[Record]) -> list[RecordResult]:
        batch = list(records)
        if not batch:
            return []
        parts = _parts(batch, self.processes)
        pool = self._pool
        try:
            futures = [pool.submit(_score, part) for part in parts]
            results = [result for future in futures for result in future.result()]
        except BrokenProcessPool:
            self._replace(pool)
            raise ScoringUnavailable("a scoring process stopped; the scoring processes were restarted") from None
        self._scored += len(batch)
        if self.recycle_after is not None and self._scored >= self.recycle_after:
            self._recycle()
        return results

    def _recycle(self) -> None:
        """Replace every scoring process with a fresh one, the old stopped before the new start
        (so that memory never holds both)."""
        with self._lock:
            self._pool.shutdown(wait=True)
            self._pool = self._new_pool()
            self._scored = 0
        self.start()

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:  # not already replaced by another request that saw it break
                logger.error("a scoring process stopped; starting new scoring processes")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                # Processes start on demand: start them all now, not one per request as they come.
                threading.Thread(target=self._restart, args=(self._pool,), daemon=True).start()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _parts(batch: Sequence[Record], processes: int) -> list[list[Record]]:
    """The batch in at most `processes` contiguous parts of at least SPLIT_AT records each."""
    count = max(1, min(processes, len(batch) // SPLIT_AT))
    size, extra = divmod(len(batch), count)
    parts, start = [], 0
    for n in range(count):
        end = start + size + (n < extra)
        parts.append(list(batch[start:end]))
        start = end
    return parts

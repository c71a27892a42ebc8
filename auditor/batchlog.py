"""How `auditor batch` tells its progress: a progress bar on a terminal, otherwise one JSON object
per line on standard error (for cron's mail, journald, or a log shipper). Neither carries record
text: only the run, the file, counts and rates."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from auditor.batch import Progress

THROTTLE_SECONDS = 10.0  # checkpoint lines in the log: at most one per this many seconds


class JsonLog:
    def __init__(self, stream: TextIO | None = None, throttle: float = THROTTLE_SECONDS) -> None:
        self.stream = stream or sys.stderr
        self.throttle = throttle
        self._last = 0.0

    def event(self, name: str, progress: Progress, **details: Any) -> None:
        if name == "checkpoint":
            moment = time.monotonic()
            if moment - self._last < self.throttle:
                return
            self._last = moment
        line = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "info",
            "event": name,
            "run_id": progress.run_id,
            "file_number": progress.file_number,
            "files": progress.files,
            **details,
            "counts": dict(progress.counts),
            "rows_per_second": round(progress.rate, 1),
        }
        self.stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.stream.flush()


class ProgressBar:
    """rich's progress display on standard error: the file, rows so far, rate and quarantined."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import Progress as Bar
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TextColumn("{task.fields[rate]:,.0f} rows/s"),
            TextColumn("{task.fields[scored]:,} scored, {task.fields[quarantined]:,} quarantined"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.bar.add_task("starting", total=None, rate=0.0, scored=0, quarantined=0)

    def __enter__(self) -> ProgressBar:
        self.bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.bar.stop()

    def event(self, name: str, progress: Progress, **details: Any) -> None:
        counts = progress.counts
        description = f"file {progress.file_number}/{progress.files}" if progress.file_number else "starting"
        if name == "run_resumed":
            description = "resuming"
        self.bar.update(
            self.task,
            description=description,
            completed=counts["rows"],
            rate=progress.rate,
            scored=counts["new"] + counts["changed"] + counts["rescored"],
            quarantined=counts["quarantined"],
        )

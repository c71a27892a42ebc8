"""The nightly batch's benchmark (issue 6): `python -m auditor.batchbench --records 1000000`.

In one run, on synthetic records (the sample records under new ids, councils and children, as a
Parquet export), it measures:
1. `auditor batch` over a tenth of the records, then over all of them, each into a fresh SQLite
   database: rows per second, and the peak memory of the whole process tree (the batch and its
   scoring processes), sampled every half second, as resident sets summed and as proportional set
   sizes summed (see `PeakMemory`); the two runs' peaks' ratio says whether memory grows with the
   input;
2. the incremental rerun: the same export with 1% of the records changed, into the database of
   the full run, against the full run's time;
3. Spark's local mode (`auditor.spark.score_dataframe`, as many cores as scoring processes) over
   the same export, against the single machine's rows per second.
Everything runs as separate processes, one after another, so their figures compare as ratios
measured on the same machine within minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from auditor.profiles import FIELDS

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
COUNCILS = ("201", "202", "203", "204")


def write_export(path: Path, records: int, changed: float = 0.0) -> None:
    """`records` synthetic records as Parquet, written 50,000 at a time; `changed` of them (every
    1/changed-th) with a sentence added, as a night's edits would."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    samples = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    columns = list(FIELDS)
    every = round(1 / changed) if changed else 0
    with pq.ParquetWriter(path, pa.schema([(c, pa.string()) for c in columns]), compression="zstd") as writer:
        for start in range(0, records, 50_000):
            rows: dict[str, list[Any]] = {c: [] for c in columns}
            for n in range(start, min(records, start + 50_000)):
                sample = samples[n % len(samples)]
                block = n // len(samples)
                # Words no other record has, as real notes bring (reference numbers, places,
                # misspellings): what makes an engine's word caches grow over a long run.
                text = f"{sample['text']}\nRef {_word(n)}-{n}: discussed at {_word(n * 7 + 3).capitalize()} hub."
                text += "\nUpdated: SW to visit weekly." if every and n % every == 0 else ""
                values = {
                    **sample,
                    "id": f"B{n:07d}",
                    "la_code": COUNCILS[block % len(COUNCILS)],
                    "child_id": f"{sample.get('child_id') or 'C'}-{block}",
                    "text": text,
                }
                for c in columns:
                    rows[c].append(values.get(c))
            writer.write_table(pa.table(rows))


def _word(n: int) -> str:
    """A made-up word for each number (base 26, at least five letters)."""
    letters = ""
    n += 26**4
    while n:
        n, digit = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[digit]
    return letters


class PeakMemory:
    """The peak memory of a process and its descendants, sampled, two ways: the sum of their
    resident sets (`peak`: a page shared by several, such as a shared library's, counts in each),
    and the sum of their proportional set sizes (`peak_pss`: a shared page counts once, split
    between its sharers; what the tree takes of the machine's memory)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every, self.peak, self.peak_pss = pid, every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                tree = [root, *root.children(recursive=True)]
                rss = pss = 0
                for process in tree:
                    with contextlib.suppress(psutil.Error):
                        try:
                            full = process.memory_full_info()
                            rss, pss = rss + full.rss, pss + full.pss
                        except psutil.AccessDenied:  # its proportional share unreadable: count it whole
                            resident = process.memory_info().rss
                            rss, pss = rss + resident, pss + resident
                self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            except psutil.Error:
                pass
            self._stop.wait(self.every)


def timed_batch(export: Path, data_dir: Path, workers: int, chunk_rows: int) -> dict[str, Any]:
    """`auditor batch` in its own process: seconds, peak memory of its tree, and its summary."""
    summary_file = data_dir / f"summary-{time.monotonic_ns()}.json"
    env = {**os.environ, "AUDITOR_DATA_DIR": str(data_dir)}
    env.pop("AUDITOR_DATABASE_URL", None)
    command = [sys.executable, "-m", "auditor.cli", "batch", str(export), "--workers", str(workers)]
    command += ["--chunk-rows", str(chunk_rows), "--log", "json", "--summary", str(summary_file)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with PeakMemory(process.pid) as memory:
        status = process.wait()
    seconds = time.perf_counter() - started
    if status not in (0, 4):
        raise SystemExit(f"auditor batch exited {status}")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    rows = summary["counts"]["rows"]
    return {
        "rows": rows,
        "scored": sum(summary["counts"].get(k, 0) for k in ("new", "changed", "rescored")),
        "seconds": round(seconds, 1),
        "rows_per_second": round(rows / seconds, 1),
        "peak_mib": round(memory.peak / 2**20),
        "peak_pss_mib": round(memory.peak_pss / 2**20),
        "timings": summary["timings_seconds"],
    }


SPARK_JOB = """
import sys, time
from pyspark.sql import SparkSession
from auditor.spark import score_dataframe
cores, path = sys.argv[1], sys.argv[2]
spark = (SparkSession.builder.master(f"local[{cores}]").config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1").config("spark.sql.shuffle.partitions", str(int(cores) * 4))
         .config("spark.sql.execution.arrow.pyspark.enabled", "true")
         .config("spark.python.worker.reuse", "false").getOrCreate())  # as the README advises for long jobs
started = time.perf_counter()
rows = score_dataframe(spark.read.parquet(path)).count()
print(rows, time.perf_counter() - started)
spark.stop()
"""


def timed_spark(export: Path, cores: int) -> dict[str, Any]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", SPARK_JOB, str(cores), str(export)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    with PeakMemory(process.pid) as memory:
        out, _ = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the Spark job exited {process.returncode}")
    rows, job_seconds = out.split()[-2:]
    return {
        "rows": int(rows),
        "seconds": round(seconds, 1),
        "job_seconds": round(float(job_seconds), 1),
        "rows_per_second": round(int(rows) / seconds, 1),
        "peak_mib": round(memory.peak / 2**20),
        "peak_pss_mib": round(memory.peak_pss / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="scoring processes (Spark cores)")
    parser.add_argument("--chunk-rows", type=int, default=1000)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--spark-on", choices=("tenth", "full"), default="full", help="the export Spark scores (compared with the same)"
    )
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="auditor-batchbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    small, full, changed = folder / "tenth.parquet", folder / "export.parquet", folder / "changed.parquet"
    results: dict[str, Any] = {"records": options.records, "workers": options.workers, "cpus": os.cpu_count()}
    write_export(small, options.records // 10)
    write_export(full, options.records)
    write_export(changed, options.records, changed=0.01)
    print(f"exports written in {folder}", file=sys.stderr)
    results["tenth"] = timed_batch(small, folder / "db-tenth", options.workers, options.chunk_rows)
    print(json.dumps({"tenth": results["tenth"]}), file=sys.stderr)
    results["full"] = timed_batch(full, folder / "db-full", options.workers, options.chunk_rows)
    print(json.dumps({"full": results["full"]}), file=sys.stderr)
    results["incremental_1pct"] = timed_batch(changed, folder / "db-full", options.workers, options.chunk_rows)
    print(json.dumps({"incremental_1pct": results["incremental_1pct"]}), file=sys.stderr)
    if not options.no_spark:
        results["spark_local"] = timed_spark(small if options.spark_on == "tenth" else full, options.workers)
        results["spark_local"]["compared_with"] = options.spark_on
    full_run = results["full"]
    results["ratios"] = {
        "peak_memory_full_to_tenth": round(full_run["peak_mib"] / results["tenth"]["peak_mib"], 2),
        "incremental_time_to_full": round(results["incremental_1pct"]["seconds"] / full_run["seconds"], 3),
        **(
            {
                "spark_rate_to_single_machine": round(
                    results["spark_local"]["rows_per_second"] / results[options.spark_on]["rows_per_second"], 2
                )
            }
            if "spark_local" in results
            else {}
        ),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

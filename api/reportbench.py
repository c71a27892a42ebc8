"""How long the report's pages take on a large audit, in one run: `python -m api.reportbench`.

Builds a temporary SQLite database holding one audit of N records (the sample records, scored
once and stored again under new ids, so that the figures are about reading and rendering, not
scoring) and a second, smaller run for the trend, signs in, and times each page (the median of a
few requests, in process through Starlette's TestClient). Next to each page it prints the ratio
to `GET /v1/audits/{id}` in the same run, which reads the same audit's summary through the API:
ratios hold on a shared, noisy machine where milliseconds do not. It also gives the HTML
download's time and size, and how far the process's resident memory grew while a real server on
a local port sent it (read as a stream and thrown away). Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from api.app import create_app, score_and_store
from api.db import make_engine, migrate
from api.keys import Role, create_key
from auditor.engine import Auditor
from auditor.findings import RecordResult
from auditor.records import Record, read_batch

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"


class _Replay:
    """A scorer that gives each copy of a sample record the sample's own result."""

    def __init__(self, results: dict[str, RecordResult]) -> None:
        self.results = results

    def audit_many(self, records: Iterable[Record]) -> Iterable[RecordResult]:
        for record in records:
            result = self.results[record.text]
            yield RecordResult(record.id, result.score, result.grade, result.findings)


def _median_ms(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _resident_kb() -> int:
    """This process's resident memory now (Linux), in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _download(app: object, plain: str, audit_id: str) -> tuple[float, int, int]:
    """The HTML download from a real server on a local port, read as a stream and thrown away:
    (milliseconds, bytes, how far this process's peak memory grew, in kB)."""
    import socket
    import threading

    import httpx
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=base, timeout=600) as browser:
            form = browser.get("/report/sign-in").text
            token = re.search(r'name="form_token" value="([^"]+)"', form)
            assert token is not None
            browser.post("/report/sign-in", data={"form_token": token.group(1), "key": plain})
            before, highest, done = _resident_kb(), [0], threading.Event()

            def sample() -> None:  # the resident size while the download is sent, every 10 ms
                while not done.wait(0.01):
                    highest[0] = max(highest[0], _resident_kb())

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            size = 0
            with browser.stream("GET", f"/report/audits/{audit_id}/download.html") as answer:
                assert answer.status_code == 200
                for chunk in answer.iter_bytes():
                    size += len(chunk)
            elapsed = (time.perf_counter() - started) * 1000
            done.set()
            sampler.join()
            grown = max(0, highest[0] - before)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return elapsed, size, grown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="records in the large audit (default 5000)")
    parser.add_argument("--repeats", type=int, default=5, help="requests per page (the median is shown)")
    options = parser.parse_args()

    from fastapi.testclient import TestClient

    auditor = Auditor()
    samples = [record for _file, _row, record in read_batch([SAMPLES])]
    replay = _Replay({r.text: result for r, result in zip(samples, auditor.audit_batch(samples), strict=True)})
    copies = [
        samples[n % len(samples)].model_copy(update={"id": f"{samples[n % len(samples)].id}-{n}"})
        for n in range(options.records)
    ]
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.db"
        engine = make_engine(url)
        migrate(engine)
        with Session(engine) as s:
            plain, owner = create_key(s, Role.auditor, "report bench")
            s.commit()
            score_and_store(s, replay, auditor.versions(), samples, owner.id, None, "small")
            audit, _results = score_and_store(s, replay, auditor.versions(), copies, owner.id, None, "large")
            audit_id = audit.id
        with TestClient(create_app(url, auditor=auditor)) as client:
            form = client.get("/report/sign-in").text
            token = re.search(r'name="form_token" value="([^"]+)"', form)
            assert token is not None
            client.post("/report/sign-in", data={"form_token": token.group(1), "key": plain})
            bearer = {"Authorization": f"Bearer {plain}"}
            base = f"/report/audits/{audit_id}"
            pages = {
                "GET /v1/audits/{id} (API, the yardstick)": lambda: client.get(
                    f"/v1/audits/{audit_id}", headers=bearer
                ),
                "audits (runs and trend)": lambda: client.get("/report"),
                "audit overview": lambda: client.get(base),
                "team": lambda: client.get(f"{base}/team", params={"team": "Children in Care"}),
                "records, worst first (50)": lambda: client.get(f"{base}/records"),
                "records, filtered": lambda: client.get(
                    f"{base}/records", params={"grade": "inadequate", "category": "vague_action", "sort": "-findings"}
                ),
                "one record (29 findings)": lambda: client.get(f"{base}/records/S-PLAN-CP-02-37"),
                "rule catalogue": lambda: client.get("/report/rules"),
            }
            for page in pages.values():
                assert page().status_code == 200  # type: ignore[attr-defined,no-untyped-call]
            timings = {name: _median_ms(page, options.repeats) for name, page in pages.items()}
        download_ms, size, grown = _download(create_app(url, auditor=auditor), plain, audit_id)
        engine.dispose()
    yardstick = next(iter(timings.values()))
    print(f"report pages on an audit of {options.records:,} records (SQLite), median of {options.repeats}:")
    for name, ms in timings.items():
        print(f"  {name:<42} {ms:8.1f} ms  {ms / yardstick:6.2f} x the API's summary")
    print(
        f"  {'HTML download':<42} {download_ms:8.1f} ms  {size / 1e6:.1f} MB; "
        f"resident memory grew by at most {grown / 1024:.0f} MB while sending it"
    )


if __name__ == "__main__":
    main()

"""Load benchmark: `python -m api.loadbench`. Starts the service (`auditor serve`) in its own
processes on loopback, with a fresh SQLite database, and drives it from this process: records
per second and p50/p95 latency for single-record and 100-record requests at concurrency 1, 8
and 32. Target (issue 4): p95 under 100 ms for a single 300-word record at concurrency 8."""

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"


def _samples() -> list[dict[str, Any]]:
    if SAMPLES.is_file():
        return [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    raise SystemExit(f"{SAMPLES}: the sample records are needed (run from a source checkout)")


def record_of_words(words: int) -> dict[str, Any]:
    """A CP plan of about `words` words, cut from the sample plans at a line break."""
    lines: list[str] = []
    count = 0
    for sample in _samples():
        if sample["record_type"] != "plan":
            continue
        for line in sample["text"].splitlines():
            if count >= words:
                break
            lines.append(line)
            count += len(line.split())
    return {"id": "load", "record_type": "plan", "plan_type": "cp", "team": "Load", "text": "\n".join(lines)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_service(env: dict[str, str], port: int, workers: int = 1, seconds: float = 120) -> subprocess.Popen[bytes]:
    """`auditor serve` in its own process(es) on loopback, returned once it answers /readyz."""
    server = subprocess.Popen(
        [sys.executable, "-m", "auditor.cli", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("the service did not start")
        time.sleep(0.1)


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a prepared request and reads the answer:
    what wrk and hey do, in a few lines. The driver shares the machine's two cores with the
    service, and httpx spent about 2.5 ms of CPU per request here, this about a tenth of that,
    so the figures measure the service rather than the client."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "Connection":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def send(self, request: bytes) -> int:
        """Send one request and read its whole answer; return the status."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("the service answered without a Content-Length")
        await self.reader.readexactly(length)
        return int(status_line.split(" ", 2)[1])

    def close(self) -> None:
        self.writer.close()


def prepared(port: int, key: str, body: dict[str, Any]) -> bytes:
    """The bytes of one `POST /v1/audits` with `body`."""
    content = json.dumps(body).encode()
    head = (
        f"POST /v1/audits HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
    )
    return head.encode() + content


async def _scenario(port: int, request: bytes, records: int, concurrency: int, requests: int) -> dict[str, Any]:
    # Connections of its own (the service closes one idle for 5 s), opened before the clock starts.
    connections = [await Connection.open(port) for _ in range(concurrency)]
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(requests):
        queue.put_nowait(n)

    async def user(connection: Connection) -> None:
        nonlocal failures
        while not queue.empty():
            queue.get_nowait()
            started = time.perf_counter()
            status = await connection.send(request)
            latencies.append(time.perf_counter() - started)
            failures += status != 201

    started = time.perf_counter()
    try:
        await asyncio.gather(*(user(connection) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "records_per_request": records,
        "concurrency": concurrency,
        "requests": requests,
        "failures": failures,
        "records_per_second": round(requests * records / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * latencies[max(0, int(0.95 * len(latencies)) - 1)], 1),
    }


async def _drive(
    port: int, key: str, single: dict[str, Any], batch: list[dict[str, Any]], scale: float
) -> list[dict[str, Any]]:
    results = []
    one, hundred = prepared(port, key, {"records": [single]}), prepared(port, key, {"records": batch})
    await _scenario(port, one, 1, 4, 20)  # warm-up: the engine's caches
    for records, request, base_requests in ((1, one, 200), (100, hundred, 12)):
        for concurrency in (1, 8, 32):
            requests = max(concurrency, int(base_requests * scale), 4)
            results.append(await _scenario(port, request, records, concurrency, requests))
    return results


def run(workers: int, scale: float, model: bool, database_url: str | None = None) -> list[dict[str, Any]]:
    single = record_of_words(300)
    samples = _samples()
    batch = [{**samples[n % len(samples)], "id": f"load-{n}"} for n in range(100)]
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "AUDITOR_DATA_DIR": data}
        env.pop("AUDITOR_DATABASE_URL", None)
        if database_url:
            env["AUDITOR_DATABASE_URL"] = database_url
        if not model:
            env["AUDITOR_MODEL"] = "off"
        made = subprocess.run(
            [sys.executable, "-m", "auditor.cli", "keys", "create", "--role", "auditor", "--name", "loadbench"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = made.stdout.strip().splitlines()[-1]
        port = free_port()
        server = start_service({**env, "AUDITOR_SYNC_LIMIT": "100"}, port, workers)
        try:
            return asyncio.run(_drive(port, key, single, batch, scale))
        finally:
            server.terminate()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="scoring processes (default 2: one per core here)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of requests per scenario")
    parser.add_argument("--no-model", action="store_true", help="run the service with the rules alone")
    parser.add_argument(
        "--database-url", help="store in this database (default: a fresh SQLite file); its audits are kept"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(args.workers, args.scale, not args.no_model, args.database_url)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"service: 1 process and {args.workers} scoring process(es), {'rules only' if args.no_model else 'rules and classifier'}, "
        f"{'a fresh SQLite file' if not args.database_url else 'the given database'}"
    )
    print(
        f"{'records/request':>15} {'concurrency':>11} {'requests':>8} {'records/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'failed':>6}"
    )
    for r in results:
        print(
            f"{r['records_per_request']:>15} {r['concurrency']:>11} {r['requests']:>8} {r['records_per_second']:>10} "
            f"{r['p50_ms']:>8} {r['p95_ms']:>8} {r['failures']:>6}"
        )


if __name__ == "__main__":
    main()

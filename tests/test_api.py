"""The audit service over HTTP: keys, submission, scoped reads, bad input, on SQLite and (when
AUDITOR_TEST_DATABASE_URL is set) on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.db import AccessLog, Audit, AuditRecord, make_engine, migrate
from api.keys import Role, create_key
from auditor.engine import Auditor
from auditor.records import MAX_TEXT_CHARS, Record

AUDITOR = Auditor()  # shared: loading the rules and the model once keeps the suite quick


class Service:
    """The app on a database, started (its lifespan entered), with helpers for keys and counts."""

    def __init__(self, url: str, auditor: Auditor | None = None, sync_limit: int | None = None) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self.client = TestClient(create_app(url, auditor=auditor or AUDITOR, sync_limit=sync_limit))
        self.client.__enter__()

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.engine.dispose()

    def key(self, role: Role, teams: list[str] | None = None) -> dict[str, str]:
        with Session(self.engine) as s:
            key, _row = create_key(s, role, f"test {role}", teams)
            s.commit()
        return {"Authorization": f"Bearer {key}"}

    def count(self, table: Any) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(func.count()).select_from(table)) or 0


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    running = Service(database_url)
    yield running
    running.close()


def _records(*teams: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"r{n}",
            "record_type": "plan",
            "plan_type": "cp",
            "team": team,
            "worker": f"w{n}",
            "text": "Actions\n- Mum to engage with services.\n- SW to visit weekly.",
        }
        for n, team in enumerate(teams)
    ]


def test_health_and_readiness(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["versions"]["model"] == AUDITOR.models.version  # type: ignore[union-attr]


def test_every_v1_endpoint_needs_a_live_key(service: Service) -> None:
    for path in ("/v1/rules", "/v1/rules/TS001", "/v1/audits", "/v1/audits/x", "/v1/audits/x/records"):
        assert service.client.get(path).status_code == 401
        assert service.client.get(path, headers={"Authorization": "Bearer aud_wrong"}).status_code == 401
    assert service.client.post("/v1/audits", json={"records": _records("A")}).status_code == 401


def test_the_rule_catalogue_carries_citations(service: Service) -> None:
    headers = service.key(Role.auditor)
    rules = service.client.get("/v1/rules", headers=headers).json()
    assert {r["id"] for r in rules} == {r.id for r in AUDITOR.rules}
    one = service.client.get("/v1/rules/ts001", headers=headers).json()
    assert one["category"] == "missing_timescale" and one["feedback"] == {"agree": 0, "disagree": 0}
    assert (
        one["citation"]["words"] == AUDITOR.rules.by_id["TS001"].citation.words
        and "Ofsted" in one["citation"]["source"]
    )
    assert "examples" not in one and {k: v for k, v in one.items() if k != "feedback"} == (
        AUDITOR.rules.by_id["TS001"].catalogue()
    )
    assert service.client.get("/v1/rules/XX999", headers=headers).status_code == 404


def test_a_submitted_batch_is_scored_stored_and_read_back(service: Service) -> None:
    headers = service.key(Role.auditor)
    response = service.client.post("/v1/audits", json={"records": _records("A", "B")}, headers=headers)
    assert response.status_code == 201
    body = response.json()
    expected = [AUDITOR.audit(Record(**r)) for r in _records("A", "B")]
    assert [r["score"] for r in body["results"]] == [e.score for e in expected]
    assert [[f["rule_id"] for f in r["findings"]] for r in body["results"]] == [
        [f.rule_id for f in e.findings] for e in expected
    ]
    listed = service.client.get("/v1/audits", headers=headers).json()["items"]
    assert [a["id"] for a in listed] == [body["id"]]
    again = service.client.get(f"/v1/audits/{body['id']}", headers=headers).json()
    assert again["records"] == 2 and again["grades"] == body["grades"]
    records = service.client.get(f"/v1/audits/{body['id']}/records", headers=headers, params={"team": "B"}).json()
    assert records["total"] == 1 and records["items"][0]["team"] == "B"
    vague = service.client.get(
        f"/v1/audits/{body['id']}/records", headers=headers, params={"category": "vague_action"}
    ).json()
    assert vague["total"] == sum(1 for e in expected if any(f.category.value == "vague_action" for f in e.findings))


def test_a_manager_reads_only_their_teams(service: Service) -> None:
    auditor = service.key(Role.auditor)
    manager_a = service.key(Role.manager, ["A"])
    mixed = service.client.post("/v1/audits", json={"records": _records("A", "B")}, headers=auditor).json()
    only_b = service.client.post("/v1/audits", json={"records": _records("B", "B")}, headers=auditor).json()
    listed = service.client.get("/v1/audits", headers=manager_a).json()["items"]
    assert [a["id"] for a in listed] == [mixed["id"]] and listed[0]["records"] == 1
    assert service.client.get(f"/v1/audits/{only_b['id']}", headers=manager_a).status_code == 404
    assert service.client.get(f"/v1/audits/{only_b['id']}/records", headers=manager_a).status_code == 404
    records = service.client.get(f"/v1/audits/{mixed['id']}/records", headers=manager_a).json()
    assert {r["team"] for r in records["items"]} == {"A"}
    team_b = service.client.get(f"/v1/audits/{mixed['id']}/records", headers=manager_a, params={"team": "B"}).json()
    assert team_b["total"] == 0
    assert service.client.post("/v1/audits", json={"records": _records("A")}, headers=manager_a).status_code == 403
    with Session(service.engine) as s:
        logged = s.scalars(select(AccessLog.audit_id).where(AccessLog.action == "read_audit")).all()
    assert mixed["id"] in logged


def test_an_admin_manages_keys_over_the_api_and_nobody_else_may(service: Service) -> None:
    admin = service.key(Role.admin)
    auditor = service.key(Role.auditor)
    made = service.client.post("/v1/keys", json={"role": "manager", "name": "Ann", "teams": ["A"]}, headers=admin)
    assert made.status_code == 201
    key, number = made.json()["key"], made.json()["id"]
    listed = service.client.get("/v1/keys", headers=admin).json()
    assert {"id": number, "role": "manager", "teams": ["A"], "name": "Ann"}.items() <= next(
        k for k in listed if k["id"] == number
    ).items()
    assert key not in str(listed)  # a key is shown once, when made
    assert service.client.get("/v1/audits", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert (
        service.client.post("/v1/keys", json={"role": "manager", "name": "no team"}, headers=admin).status_code == 422
    )
    for path in ("/v1/keys",):
        assert service.client.get(path, headers=auditor).status_code == 403
    assert service.client.post("/v1/keys", json={"role": "admin", "name": "x"}, headers=auditor).status_code == 403
    assert service.client.delete(f"/v1/keys/{number}", headers=auditor).status_code == 403
    assert service.client.delete(f"/v1/keys/{number}", headers=admin).json() == {"id": number, "revoked": True}
    assert service.client.get("/v1/audits", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert service.client.delete(f"/v1/keys/{number}", headers=admin).status_code == 404


def test_an_admin_key_reads_no_audit(service: Service) -> None:
    auditor = service.key(Role.auditor)
    made = service.client.post("/v1/audits", json={"records": _records("A")}, headers=auditor).json()
    admin = service.key(Role.admin)
    assert service.client.get(f"/v1/audits/{made['id']}", headers=admin).status_code == 403
    assert service.client.get("/v1/audits", headers=admin).status_code == 403


def test_a_retried_submission_returns_the_first_audit(service: Service) -> None:
    headers = {**service.key(Role.auditor), "Idempotency-Key": "batch-1"}
    first = service.client.post("/v1/audits", json={"records": _records("A")}, headers=headers)
    second = service.client.post("/v1/audits", json={"records": _records("A")}, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert service.count(Audit) == 1
    other = service.client.post("/v1/audits", json={"records": _records("B")}, headers=headers)
    assert other.status_code == 409 and service.count(Audit) == 1


@pytest.mark.parametrize(
    ("records", "status", "field"),
    [
        ([{"id": "a1", "record_type": "memo", "text": "x"}], 422, "record_type"),
        ([{"id": "a1", "record_type": "plan", "text": "x", "recorded_at": "31.02.21"}], 422, "recorded_at"),
        (
            [{"id": "a1", "record_type": "plan", "text": "x"}, {"id": "a1", "record_type": "plan", "text": "y"}],
            422,
            "id",
        ),
        ([{"id": "a1", "record_type": "plan", "text": "x" * (MAX_TEXT_CHARS + 1)}], 422, "text"),
        ([], 422, None),
    ],
)
def test_bad_input_is_named_and_nothing_is_stored(
    service: Service, records: list[dict[str, Any]], status: int, field: str | None
) -> None:
    headers = service.key(Role.auditor)
    secret = "Sarah Smith lives at 1 High Street"
    for record in records:
        record["text"] = record["text"] if len(record["text"]) > 10 else secret
    response = service.client.post("/v1/audits", json={"records": records}, headers=headers)
    assert response.status_code == status
    assert secret not in response.text  # errors never echo record text
    if field is not None:
        problem = response.json()["errors"][-1]
        assert problem["record_id"] == "a1" and problem["field"] == field
    assert service.count(Audit) == 0 and service.count(AuditRecord) == 0


def test_wrong_content_type_too_many_records_and_bad_json(service: Service) -> None:
    headers = service.key(Role.auditor)
    form = service.client.post("/v1/audits", content=b"records=1", headers={**headers, "Content-Type": "text/plain"})
    assert form.status_code == 415
    # The key is checked before anything of the body: no key, a wrong one or a manager's comes first.
    plain = {"Content-Type": "text/plain", "Content-Length": str(10**9)}
    for caller, status in (
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        (service.key(Role.manager, ["A"]), 403),
    ):
        assert service.client.post("/v1/audits", content=b"x", headers={**caller, **plain}).status_code == status
    broken = service.client.post(
        "/v1/audits", content=b'{"records": [', headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    many = [{"id": f"r{n}", "record_type": "plan", "text": "x"} for n in range(5_001)]
    assert service.client.post("/v1/audits", json={"records": many}, headers=headers).status_code == 422
    assert service.count(Audit) == 0


def test_a_revoked_key_stops_working(service: Service) -> None:
    from api.db import ApiKey
    from api.keys import revoke_key

    headers = service.key(Role.auditor)
    assert service.client.get("/v1/rules", headers=headers).status_code == 200
    with Session(service.engine) as s:
        key_id = s.scalars(select(ApiKey.id)).one()
        assert revoke_key(s, key_id)
        s.commit()
    assert service.client.get("/v1/rules", headers=headers).status_code == 401


def test_migrations_run_twice_without_harm(service: Service) -> None:
    migrate(service.engine)
    assert service.client.get("/readyz").status_code == 200


def test_the_api_reference_is_served_without_outside_requests(service: Service) -> None:
    import re

    schema = service.client.get("/openapi.json").json()
    page = service.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for path in schema["paths"]:
        assert f"<code>{path}</code>" in page.text
    # Nothing is loaded from elsewhere: no script at all, and every link stays on the service.
    assert "<script" not in page.text
    assert all(
        not url.startswith(("http:", "https:", "//")) for url in re.findall(r'(?:src|href)="([^"]*)"', page.text)
    )
    assert service.client.get("/redoc").status_code == 404


def test_sample_records_are_scored_once(database_url: str) -> None:
    from api.app import load_samples

    engine = make_engine(database_url)
    migrate(engine)
    samples = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
    first, created = load_samples(engine, AUDITOR, samples)
    again, created_again = load_samples(engine, AUDITOR, samples)
    assert created and not created_again and first == again
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == len(samples.read_text().splitlines())
    engine.dispose()


def test_keys_are_created_printed_once_and_revoked_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "AUDITOR_DATA_DIR": str(tmp_path), "AUDITOR_MODEL": "off"}
    env.pop("AUDITOR_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "auditor.cli", *args], capture_output=True, text=True, env=env)

    made = run("keys", "create", "--role", "manager", "--team", "Team A", "--name", "Ann")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("aud_") and len(key) > 40
    engine = make_engine(f"sqlite:///{tmp_path / 'auditor.db'}")
    with Session(engine) as s:
        from api.db import ApiKey
        from api.keys import find_key

        found = find_key(s, key)
        assert found is not None and [t.team for t in found.teams] == ["Team A"]
        assert key not in {row.digest for row in s.scalars(select(ApiKey))}  # only its digest is stored
        key_id = found.id
    assert run("keys", "create", "--role", "manager", "--name", "no team").returncode == 2
    assert run("keys", "create", "--role", "owner", "--name", "x").returncode == 2
    listed = run("keys", "list")
    assert listed.returncode == 0 and "Team A" in listed.stdout and "Ann" in listed.stdout and key not in listed.stdout
    assert run("keys", "revoke", str(key_id)).returncode == 0
    assert run("keys", "revoke", str(key_id)).returncode == 2
    assert "revoked" in run("keys", "list").stdout
    env["AUDITOR_DATABASE_URL"] = "postgresql://nobody:hunter2@127.0.0.1:1/nowhere"
    unreachable = run("keys", "list")
    assert unreachable.returncode == 2 and "cannot be reached" in unreachable.stderr
    assert "hunter2" not in unreachable.stderr and "Traceback" not in unreachable.stderr
    with Session(engine) as s:
        assert find_key(s, key) is None
    engine.dispose()


def _sample_batch(copies: int) -> list[dict[str, Any]]:
    import json

    path = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
    samples = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [{**r, "id": f"{r['id']}-{n}"} for n in range(copies) for r in samples]


def _wait(condition: Any, seconds: float = 60.0) -> Any:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


RULES_ONLY = Auditor(rules=AUDITOR.rules, nlp=AUDITOR.nlp, models=None)


class _Broken(Auditor):
    """An engine that fails on every batch, as a bug would."""

    def audit_many(self, records: Any, batch_size: int = 64) -> Any:
        raise RuntimeError("engine fault")


BROKEN = _Broken(rules=AUDITOR.rules, nlp=AUDITOR.nlp, models=None)


def _stored_once(engine: Any, audit_id: str, batch: list[dict[str, Any]], reference: Auditor = AUDITOR) -> None:
    """Every record of the audit scored, each exactly once, with what `auditor check` finds."""
    from api.db import FindingRow

    with Session(engine) as s:
        rows = {r.record_id: r for r in s.scalars(select(AuditRecord).where(AuditRecord.audit_id == audit_id))}
        assert len(rows) == len(batch) and all(r.score is not None for r in rows.values())
        findings = s.execute(
            select(AuditRecord.record_id, FindingRow.rule_id, FindingRow.start, FindingRow.end)
            .join(FindingRow, FindingRow.audit_record_id == AuditRecord.id)
            .where(AuditRecord.audit_id == audit_id)
        ).all()
    stored: dict[str, list[tuple[str, int, int]]] = {}
    for record_id, rule_id, start, end in findings:
        stored.setdefault(record_id, []).append((rule_id, start, end))
    for item in batch[:36] + batch[-36:]:  # every sample record, in the first and the last copy
        expected = reference.audit(Record(**item))
        assert rows[item["id"]].score == expected.score
        assert sorted(stored.get(item["id"], [])) == sorted((f.rule_id, f.start, f.end) for f in expected.findings)
    assert sum(len(v) for v in stored.values()) == len(set(findings))  # no finding stored twice


def test_a_large_batch_is_stored_answered_202_and_scored_by_the_worker(database_url: str) -> None:
    service = Service(database_url, sync_limit=10)
    headers = service.key(Role.auditor)
    batch = _sample_batch(2)
    response = service.client.post("/v1/audits", json={"records": batch}, headers=headers)
    assert response.status_code == 202
    location = response.headers["location"]
    assert response.json()["status"] in ("queued", "running", "done") and "results" not in response.json()
    assert _wait(lambda: service.client.get(location, headers=headers).json()["status"] == "done")
    assert service.client.get(location, headers=headers).json()["records"] == len(batch)
    _stored_once(service.engine, location.rsplit("/", 1)[1], batch)
    service.close()


def test_a_job_that_cannot_be_scored_fails_and_says_where_without_text(database_url: str) -> None:
    service = Service(database_url, auditor=BROKEN, sync_limit=1)
    headers = service.key(Role.auditor)
    made = service.client.post("/v1/audits", json={"records": _records("A", "B")}, headers=headers)
    assert made.status_code == 202
    url = made.headers["location"]
    audit = _wait(lambda: (a := service.client.get(url, headers=headers).json())["status"] == "failed" and a)
    assert "RuntimeError" in audit["error"] and "'r0'" in audit["error"]
    assert "engage" not in audit["error"]
    service.close()


class _Leaky(Auditor):
    """An engine whose error message carries the record's text, as a careless bug's would."""

    def audit_many(self, records: Any, batch_size: int = 64) -> Any:
        raise RuntimeError(f"cannot score {next(iter(records)).text!r}")


def test_an_unexpected_error_is_a_500_whose_log_names_only_its_kind(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    service = Service(database_url, auditor=_Leaky(rules=AUDITOR.rules, nlp=AUDITOR.nlp, models=None))
    secret = "Mum to engage with Kayleigh's school"
    record = {"id": "r1", "record_type": "plan", "text": secret}
    with caplog.at_level(logging.DEBUG):
        # The test client raises any error that leaves the app: none does, and none is logged whole.
        answer = service.client.post("/v1/audits", json={"records": [record]}, headers=service.key(Role.auditor))
    assert answer.status_code == 500 and answer.json() == {"error": "internal", "message": "internal error"}
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "internal error: RuntimeError" in logged and "Kayleigh" not in logged
    assert service.count(Audit) == 0
    service.close()


def test_a_killed_service_resumes_its_job_and_scores_every_record_once(database_url: str, tmp_path: Path) -> None:
    import signal

    import httpx

    from api.loadbench import free_port, start_service

    port = free_port()
    env = {
        **os.environ,
        "AUDITOR_DATABASE_URL": database_url,
        "AUDITOR_SYNC_LIMIT": "10",
        "AUDITOR_MODEL": "off",  # the rules alone: the job still takes seconds, and the check below is exact
    }
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as s:
        key, _row = create_key(s, Role.auditor, "jobs")
        s.commit()

    def scored(audit_id: str) -> int:
        with Session(engine) as s:
            return (
                s.scalar(select(func.count()).where(AuditRecord.audit_id == audit_id, AuditRecord.score.is_not(None)))
                or 0
            )

    batch = _sample_batch(40)  # 1,440 records
    process = start_service(env, port)
    try:
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/audits",
            json={"records": batch},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 202
        audit_id = response.json()["id"]
        _wait(lambda: scored(audit_id) > 0)
        scorers = _scoring_processes(process.pid)
        assert scorers
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        partly = scored(audit_id)
        _wait(lambda: not any(_alive(pid) for pid in scorers), 30)  # the orphaned scorers stop too
        assert 0 < partly < len(batch), "the job should have been killed part way"
        with Session(engine) as s:
            assert s.get(Audit, audit_id).status == "running"  # type: ignore[union-attr]
        process = start_service(env, port)  # the worker resumes the job at start-up
        _wait(lambda: scored(audit_id) == len(batch), 300)
        with Session(engine) as s:
            _wait(lambda: s.get(Audit, audit_id, populate_existing=True).status == "done")  # type: ignore[union-attr]
    finally:
        process.kill()
        process.wait(30)
    _stored_once(engine, audit_id, batch, RULES_ONLY)
    engine.dispose()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not collected it


def _scoring_processes(service_pid: int) -> set[int]:
    """The service's scoring processes: its children started by multiprocessing's spawn (not its
    resource tracker)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if parent == service_pid and any(b"spawn_main" in part for part in command):
            found.add(int(stat.parent.name))
    return found


def test_a_killed_scoring_process_is_replaced_and_no_request_is_half_stored(database_url: str, tmp_path: Path) -> None:
    import signal

    import httpx

    from api.loadbench import free_port, start_service

    port = free_port()
    env = {**os.environ, "AUDITOR_DATABASE_URL": database_url, "AUDITOR_MODEL": "off"}
    engine = make_engine(database_url)
    migrate(engine)
    with Session(engine) as s:
        key, _row = create_key(s, Role.auditor, "scorers")
        s.commit()
    headers = {"Authorization": f"Bearer {key}"}
    process = start_service(env, port, workers=2)
    try:
        scorers = _scoring_processes(process.pid)
        assert len(scorers) == 2
        service_audits = 0
        with Session(engine) as s:
            before = s.scalar(select(func.count()).select_from(Audit)) or 0
        os.kill(min(scorers), signal.SIGKILL)
        statuses = []
        for n in range(30):
            answer = httpx.post(
                f"http://127.0.0.1:{port}/v1/audits",
                json={"records": [{**r, "id": f"{r['id']}-{n}"} for r in _records("A", "B")]},
                headers=headers,
                timeout=60,
            )
            statuses.append(answer.status_code)
            if answer.status_code == 503:
                assert answer.json()["error"] == "scoring_unavailable" and answer.headers["Retry-After"]
            else:
                assert answer.status_code == 201, answer.text
                service_audits += 1
            if statuses[-3:] == [201, 201, 201]:
                break
        assert statuses[-3:] == [201, 201, 201], statuses
        assert set(statuses) <= {201, 503}

        # The broken pool's survivor is stopped, and the new pool has all its processes.
        def renewed() -> set[int] | None:
            now = _scoring_processes(process.pid)
            return now if len(now) == 2 and not now & scorers else None

        assert _wait(renewed)
        with Session(engine) as s:  # a refused request stored nothing
            assert (s.scalar(select(func.count()).select_from(Audit)) or 0) == before + service_audits
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(30)
    engine.dispose()


def test_the_access_log_names_the_request_but_never_its_query(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    client = TestClient(create_app(database_url, auditor=AUDITOR, access_log=True))
    with client:
        with Session(make_engine(database_url)) as s:
            key, _row = create_key(s, Role.auditor, "logged")
            s.commit()
        headers = {"Authorization": f"Bearer {key}"}
        audit = client.post("/v1/audits", json={"records": _records("Team Jane Doe")}, headers=headers).json()
        with caplog.at_level(logging.INFO, logger="uvicorn.error"):
            client.get(f"/v1/audits/{audit['id']}/records?worker=Jane%20Doe&team=Team%20Jane%20Doe", headers=headers)
            client.get("/v1/audits/no-such-audit", headers=headers)
            client.get("/v1/audits/forged%0AINFO:%20line", headers=headers)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.error"]
    assert any("GET /v1/audits/forged%0AINFO:%20line 404 " in line for line in lines), lines
    assert not any("\n" in line for line in lines)  # a decoded line break could forge a log line
    assert any(f"GET /v1/audits/{audit['id']}/records 200 " in line for line in lines), lines
    assert any("GET /v1/audits/no-such-audit 404 " in line for line in lines), lines
    assert not any("Jane" in line or "worker=" in line for line in lines)


def _formula_records() -> list[dict[str, Any]]:
    return [
        {
            "id": "=HYPERLINK(1)",
            "record_type": "plan",
            "plan_type": "cp",
            "team": "@A",
            "worker": "+w",
            "text": "Actions\n- Mum to engage with services.",
        },
        {
            "id": "r-clean",
            "record_type": "plan",
            "plan_type": "cp",
            "team": "A",
            "text": "Actions\n- SW to visit weekly.",
        },
    ]


def test_exports_have_a_row_per_finding_and_no_cell_runs_as_a_formula(service: Service) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    from api.exports import EXPORT_COLUMNS

    headers = service.key(Role.auditor)
    made = service.client.post("/v1/audits", json={"records": _formula_records()}, headers=headers).json()
    expected = sum(max(1, len(r["findings"])) for r in made["results"])
    answer = service.client.get(f"/v1/audits/{made['id']}/export.csv", headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == EXPORT_COLUMNS and len(rows) - 1 == expected
    book = load_workbook(
        io.BytesIO(service.client.get(f"/v1/audits/{made['id']}/export.xlsx", headers=headers).content)
    )
    sheet = [[("" if c is None else str(c)) for c in row] for row in book["findings"].iter_rows(values_only=True)]
    assert sheet[0] == EXPORT_COLUMNS and len(sheet) - 1 == expected
    for table in (rows[1:], sheet[1:]):
        cells = [c for row in table for c in row]
        assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
        assert "'=HYPERLINK(1)" in cells and "'@A" in cells and "'+w" in cells
    first = dict(zip(EXPORT_COLUMNS, rows[1], strict=True))
    assert first["rule_id"] and first["citation"] and first["score"] == str(made["results"][0]["score"])


def test_feedback_is_stored_counted_per_rule_and_exported(service: Service) -> None:
    import csv
    import io

    headers = service.key(Role.auditor)
    made = service.client.post("/v1/audits", json={"records": _records("A")}, headers=headers).json()
    finding = made["results"][0]["findings"][0]
    url = f"/v1/findings/{finding['finding_id']}/feedback"
    other = service.key(Role.auditor)
    for _ in range(3):  # one opinion per key: posting again replaces it, and counts are not inflated
        assert service.client.post(url, json={"agree": True}, headers=headers).status_code == 201
    said = {"agree": False, "comment": "Mum's engagement is defined"}
    assert service.client.post(url, json=said, headers=other).status_code == 201
    assert service.client.post(url, json={"agree": "maybe"}, headers=headers).status_code == 422
    assert service.client.post("/v1/findings/999999/feedback", json={"agree": True}, headers=headers).status_code == 404
    rule = service.client.get(f"/v1/rules/{finding['rule_id']}", headers=headers).json()
    assert rule["feedback"] == {"agree": 1, "disagree": 1}
    listed = {r["id"]: r["feedback"] for r in service.client.get("/v1/rules", headers=headers).json()}
    assert listed[finding["rule_id"]] == {"agree": 1, "disagree": 1}
    assert sum(v["agree"] + v["disagree"] for v in listed.values()) == 2
    text = service.client.get(f"/v1/audits/{made['id']}/export.csv", headers=headers).content.decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["finding_id"] == str(finding["finding_id"]))
    assert (row["feedback_agree"], row["feedback_disagree"]) == ("1", "1")
    assert row["feedback_comments"] == "disagree: Mum's engagement is defined"  # each comment, with its view
    assert service.client.post(url, json={"agree": False}, headers=headers).status_code == 201  # a change of mind
    assert service.client.get(f"/v1/rules/{finding['rule_id']}", headers=headers).json()["feedback"] == {
        "agree": 0,
        "disagree": 2,
    }


def test_a_manager_of_team_a_reaches_nothing_of_team_b_through_any_endpoint(service: Service) -> None:
    auditor = service.key(Role.auditor)
    manager_a = service.key(Role.manager, ["A"])
    mixed = service.client.post("/v1/audits", json={"records": _records("A", "B")}, headers=auditor).json()
    only_b = service.client.post("/v1/audits", json={"records": _records("B")}, headers=auditor).json()
    b_finding = next(r for r in mixed["results"] if r["team"] == "B")["findings"][0]["finding_id"]
    a_finding = next(r for r in mixed["results"] if r["team"] == "A")["findings"][0]["finding_id"]
    for path in (
        f"/v1/audits/{only_b['id']}",
        f"/v1/audits/{only_b['id']}/records",
        f"/v1/audits/{only_b['id']}/export.csv",
        f"/v1/audits/{only_b['id']}/export.xlsx",
    ):
        assert service.client.get(path, headers=manager_a).status_code == 404, path
    assert (
        service.client.post(f"/v1/findings/{b_finding}/feedback", json={"agree": True}, headers=manager_a).status_code
        == 404
    )
    assert (
        service.client.post(f"/v1/findings/{a_finding}/feedback", json={"agree": True}, headers=manager_a).status_code
        == 201
    )
    seen = service.client.get(f"/v1/audits/{mixed['id']}/export.csv", headers=manager_a).content.decode("utf-8-sig")
    assert ",A," in seen and ",B," not in seen
    summary = service.client.get(f"/v1/audits/{mixed['id']}", headers=manager_a).json()
    assert summary["records"] == 1
    everything = str(service.client.get("/v1/audits", headers=manager_a).json())
    assert only_b["id"] not in everything


def test_metrics_count_requests_records_and_findings(service: Service) -> None:
    headers = service.key(Role.auditor)
    made = service.client.post("/v1/audits", json={"records": _records("A", "B")}, headers=headers).json()
    service.client.get(f"/v1/audits/{made['id']}", headers=headers)
    text = service.client.get("/metrics").text
    assert 'auditor_records_scored_total{path="request"} 2.0' in text
    findings = sum(len(r["findings"]) for r in made["results"])
    counted = sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("auditor_findings_total{")
    )
    assert counted == findings
    assert 'route="/v1/audits/{audit_id}",status="200"' in text  # the route's template, never an id
    assert made["id"] not in text
    assert "auditor_jobs_unfinished 0.0" in text


def test_simultaneous_retries_store_one_audit_and_none_fails(service: Service) -> None:
    from concurrent.futures import ThreadPoolExecutor

    headers = {**service.key(Role.auditor), "Idempotency-Key": "same-batch"}
    batch = {"records": _records("A", "B", "C")}
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _n: service.client.post("/v1/audits", json=batch, headers=headers), range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201}, statuses
    assert len({a.json()["id"] for a in answers}) == 1 and service.count(Audit) == 1


def test_the_load_benchmark_runs_every_scenario_without_failures() -> None:
    from api.loadbench import record_of_words, run

    assert 290 <= len(record_of_words(300)["text"].split()) <= 330
    results = run(workers=1, scale=0.02, model=False)  # a smoke run: the figures are the README's
    assert [(r["records_per_request"], r["concurrency"]) for r in results] == [
        (n, c) for n in (1, 100) for c in (1, 8, 32)
    ]
    assert all(r["failures"] == 0 and r["records_per_second"] > 0 and r["p95_ms"] >= r["p50_ms"] for r in results)


def test_a_body_over_the_limit_is_refused_413_and_nothing_is_stored(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.app

    monkeypatch.setattr(api.app, "MAX_BODY_BYTES", 2_000)
    headers = service.key(Role.auditor)
    big = [{"id": "a1", "record_type": "plan", "text": "Mum to engage. " * 200}]
    answer = service.client.post("/v1/audits", json={"records": big}, headers=headers)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    assert "engage" not in answer.text and service.count(Audit) == 0
    small = service.client.post("/v1/audits", json={"records": _records("A")}, headers=headers)
    assert small.status_code == 201


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"text": "Mum to engage.\x00"}, "text"),
        ({"team": "Team\x00A"}, "team"),
        ({"team": "T" * 201}, "team"),
        ({"la_code": "E" * 21}, "la_code"),
    ],
)
def test_text_the_database_cannot_hold_is_refused_by_name(service: Service, record: dict[str, Any], field: str) -> None:
    headers = service.key(Role.auditor)
    item = {"id": "n1", "record_type": "plan", "text": "Mum to engage.", **record}
    answer = service.client.post("/v1/audits", json={"records": [item]}, headers=headers)
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field
    assert "engage" not in answer.text and service.count(Audit) == 0


def test_unreadable_json_paths_and_parameters_are_4xx_and_never_echoed(service: Service) -> None:
    headers = {**service.key(Role.auditor), "Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    assert service.client.post("/v1/audits", content=deep, headers=headers).status_code == 400
    long_number = b'{"records": [' + b"9" * 5_000 + b"]}"
    assert service.client.post("/v1/audits", content=long_number, headers=headers).status_code == 400
    assert service.client.get("/v1/audits/x%00y", headers=headers).status_code == 400
    assert service.client.get("/v1/audits/x/records?team=%00", headers=headers).status_code == 400
    made = service.client.post("/v1/audits", json={"records": _records("A")}, headers=headers).json()
    finding = made["results"][0]["findings"][0]["finding_id"]
    secret = "Sarah Smith of 1 High Street " * 100
    answer = service.client.post(
        f"/v1/findings/{finding}/feedback", json={"agree": True, "comment": secret}, headers=headers
    )
    assert (
        answer.status_code == 422
        and "Sarah" not in answer.text
        and answer.json()["errors"][0]["field"].endswith("comment")
    )
    refused = service.client.get("/v1/audits")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    assert refused.headers["www-authenticate"] == "Bearer"


def test_a_managers_view_of_a_job_counts_only_their_teams(database_url: str) -> None:
    service = Service(database_url, auditor=BROKEN, sync_limit=1)
    auditor, manager = service.key(Role.auditor), service.key(Role.manager, ["A"])
    made = service.client.post("/v1/audits", json={"records": _records("B", "A", "B")}, headers=auditor)
    url = made.headers["location"]
    _wait(lambda: service.client.get(url, headers=auditor).json()["status"] == "failed")
    seen = service.client.get(url, headers=manager).json()
    assert seen["records"] == 1 and seen["progress"] == {"scored": 0, "total": 1}
    assert "'r0'" not in seen["error"] and "r0" not in str(seen)
    full = service.client.get(url, headers=auditor).json()
    assert full["progress"] == {"scored": 0, "total": 3} and "'r0'" in full["error"]
    service.close()


def test_migration_0004_keeps_each_keys_latest_opinion(database_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(database_url)
    migrate(engine, "0003")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO api_keys (id, name, role, prefix, digest, created_at) VALUES (1, 'k', 'auditor', 'p', 'd', CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO audits (id, created_at, submitted_by, request_digest, status, record_count, versions) VALUES ('a', CURRENT_TIMESTAMP, 1, 'x', 'done', 1, '{}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO audit_records (id, audit_id, position, record_id, record_type, text) VALUES (1, 'a', 0, 'r', 'plan', 't')"
            )
        )
        c.execute(
            text(
                "INSERT INTO findings (id, audit_record_id, rule_id, category, severity, start, \"end\", text, message, suggestion, citation, source) VALUES (1, 1, 'TS001', 'missing_timescale', 'high', 0, 1, 't', 'm', 's', 'c', 'rule:TS001')"
            )
        )
        for n, agrees in ((1, True), (2, True), (3, False)):
            c.execute(
                text(
                    "INSERT INTO feedback (id, finding_id, rule_id, key_id, agrees, created_at) VALUES (:n, 1, 'TS001', 1, :a, CURRENT_TIMESTAMP)"
                ),
                {"n": n, "a": agrees},
            )
    migrate(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT id, agrees FROM feedback")).all() == [(3, False)]
    engine.dispose()


def test_serve_refuses_unreadable_samples_by_file_and_row_without_their_text(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    samples = tmp_path / "samples.jsonl"
    good = {"id": "s1", "record_type": "plan", "text": "SW to visit weekly."}
    samples.write_text(
        json.dumps(good) + "\n" + json.dumps({"id": "s2", "record_type": "memo", "text": "Sarah Smith"}) + "\n"
    )
    env = {**os.environ, "AUDITOR_DATA_DIR": str(tmp_path), "AUDITOR_MODEL": "off"}
    env.pop("AUDITOR_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "auditor.cli", "serve", "--port", "1", "--samples", str(samples)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "samples.jsonl" in done.stderr and "row 2" in done.stderr and "'s2'" in done.stderr
    assert "Sarah" not in done.stderr + done.stdout and "Traceback" not in done.stderr

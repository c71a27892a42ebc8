"""The audit service (issue 4): FastAPI over `auditor`, results kept in the database.

Every read is scoped in the database query: an auditor reads every audit, a manager only the
records of the teams their key was granted (an audit with none of those is "not found"), and an
admin key manages keys and reads nothing. Errors name the record id, its position and the
field, never the submitted text.
"""

import asyncio
import hashlib
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import exports
from api.db import (
    AccessLog,
    ApiKey,
    Audit,
    AuditRecord,
    Feedback,
    FindingRow,
    finding_values,
    make_engine,
    migrate,
    now,
    record_values,
    table,
    utc,
)
from api.feedback import save_feedback, visible_finding
from api.jobs import Worker, progress, unfinished
from api.keys import READERS, Role, create_key, find_key, revoke_key
from api.metrics import Metrics, MetricsMiddleware
from api.scope import audit_error, find_audit, visible_audits, visible_case_findings, visible_records
from api.scoring import Scoring, ScoringPool, ScoringUnavailable
from api.web import TEMPLATES, add_report
from auditor import __version__
from auditor.engine import Auditor
from auditor.findings import RecordResult, summarise, summary
from auditor.records import Record, nul_field
from auditor.rulebook import Rule

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_RECORDS = 5_000
MAX_OFFSET = 1_000_000_000  # paging beyond this is a mistake; databases' integers end at 2**63
MAX_ID = 2**31 - 1  # the ids are 32-bit integer columns on PostgreSQL
logger = logging.getLogger("uvicorn.error")  # uvicorn configures it; no record text is ever logged


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []
        self.headers = headers


def create_app(
    database_url: str | None = None,
    auditor: Auditor | None = None,
    sync_limit: int | None = None,
    scorers: int = 0,
    access_log: bool = False,
) -> FastAPI:
    """The service, on the database at `database_url` (default: `api.db.database_url()`). A
    batch of more than `sync_limit` records (default AUDITOR_SYNC_LIMIT, else 100) is stored and
    answered `202`; the job worker scores it. Records are scored by `scorers` processes (each
    with an engine built from the environment), or with none by `auditor` in this process."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url)
        migrate(engine)
        state["engine"] = engine
        state["sessions"] = sessionmaker(engine, expire_on_commit=False)
        state["auditor"] = auditor or Auditor()
        state["versions"] = state["auditor"].versions()
        state["sync_limit"] = sync_limit if sync_limit is not None else int(os.environ.get("AUDITOR_SYNC_LIMIT", "100"))
        pool = ScoringPool(scorers) if scorers else None
        if pool is not None:
            pool.start()
        scorer = state["scorer"] = pool or state["auditor"]
        # A request is scored off the event loop (health checks and reads are still answered).
        # Scoring in this process, one batch at a time, first come first served: threads competing
        # for the interpreter lock made the slowest requests several times slower. With a pool,
        # two requests per scoring process: one scored while the other is read or stored.
        state["requests"] = ThreadPoolExecutor(max_workers=2 * scorers or 1, thread_name_prefix="auditor-requests")
        worker = state["worker"] = Worker(engine, scorer, on_scored=state["metrics"].scored)
        worker.start()  # resumes any job a stopped process left unfinished
        yield
        worker.stop()
        state["requests"].shutdown(wait=True)
        if pool is not None:
            pool.shutdown()
        engine.dispose()

    app = FastAPI(
        title="auditor",
        version=__version__,
        description="Scores children's social care records for the recording weaknesses inspectors cite.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN; the service makes no outside request,
        # so /docs is rendered here from the same OpenAPI schema.
        docs_url=None,
        redoc_url=None,
    )

    def openapi() -> dict[str, Any]:
        """The generated schema, plus the body of POST /v1/audits (read by hand, so that a
        rejected record is named without its text being echoed)."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            batch = BatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(batch.pop("$defs", {}))
            components["BatchIn"] = batch
            schema["paths"]["/v1/audits"]["post"]["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    metrics = state["metrics"] = Metrics()
    app.add_middleware(ContainErrors)
    app.add_middleware(RefuseNul)
    app.add_middleware(MetricsMiddleware, metrics=metrics, access_log=access_log)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def prometheus() -> Response:
        """Prometheus metrics: requests, latency, records scored, findings, unfinished jobs."""
        metrics.jobs.set(len(unfinished(state["engine"])))
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(_docs_page(app.openapi()))

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError) -> JSONResponse:
        body: dict[str, Any] = {"error": error.code, "message": error.message}
        if error.errors:
            body["errors"] = error.errors
        return JSONResponse(body, status_code=error.status, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default answer echoes the input; this one names the field only.
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "error": e.get("msg", "invalid")}
            for e in error.errors()
        ]
        return JSONResponse(
            {"error": "invalid_request", "message": f"{len(problems)} problem(s)", "errors": problems},
            status_code=422,
        )

    add_report(app, state)  # after the API's error handlers: under /report, errors are pages

    def session() -> Iterator[Session]:
        with state["sessions"]() as s:
            yield s

    def caller(
        s: Annotated[Session, Depends(session)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
    ) -> ApiKey:
        return _key_of(s, credentials)

    def reader(key: Annotated[ApiKey, Depends(caller)]) -> ApiKey:
        if key.role not in READERS:
            raise ApiError(403, "forbidden", "this key may not read audits")
        return key

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        try:
            with state["engine"].connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # any database failure means not ready
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok", "versions": state["versions"]})

    @app.get("/v1/rules", tags=["rules"])
    def rules(
        _key: Annotated[ApiKey, Depends(caller)], s: Annotated[Session, Depends(session)]
    ) -> list[dict[str, Any]]:
        """The rule catalogue, with each rule's citation and how practitioners judged its findings."""
        counts = _feedback_counts(s)
        return [_rule(r, counts.get(r.id)) for r in state["auditor"].rules]

    @app.get("/v1/rules/{rule_id}", tags=["rules"])
    def rule(
        rule_id: str, _key: Annotated[ApiKey, Depends(caller)], s: Annotated[Session, Depends(session)]
    ) -> dict[str, Any]:
        found = state["auditor"].rules.by_id.get(rule_id.upper())
        if found is None:
            raise ApiError(404, "not_found", f"no rule {rule_id!r}")
        return _rule(found, _feedback_counts(s, found.id).get(found.id))

    @app.post("/v1/findings/{finding_id}/feedback", tags=["feedback"], status_code=201)
    def feedback(
        finding_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
        opinion: FeedbackIn,
        key: Annotated[ApiKey, Depends(reader)],
        s: Annotated[Session, Depends(session)],
    ) -> dict[str, Any]:
        """Agree or disagree with a finding, optionally with a comment (kept, counted per rule,
        exported)."""
        found = visible_finding(s, key, finding_id)
        if found is None:
            raise ApiError(404, "not_found", "no such finding, or it is not yours to read")
        row = save_feedback(s, key, found, opinion.agree, opinion.comment)
        return {"id": row.id, "finding_id": found.id, "rule_id": found.rule_id, "agree": row.agrees}

    def admin(key: Annotated[ApiKey, Depends(caller)]) -> ApiKey:
        if key.role != Role.admin:
            raise ApiError(403, "forbidden", "only an admin's key may manage keys")
        return key

    @app.get("/v1/keys", tags=["keys"])
    def list_keys(
        _key: Annotated[ApiKey, Depends(admin)], s: Annotated[Session, Depends(session)]
    ) -> list[dict[str, Any]]:
        """Every key: number, name, role, teams, when made and revoked (never the key itself)."""
        return [_key_body(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.id))]

    @app.post("/v1/keys", tags=["keys"], status_code=201)
    def make_key(
        wanted: KeyIn, _key: Annotated[ApiKey, Depends(admin)], s: Annotated[Session, Depends(session)]
    ) -> dict[str, Any]:
        """Create a key; the answer holds it once, and only its digest is stored."""
        try:
            plain, row = create_key(s, Role(wanted.role), wanted.name, wanted.teams)
        except ValueError as error:
            raise ApiError(422, "invalid_key", str(error)) from None
        s.commit()
        return {**_key_body(row), "key": plain}

    @app.delete("/v1/keys/{key_id}", tags=["keys"])
    def drop_key(
        key_id: Annotated[int, PathParam(ge=1, le=MAX_ID)],
        _key: Annotated[ApiKey, Depends(admin)],
        s: Annotated[Session, Depends(session)],
    ) -> dict[str, Any]:
        """Revoke a key: it stops working at once."""
        if not revoke_key(s, key_id):
            raise ApiError(404, "not_found", f"no live key {key_id}")
        s.commit()
        return {"id": key_id, "revoked": True}

    @app.get("/v1/audits/{audit_id}/export.csv", tags=["exports"])
    def export_csv(
        audit_id: str, key: Annotated[ApiKey, Depends(reader)], s: Annotated[Session, Depends(session)]
    ) -> Response:
        """One row per finding (and one for a record with none), for a practice-learning audit."""
        _one_audit(s, key, audit_id, action="export_csv")
        return exports.csv_response(s, key, audit_id)

    @app.get("/v1/audits/{audit_id}/export.xlsx", tags=["exports"])
    def export_xlsx(
        audit_id: str, key: Annotated[ApiKey, Depends(reader)], s: Annotated[Session, Depends(session)]
    ) -> Response:
        """The same rows as export.csv, as an Excel workbook."""
        _one_audit(s, key, audit_id, action="export_xlsx")
        return exports.xlsx_response(s, key, audit_id)

    @app.post("/v1/audits", tags=["audits"], status_code=201)
    async def submit(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> JSONResponse:
        # The key first, before a byte of the body is read: no one without one can make the
        # service hold a large body.
        key = await run_in_threadpool(_submitter, credentials)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(415, "unsupported_media_type", "send the batch as application/json")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"the body is over {MAX_BODY_BYTES:,} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise ApiError(413, "too_large", f"the body is over {MAX_BODY_BYTES:,} bytes")
        # The batch is read, scored and stored in one trip off the event loop (health checks and
        # reads are still answered meanwhile).
        return await asyncio.get_running_loop().run_in_executor(
            state["requests"], accept, key, bytes(body), idempotency_key
        )

    def _submitter(credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
        with state["sessions"]() as s:
            key = _key_of(s, credentials)
        if key.role != Role.auditor:
            raise ApiError(403, "forbidden", "only an auditor's key may submit records")
        return key

    def accept(key: ApiKey, body: bytes, idempotency_key: str | None) -> JSONResponse:
        records = _parse_batch(body)
        with state["sessions"]() as s:
            return _accept(s, key, records, idempotency_key, hashlib.sha256(body).hexdigest())

    def _accept(
        s: Session, key: ApiKey, records: list[Record], idempotency_key: str | None, request_digest: str
    ) -> JSONResponse:
        if idempotency_key is not None:
            earlier = _earlier(s, key, idempotency_key, request_digest)
            if earlier is not None:
                return earlier
        versions = state["versions"]
        try:
            if len(records) > state["sync_limit"]:
                audit, _none = score_and_store(
                    s, state["scorer"], versions, records, key.id, idempotency_key, request_digest, queue=True
                )
                state["worker"].wake()
                return JSONResponse(
                    _audit_body(s, audit, key), status_code=202, headers={"Location": f"/v1/audits/{audit.id}"}
                )
            audit, results = score_and_store(
                s, state["scorer"], versions, records, key.id, idempotency_key, request_digest
            )
        except ScoringUnavailable as error:
            s.rollback()
            raise ApiError(
                503, "scoring_unavailable", f"{error}: send the batch again", headers={"Retry-After": "5"}
            ) from None
        except IntegrityError:
            # The same Idempotency-Key arrived twice at once and the other request stored first.
            s.rollback()
            if idempotency_key is None:
                raise
            first = _earlier(s, key, idempotency_key, request_digest)
            if first is None:
                raise
            return first
        body = _audit_body(s, audit, key, with_records=True, results=results)
        for result in body["results"]:
            metrics.scored("request", [f["category"] for f in result["findings"]])
        return JSONResponse(body, status_code=201)

    def _earlier(s: Session, key: ApiKey, idempotency_key: str, request_digest: str) -> JSONResponse | None:
        earlier = s.scalars(
            select(Audit).where(Audit.submitted_by == key.id, Audit.idempotency_key == idempotency_key)
        ).first()
        if earlier is None:
            return None
        if earlier.request_digest != request_digest:
            raise ApiError(409, "idempotency_conflict", "this Idempotency-Key was used for a different batch")
        s.add(AccessLog(key_id=key.id, audit_id=earlier.id, action="replay"))
        s.commit()
        return JSONResponse(_audit_body(s, earlier, key, with_records=earlier.status == "done"), status_code=200)

    @app.get("/v1/audits", tags=["audits"])
    def audits(
        key: Annotated[ApiKey, Depends(reader)],
        s: Annotated[Session, Depends(session)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        query = visible_audits(key).order_by(Audit.created_at.desc(), Audit.id).limit(limit).offset(offset)
        found = list(s.scalars(query))
        s.add_all([AccessLog(key_id=key.id, audit_id=a.id, action="list_audits") for a in found])
        s.commit()
        return {"items": [_audit_body(s, a, key) for a in found], "limit": limit, "offset": offset}

    @app.get("/v1/audits/{audit_id}", tags=["audits"])
    def audit(
        audit_id: str, key: Annotated[ApiKey, Depends(reader)], s: Annotated[Session, Depends(session)]
    ) -> dict[str, Any]:
        found = _one_audit(s, key, audit_id)
        return _audit_body(s, found, key)

    @app.get("/v1/audits/{audit_id}/case-findings", tags=["audits"])
    def audit_case_findings(
        audit_id: str,
        key: Annotated[ApiKey, Depends(reader)],
        s: Annotated[Session, Depends(session)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        """A batch run's case-level findings for this audit's council (long plans without
        oversight, drift), by team and child; a manager's key reads only its teams'. The API's own
        audits have none."""
        found = _one_audit(s, key, audit_id, "read_case_findings")
        rows = s.scalars(visible_case_findings(key, found.id).limit(limit).offset(offset))
        items = [
            {
                "child_id": f.child_id,
                "la_code": f.la_code or None,
                "team": f.team,
                "worker": f.worker,
                "rule_id": f.rule_id,
                "category": f.category,
                "severity": f.severity,
                "record_id": f.record_id,
                "message": f.message,
                "suggestion": f.suggestion,
                "citation": f.citation,
                "evidence": f.evidence,
                "as_of": f.as_of,
            }
            for f in rows
        ]
        return {"items": items, "limit": limit, "offset": offset}

    @app.get("/v1/audits/{audit_id}/records", tags=["audits"])
    def audit_records(
        audit_id: str,
        key: Annotated[ApiKey, Depends(reader)],
        s: Annotated[Session, Depends(session)],
        team: str | None = None,
        worker: str | None = None,
        grade: str | None = None,
        category: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> dict[str, Any]:
        _one_audit(s, key, audit_id)
        query = visible_records(key).where(AuditRecord.audit_id == audit_id)
        if team is not None:
            query = query.where(AuditRecord.team == team)
        if worker is not None:
            query = query.where(AuditRecord.worker == worker)
        if grade is not None:
            query = query.where(AuditRecord.grade == grade)
        if category is not None:
            query = query.where(
                exists().where(FindingRow.audit_record_id == AuditRecord.id, FindingRow.category == category)
            )
        total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(AuditRecord.position).limit(limit).offset(offset))
        return {"items": [_record_body(r) for r in rows], "total": total, "limit": limit, "offset": offset}

    def _one_audit(s: Session, key: ApiKey, audit_id: str, action: str = "read_audit") -> Audit:
        found = find_audit(s, key, audit_id, action)
        if found is None:
            raise ApiError(404, "not_found", "no such audit, or none of it is yours to read")
        return found

    return app


class ContainErrors:
    """Any unexpected error is a 500 whose log line names only the error's kind. Never a
    traceback: an exception's message can carry record text (and Starlette's own handler for
    500s re-raises the error, which uvicorn then logs with its message)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            logger.error("internal error: %s", error.__class__.__name__)
            if not started:
                answer = JSONResponse({"error": "internal", "message": "internal error"}, status_code=500)
                await answer(scope, receive, send)


class RefuseNul:
    """PostgreSQL refuses NUL in text: a path or query holding one is refused here, as bad input."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"")
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                refusal = JSONResponse(
                    {"error": "invalid_request", "message": "NUL in the path or query"}, status_code=400
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _unauthorized() -> ApiError:
    return ApiError(
        401,
        "unauthorized",
        "a valid API key is needed: Authorization: Bearer KEY",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _key_of(s: Session, credentials: HTTPAuthorizationCredentials | None) -> ApiKey:
    """The caller's key, or 401."""
    row = find_key(s, credentials.credentials.strip()) if credentials is not None else None
    if row is None:
        raise _unauthorized()
    return row


def score_and_store(
    s: Session,
    scorer: Scoring,
    versions: dict[str, str],
    records: list[Record],
    submitted_by: int,
    idempotency_key: str | None,
    request_digest: str,
    queue: bool = False,
) -> tuple[Audit, list[dict[str, Any]]]:
    """Store the audit with every record in one transaction: scored now, or (`queue`) queued
    unscored for the job worker. Returns the audit and, when scored now, each record's body as
    the API shows it (built from what was stored, not read back)."""
    results: list[RecordResult | None] = list(scorer.audit_many(records)) if not queue else [None] * len(records)
    audit = Audit(
        id=str(uuid.uuid4()),
        created_at=now(),
        submitted_by=submitted_by,
        idempotency_key=idempotency_key,
        request_digest=request_digest,
        status="done" if not queue else "queued",
        record_count=len(records),
        versions=versions,
        error=None,
    )
    # Core inserts, not the ORM's unit of work (half the cost of storing a single record): the
    # audit, then its records and their findings in one statement each. `audit` itself is only
    # read afterwards, never added to the session.
    s.execute(insert(table(Audit)), [{c.key: getattr(audit, c.key) for c in table(Audit).columns}])
    values = [
        record_values(audit.id, position, record, result)
        for position, (record, result) in enumerate(zip(records, results, strict=True))
    ]
    record_table, finding_table = table(AuditRecord), table(FindingRow)
    ids = list(s.scalars(insert(record_table).returning(record_table.c.id, sort_by_parameter_order=True), values))
    findings = [finding_values(i, f) for i, result in zip(ids, results, strict=True) if result for f in result.findings]
    finding_ids = (
        list(s.scalars(insert(finding_table).returning(finding_table.c.id, sort_by_parameter_order=True), findings))
        if findings
        else []
    )
    s.commit()
    if queue:
        return audit, []
    stored = [{**f, "id": i} for f, i in zip(findings, finding_ids, strict=True)]
    bodies, first = [], 0
    for row, result in zip(values, results, strict=True):
        count = len(result.findings) if result else 0  # findings were listed record by record
        bodies.append(_record_body_of(row, stored[first : first + count]))
        first += count
    return audit, bodies


SAMPLES_KEY = "sample-records"


def load_samples(engine: Any, auditor: Auditor, path: Path) -> tuple[str, bool]:
    """Score the sample records into an audit once (the quick start's data): (audit id, whether
    it was created now). Submitted by a key that is revoked at once: nobody holds it."""
    from auditor.records import read_batch

    with Session(engine) as s:
        existing = s.scalars(select(Audit).where(Audit.idempotency_key == SAMPLES_KEY)).first()
        if existing is not None:
            return existing.id, False
        records = [record for _file, _row, record in read_batch([path])]
        _plain, owner = create_key(s, Role.auditor, "sample records loader")
        revoke_key(s, owner.id)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        audit, _results = score_and_store(s, auditor, auditor.versions(), records, owner.id, SAMPLES_KEY, digest)
        return audit.id, True


def _parse_batch(body: bytes) -> list[Record]:
    """The batch's records, or an ApiError naming every bad record's id, position and field."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(
            400, "invalid_json", f"the body is not valid JSON (at character {getattr(error, 'pos', 0)})"
        ) from None
    except (RecursionError, ValueError):  # nesting too deep, or an integer too long to read
        raise ApiError(
            400, "invalid_json", "the body is JSON this service cannot read (too deeply nested or too long a number)"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("records"), list):
        raise ApiError(422, "invalid_batch", 'the body must be an object with a "records" list')
    items = payload["records"]
    if set(payload) - {"records"}:
        raise ApiError(422, "invalid_batch", f"unknown field(s): {', '.join(sorted(set(payload) - {'records'}))}")
    if not items:
        raise ApiError(422, "invalid_batch", "the batch has no records")
    if len(items) > MAX_RECORDS:
        raise ApiError(422, "too_many_records", f"{len(items):,} records; at most {MAX_RECORDS:,} per batch")
    records: list[Record] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(items):
        record_id = item.get("id") if isinstance(item, dict) else None
        name = str(record_id) if isinstance(record_id, str | int) else None
        try:
            record = Record.model_validate(item)
        except ValidationError as error:
            for problem in error.errors(include_input=False, include_url=False):
                field = ".".join(str(part) for part in problem["loc"]) or None
                errors.append({"index": position, "record_id": name, "field": field, "error": problem["msg"]})
            continue
        nul = nul_field(record)
        if nul is not None:
            errors.append(
                {"index": position, "record_id": record.id, "field": nul, "error": "contains a NUL character"}
            )
            continue
        if record.id in seen:
            errors.append(
                {
                    "index": position,
                    "record_id": record.id,
                    "field": "id",
                    "error": f"duplicate id (also at index {seen[record.id]})",
                }
            )
            continue
        seen[record.id] = position
        records.append(record)
    if errors:
        raise ApiError(422, "invalid_records", f"{len(errors)} problem(s); nothing was stored", errors)
    return records


_FINDING_FIELDS = ("rule_id", "category", "severity", "start", "end", "text", "message", "suggestion", "citation")


def _record_body(row: AuditRecord) -> dict[str, Any]:
    return _record_body_of(
        {c: getattr(row, c) for c in ("record_id", "record_type", "plan_type", "team", "worker", "score", "grade")},
        [{c: getattr(f, c) for c in ("id", *_FINDING_FIELDS, "source", "confidence")} for f in row.findings],
    )


def _record_body_of(row: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    """A record as the API shows it, from its stored values and its findings' (with their ids)."""
    return {
        "id": row["record_id"],
        **{c: row[c] for c in ("record_type", "plan_type", "team", "worker", "score", "grade")},
        "findings": [
            {
                "finding_id": f["id"],
                **{c: f[c] for c in _FINDING_FIELDS},
                "source": f["source"],
                "confidence": f["confidence"],
            }
            for f in findings
        ],
    }


def _audit_body(
    s: Session, audit: Audit, key: ApiKey, with_records: bool = False, results: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An audit's summary over the records this key may read; with `with_records`, every record
    and its findings too (`results`, when the caller has them already, saves reading them back).
    Without records the summary is counted in the database, so a list of large audits stays cheap."""
    if with_records and results is None:
        rows = s.scalars(visible_records(key).where(AuditRecord.audit_id == audit.id).order_by(AuditRecord.position))
        results = [_record_body(r) for r in rows]
    if results is not None:
        counted = summarise(results)
    else:
        visible = visible_records(key).where(AuditRecord.audit_id == audit.id).subquery()
        count, mean = s.execute(select(func.count(), func.avg(visible.c.score))).one()
        grades = s.execute(select(visible.c.grade, func.count()).group_by(visible.c.grade)).all()
        categories = s.execute(
            select(FindingRow.category, func.count())
            .join(visible, visible.c.id == FindingRow.audit_record_id)
            .group_by(FindingRow.category)
        ).all()
        counted = summary(count, mean, dict(grades), dict(categories))  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "id": audit.id,
        "created_at": _iso(audit.created_at),
        "status": audit.status,
        "label": audit.label,  # a batch run's audit: which run and council; None for the API's own
        "progress": (
            progress(s, visible_records(key).where(AuditRecord.audit_id == audit.id))
            if audit.status != "done"
            else None
        ),
        "error": audit_error(audit, key),
        **counted,
        "versions": audit.versions,
        "links": {"self": f"/v1/audits/{audit.id}", "records": f"/v1/audits/{audit.id}/records"},
    }
    if with_records:
        body["results"] = results
    return body


def _docs_page(schema: dict[str, Any]) -> str:
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            parameters = [
                {
                    "name": p["name"],
                    "in": p["in"],
                    "required": p.get("required", False),
                    "type": p.get("schema", {}).get("type", ""),
                }
                for p in op.get("parameters", [])
            ]
            operations.append(
                {
                    "id": op.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": parameters,
                    "responses": sorted(op.get("responses", {})),
                }
            )
    info = schema.get("info", {})
    return TEMPLATES.get_template("docs.html").render(
        title=info.get("title", ""),
        version=info.get("version", ""),
        description=info.get("description", ""),
        operations=operations,
    )


def _iso(moment: datetime) -> str:
    """UTC, with its offset."""
    return utc(moment).isoformat()


BEARER = HTTPBearer(auto_error=False, description="An API key from `auditor keys create`.")


class BatchIn(BaseModel):
    """A batch of records to audit (the core engine's record model)."""

    model_config = ConfigDict(extra="forbid")

    records: list[Record] = Field(min_length=1, max_length=MAX_RECORDS)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["auditor", "manager", "admin"]
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    teams: list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]] = Field(
        default_factory=list, max_length=100
    )


def _key_body(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "role": key.role,
        "teams": sorted(t.team for t in key.teams),
        "created_at": _iso(key.created_at),
        "revoked_at": _iso(key.revoked_at) if key.revoked_at else None,
    }


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agree: bool
    comment: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")


def _feedback_counts(s: Session, rule_id: str | None = None) -> dict[str, dict[str, int]]:
    """Agreements and disagreements per rule, counted in the database."""
    query = select(Feedback.rule_id, Feedback.agrees, func.count()).group_by(Feedback.rule_id, Feedback.agrees)
    if rule_id is not None:
        query = query.where(Feedback.rule_id == rule_id)
    counts: dict[str, dict[str, int]] = {}
    for rule, agrees, count in s.execute(query):
        counts.setdefault(rule, {"agree": 0, "disagree": 0})["agree" if agrees else "disagree"] = count
    return counts


def _rule(rule: Rule, feedback: dict[str, int] | None = None) -> dict[str, Any]:
    """The rule's catalogue entry (as `auditor rules --format json` gives it), with how
    practitioners judged its findings."""
    return {**rule.catalogue(), "feedback": feedback or {"agree": 0, "disagree": 0}}

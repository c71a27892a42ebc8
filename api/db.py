"""The service's storage: SQLAlchemy 2 tables, the database URL, and Alembic migrations, which
run at start-up (`migrate`). SQLite in a file by default; `AUDITOR_DATABASE_URL` selects another
database (PostgreSQL in production)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from auditor.findings import Finding, RecordResult
from auditor.records import Record


def now() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """A stored moment as UTC (SQLite hands back naive datetimes; they were stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def data_dir() -> Path:
    """Where the embedded database lives: AUDITOR_DATA_DIR, else the user's data directory."""
    configured = os.environ.get("AUDITOR_DATA_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "auditor"


def database_url() -> str:
    """AUDITOR_DATABASE_URL, else an SQLite file in `data_dir()`."""
    url = os.environ.get("AUDITOR_DATABASE_URL")
    if url:
        return url
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'auditor.db'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        # hide_parameters: a database error's message never carries the values (record text).
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL loses no committed transaction when a process is killed (only, at
            # worst, the last ones on a power cut), and spares an fsync per commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema to the newest migration, or to `revision` (idempotent)."""
    with engine.begin() as connection:
        command.upgrade(_alembic(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database's schema back to `revision` (tests of a migration's upgrade)."""
    with engine.begin() as connection:
        command.downgrade(_alembic(connection), revision)


def _alembic(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent / "migrations"))
    config.attributes["connection"] = connection
    return config


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements (bulk inserts without the ORM's unit of work)."""
    return Base.metadata.tables[model.__tablename__]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Loaded when read (managers' keys only): an auditor's request costs one query for its key.
    teams: Mapped[list[KeyTeam]] = relationship(cascade="all, delete-orphan", lazy="select")


class KeyTeam(Base):
    """A team a manager's key may read."""

    __tablename__ = "key_teams"

    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True)
    team: Mapped[str] = mapped_column(String(200), primary_key=True)


class Audit(Base):
    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("submitted_by", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    record_count: Mapped[int] = mapped_column(Integer)
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a batch run's audit: its council


class AuditRecord(Base):
    """One submitted record and, once scored, its score and grade."""

    __tablename__ = "audit_records"
    __table_args__ = (UniqueConstraint("audit_id", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str] = mapped_column(String(200))
    record_type: Mapped[str] = mapped_column(String(20))
    plan_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    child_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    la_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    recorded_at: Mapped[str | None] = mapped_column(String(10), nullable=True)
    plan_start_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grade: Mapped[str | None] = mapped_column(String(30), nullable=True)
    findings: Mapped[list[FindingRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="FindingRow.id"
    )


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_record_id: Mapped[int] = mapped_column(ForeignKey("audit_records.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(10), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(60))
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    explanation: Mapped[str | None] = mapped_column(Text, nullable=True)


class Feedback(Base):
    """An auditor's or manager's view of one finding. `rule_id` is copied from the finding so that
    feedback is counted per rule in one query."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("finding_id", "key_id", name="uq_feedback_finding_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[str] = mapped_column(String(10), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    agrees: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class WebSession(Base):
    """A signed-in browser: the cookie's SHA-256 digest (the cookie itself is never stored), the key
    it was exchanged for, and the CSRF token its forms must carry."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AccessLog(Base):
    """Who read which audit, and when."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    audit_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))


class BatchRun(Base):
    """One run of `auditor batch`: what it read, how far it got (its checkpoint: every row of the
    inputs before `file_index`, and the first `rows_done` rows of that one, are stored), and what it
    counted. A run killed part way is resumed from its checkpoint by the next run over the same
    inputs (`fingerprint`)."""

    __tablename__ = "batch_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # running, done, failed or abandoned
    profile: Mapped[str] = mapped_column(String(200))
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    chunk_rows: Mapped[int] = mapped_column(Integer)
    versions: Mapped[dict[str, str]] = mapped_column(JSON)
    file_index: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    timings: Mapped[dict[str, float]] = mapped_column(JSON)
    resumed: Mapped[int] = mapped_column(Integer, default=0)  # how many times
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)


class BatchRunAudit(Base):
    """A run's audit for one council (`la_code`; "" when the records do not say)."""

    __tablename__ = "batch_run_audits"

    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), primary_key=True)
    la_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))


class Quarantined(Base):
    """A row a run could not score, and why: located by file, row, record id and field, never by
    its content."""

    __tablename__ = "batch_quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), index=True)
    file: Mapped[str] = mapped_column(String(500))
    row: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str] = mapped_column(String(300))


class RecordState(Base):
    """What the batch last knew of a record (by council and id): its content's hash and the
    versions it was scored with, its latest scored row, and the last run that read it; and what
    the case-level checks read of it (never its text: a plan's actions as digests of their
    words), so that they read one narrow table, child by child, and no plan's text twice."""

    __tablename__ = "record_state"
    __table_args__ = (Index("ix_record_state_child", "la_code", "child_id"),)

    la_code: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    versions_digest: Mapped[str] = mapped_column(String(64))
    audit_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_records.id", ondelete="SET NULL"), nullable=True
    )
    scored_run: Mapped[str] = mapped_column(String(36))
    last_seen_run: Mapped[str] = mapped_column(String(36))
    child_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    record_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    plan_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    recorded_at: Mapped[str | None] = mapped_column(String(10), nullable=True)
    plan_start_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A plan's actions as `cases.kept_actions` keeps them (digests, not words), and the version of
    # the code that found them: NULL for other records, and for a plan stored before they were kept
    # (its text is read instead, and its actions kept then).
    plan_actions: Mapped[list[list[Any]] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    actions_version: Mapped[str | None] = mapped_column(String(16), nullable=True)


class RecordHistory(Base):
    """Each version of a record the batch scored: new, changed, or rescored under new rules."""

    __tablename__ = "record_history"
    __table_args__ = (Index("ix_record_history_record", "la_code", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_code: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(10))
    audit_record_id: Mapped[int] = mapped_column(ForeignKey("audit_records.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class CaseFindingRow(Base):
    """A case-level finding of a run, about one child (auditor/cases.py), shown on `record_id`."""

    __tablename__ = "case_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), index=True)
    la_code: Mapped[str] = mapped_column(String(20))
    child_id: Mapped[str] = mapped_column(String(200))
    rule_id: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    as_of: Mapped[str] = mapped_column(String(10))


class BatchLease(Base):
    """One row: which batch process may write (`holder`), and when it last said it was alive."""

    __tablename__ = "batch_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(300), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# The rows a scored (or queued) record is stored as: the service and the job worker insert them
# in bulk with these.


def record_values(audit_id: str, position: int, record: Record, result: RecordResult | None) -> dict[str, Any]:
    """A record's row; with its score, or unscored (NULL) for the job worker."""
    return {
        "audit_id": audit_id,
        "position": position,
        "record_id": record.id,
        "record_type": record.record_type.value,
        "plan_type": record.plan_type.value if record.plan_type else None,
        "team": record.team,
        "worker": record.worker,
        "child_id": record.child_id,
        "la_code": record.la_code,
        "recorded_at": record.recorded_at.isoformat() if record.recorded_at else None,
        "plan_start_date": record.plan_start_date.isoformat() if record.plan_start_date else None,
        "text": record.text,
        "score": result.score if result else None,
        "grade": result.grade.value if result else None,
    }


def finding_values(audit_record_id: int, f: Finding) -> dict[str, Any]:
    """A finding's row of its stored record."""
    return {
        "audit_record_id": audit_record_id,
        "rule_id": f.rule_id,
        "category": f.category.value,
        "severity": f.severity.value,
        "start": f.start,
        "end": f.end,
        "text": f.text,
        "message": f.message,
        "suggestion": f.suggestion,
        "citation": f.citation,
        "source": f.source,
        "confidence": f.confidence,
        "explanation": f.explanation,
    }

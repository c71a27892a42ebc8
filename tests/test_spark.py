"""The Spark job (issue 6) in Spark's local mode: the same scores, grades and findings as the
single-machine batch for the same rows, and malformed rows returned with their problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pyspark.sql import SparkSession
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import AuditRecord, RecordState, make_engine, migrate
from auditor.engine import Auditor
from auditor.profiles import FIELDS, load_profile
from auditor.spark import findings_schema, score_dataframe
from auditor.tables import TableError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = [json.loads(line) for line in (ROOT / "sample_records" / "records.jsonl").read_text().splitlines()]
COLUMNS = list(FIELDS)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = (
        SparkSession.builder.master("local[2]")
        .appName("auditor-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def _rows() -> list[dict[str, Any]]:
    rows = []
    for n, sample in enumerate(SAMPLES):
        rows.append({**sample, "la_code": "201" if n % 2 else "202"})
    rows.append({**SAMPLES[0], "id": "BAD-TYPE", "record_type": "memo", "la_code": "201"})
    return [{c: r.get(c) for c in COLUMNS} for r in rows]


def test_spark_scores_as_the_single_machine_batch_does(spark: SparkSession, engine: Auditor, tmp_path: Path) -> None:
    from auditor.batch import run_batch

    rows = _rows()
    frame = spark.createDataFrame(pd.DataFrame(rows, columns=COLUMNS).astype(object).where(pd.notna, None))
    results = score_dataframe(frame, "generic").collect()
    by_id = {(r["la_code"], r["record_id"]): r for r in results if r["problem"] is None}
    assert len(results) == len(rows) and len(by_id) == len(SAMPLES)
    [bad] = [r for r in results if r["problem"] is not None]
    assert bad["record_id"] == "BAD-TYPE" and "record_type" in bad["problem"] and bad["score"] is None
    assert SAMPLES[0]["text"][:30] not in bad["problem"]

    # The single-machine path: `auditor batch`'s run over the same rows, into the service's database.
    source = tmp_path / "export.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    db = make_engine(f"sqlite:///{tmp_path / 'auditor.db'}")
    migrate(db)
    run = run_batch(db, engine, engine.versions(), [source], load_profile("generic"))
    assert run.counts["new"] == len(SAMPLES) and run.counts["quarantined"] == 1
    with Session(db) as s:
        stored = s.scalars(select(AuditRecord)).all()
        hashes = {(st.la_code, st.record_id): st.content_hash for st in s.scalars(select(RecordState))}
        assert len(stored) == len(SAMPLES)
        for record in stored:
            key = (record.la_code, record.record_id)
            spark_row = by_id[key]
            assert (spark_row["score"], spark_row["grade"]) == (record.score, record.grade)
            assert spark_row["content_hash"] == hashes[key]
            found = json.loads(spark_row["findings"])
            assert [(f["rule_id"], f["start"], f["end"], f["message"], f["source"]) for f in found] == [
                (f.rule_id, f.start, f.end, f.message, f.source) for f in record.findings
            ]
    db.dispose()
    assert sum(len(json.loads(r["findings"])) for r in by_id.values()) > 100  # the comparison had substance


def test_findings_read_back_as_structs(spark: SparkSession) -> None:
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(pd.DataFrame(_rows()[:3], columns=COLUMNS))
    exploded = score_dataframe(frame).select(
        "record_id", F.explode(F.from_json("findings", findings_schema())).alias("f")
    )
    first = exploded.select("record_id", "f.rule_id", "f.start", "f.category").collect()
    assert first and all(isinstance(r["start"], int) and r["rule_id"] for r in first)


def test_columns_the_profile_cannot_map_are_refused_before_any_work(spark: SparkSession) -> None:
    frame = spark.createDataFrame(pd.DataFrame([{"id": "1", "record_type": "plan", "text": "x", "shoe size": "9"}]))
    with pytest.raises(TableError) as error:
        score_dataframe(frame)
    assert "column 4" in str(error.value)


def test_typed_columns_are_read_as_the_batch_reads_text(spark: SparkSession, engine: Auditor) -> None:
    """Identifiers typed as numbers (a bigint with a null arrives in pandas as float64; a DECIMAL
    not at all) and dates typed as timestamps give the records a text export gives."""
    from datetime import datetime
    from decimal import Decimal

    from pyspark.sql.types import DecimalType, LongType, StringType, StructField, StructType, TimestampType

    schema = StructType(
        [
            StructField("id", DecimalType(20, 0)),
            StructField("record_type", StringType()),
            StructField("child_id", LongType()),
            StructField("recorded_at", TimestampType()),
            StructField("la_code", LongType()),
            StructField("text", StringType()),
        ]
    )
    big = 9007199254740993  # above 2**53: a float64 would change it
    rows = [
        (Decimal(1001), "plan", big, datetime(2021, 4, 14, 12, 0), 894, SAMPLES[0]["text"]),
        (Decimal(1002), "plan", None, None, 894, SAMPLES[1]["text"]),
    ]
    results = {r["record_id"]: r for r in score_dataframe(spark.createDataFrame(rows, schema)).collect()}
    assert set(results) == {"1001", "1002"} and all(r["problem"] is None for r in results.values())
    from auditor.batch import content_hash
    from auditor.records import Record

    expected = Record(
        id="1001",
        record_type="plan",
        child_id=str(big),
        recorded_at="2021-04-14",
        la_code="894",
        text=SAMPLES[0]["text"],
    )
    assert results["1001"]["content_hash"] == content_hash(expected)
    assert results["1001"]["la_code"] == "894"

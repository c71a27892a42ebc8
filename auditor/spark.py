"""Scale-out on Apache Spark (issue 6): the batch's scoring, run by PySpark's `mapInPandas` over
a DataFrame partitioned by `la_code`.

    from auditor.spark import score_dataframe
    results = score_dataframe(spark.read.parquet("exports/"), profile="annex-a")
    results.write.mode("overwrite").parquet("results/")

Each partition's rows go through the same profile mapping (`tables.row_of`) and the same engine
(`Auditor.audit_many`) as `auditor batch` on one machine, so a record gets the same score, grade
and findings either way; each Python worker builds its engine once. A row that cannot be a record
comes back with its `problem` (record id and field, never its content) and no score.

The output has one row per input row: `la_code`, `record_id`, `content_hash` (as the batch's
incremental runs compute it), `score`, `grade`, `findings` (a JSON list, each finding as the API
shows it) and `problem`. `findings_schema()` reads the JSON back as structs:

    from pyspark.sql import functions as F
    findings = results.select("la_code", "record_id", F.explode(F.from_json("findings", findings_schema())))

Nothing here needs a network: the rules, the model and spaCy's blank pipeline ship in the wheel,
which is installed on the cluster (Databricks: a cluster library; Fabric: an environment).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from auditor.batch import content_hash
from auditor.profiles import ColumnMap, Profile, load_profile
from auditor.tables import TableError, row_of

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from auditor.engine import Auditor

RESULT_SCHEMA = (
    "la_code string, record_id string, content_hash string, score int, grade string, findings string, problem string"
)
FINDING_FIELDS = ("rule_id", "category", "severity", "start", "end", "text", "message", "suggestion", "source")

_ENGINE: Auditor | None = None


def _engine() -> Auditor:
    """This Python worker's engine, built on first use (configured by its environment, as the
    service's scoring processes are: AUDITOR_MODEL, AUDITOR_SPACY_MODEL). Its word caches grow
    with every new word it meets: for long jobs set `spark.python.worker.reuse` to false, so that
    each task's worker starts afresh (a new engine in the same process does not free the old)."""
    global _ENGINE
    if _ENGINE is None:
        from auditor.engine import Auditor

        _ENGINE = Auditor()
    return _ENGINE


def findings_schema() -> str:
    """The schema of the `findings` column's JSON, for `from_json`."""
    fields = ", ".join(f"`{name}` {'int' if name in ('start', 'end') else 'string'}" for name in FINDING_FIELDS)
    return f"array<struct<{fields}, `confidence` double>>"


def score_frame(
    frame: pd.DataFrame, profile: Profile, columns: ColumnMap, scorer: Any, source: str = "spark"
) -> pd.DataFrame:
    """One chunk of rows (in the input's columns, as `columns` maps them) scored: one result row
    per input row. Plain pandas, so it runs the same on a Spark worker and in a test."""
    import pandas as pd

    cells = frame.astype(object).where(frame.notna(), None).values.tolist()
    rows = [row_of(profile, columns, list(values), source, number) for number, values in enumerate(cells, start=1)]
    records = [r.record for r in rows if r.record is not None]
    results = iter(list(scorer.audit_many(records)))
    out: list[dict[str, Any]] = []
    for row in rows:
        if row.record is None:
            problem = row.problem
            out.append(
                {
                    "la_code": None,
                    "record_id": row.record_id,
                    "content_hash": None,
                    "score": None,
                    "grade": None,
                    "findings": None,
                    "problem": f"field {problem.field!r}: {problem.message}"
                    if problem and problem.field
                    else (problem.message if problem else None),
                }
            )
            continue
        result = next(results)
        findings = [
            {
                **{name: getattr(f, name) for name in FINDING_FIELDS},
                "category": f.category.value,
                "severity": f.severity.value,
                "confidence": f.confidence,
            }
            for f in result.findings
        ]
        out.append(
            {
                "la_code": row.record.la_code,
                "record_id": row.record.id,
                "content_hash": content_hash(row.record),
                "score": result.score,
                "grade": result.grade.value,
                "findings": json.dumps(findings, ensure_ascii=False),
                "problem": None,
            }
        )
    result_frame = pd.DataFrame(out, columns=[c.split()[0] for c in RESULT_SCHEMA.split(", ")])
    return result_frame.astype({"score": "Int32"})


def score_dataframe(frame: DataFrame, profile: str | Profile = "generic", chunk_rows: int = 1000) -> DataFrame:
    """Score a Spark DataFrame of records whose columns `profile` maps (a TableError, before any
    work, names every column it cannot): partitioned by `la_code`, scored by `mapInPandas`."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DateType, StringType, TimestampNTZType, TimestampType

    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    mapped = chosen.map_columns(frame.columns, "the DataFrame")
    if mapped.problems:
        raise TableError("the DataFrame", f"{len(mapped.problems)} problem(s) with its columns", mapped.problems)
    # Only the mapped columns travel (the shuffle carries nothing ignored), each as the record model
    # reads it: identifiers as text (a bigint column with a null arrives as float64 in pandas, and
    # a DECIMAL not at all), timestamps as their date in the session's time zone.
    selected = []
    for name, index in mapped.fields.items():
        column = F.col(f"`{frame.columns[index]}`")
        kind = frame.schema[index].dataType
        if name in ("recorded_at", "plan_start_date") and isinstance(kind, TimestampType | TimestampNTZType):
            column = F.to_date(column)
        elif not isinstance(kind, StringType | DateType):
            column = column.cast("string")
        selected.append(column.alias(name))
    frame = frame.select(*selected)
    columns = ColumnMap("the DataFrame", fields={name: i for i, name in enumerate(mapped.fields)}, width=len(selected))
    if "la_code" in columns.fields:
        frame = frame.repartition("la_code")

    def score(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for chunk in chunks:
            for start in range(0, len(chunk), chunk_rows):
                part = chunk.iloc[start : start + chunk_rows]
                yield score_frame(part, chosen, columns, _engine())

    return frame.mapInPandas(score, RESULT_SCHEMA)

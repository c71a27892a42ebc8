"""A batch run's HTML report (`auditor batch --report FILE`): one self-contained file, as the
report's download is (CSS inline, no script, no request elsewhere), with the run's summary, what
it quarantined, and for each council's audit its overview and its lowest-scoring records with
their findings marked. The whole audit is in the service's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api import report
from api.db import ApiKey, Audit, AuditRecord, CaseFindingRow, now
from api.web import _STYLESHEET, TEMPLATES, _overview, _record_view
from auditor.batchout import summary
from auditor.files import atomic_text

WORST = 20  # records shown in full for each council
CASES_LISTED = 500  # case-level findings listed; the Parquet file holds them all


def write_run_report(engine: Engine, run_id: str, path: Path, worst: int = WORST) -> None:
    data = summary(engine, run_id)
    reader = ApiKey(id=0, role="auditor", name="auditor batch")  # every record: the run's own report
    with Session(engine) as s:
        sections: list[dict[str, Any]] = []
        for entry in data["audits"]:
            audit = s.get(Audit, entry["audit_id"])
            if audit is None:
                continue
            lowest = s.scalars(
                report.scoped_records(reader, audit.id)
                .where(AuditRecord.score.is_not(None))
                .order_by(AuditRecord.score, AuditRecord.position)
                .limit(worst)
            )
            sections.append(
                {
                    **_overview(s, reader, audit, "name"),
                    "la_code": entry["la_code"],
                    "views": [_record_view(s, reader, row, with_opinions=False) for row in lowest],
                }
            )
        cases = list(
            s.scalars(
                select(CaseFindingRow)
                .where(CaseFindingRow.run_id == run_id)
                .order_by(CaseFindingRow.la_code, CaseFindingRow.team, CaseFindingRow.child_id, CaseFindingRow.id)
                .limit(CASES_LISTED)
            )
        )
        case_total = s.scalar(select(func.count()).where(CaseFindingRow.run_id == run_id)) or 0
        page = TEMPLATES.get_template("report/run.html").generate(
            run=data,
            cases=cases,
            case_total=case_total,
            sections=sections,
            worst=worst,
            stylesheet=_STYLESHEET,
            generated=now(),
            versions=data["versions"],
        )
        with atomic_text(path) as out:
            for piece in page:
                out.write(piece)

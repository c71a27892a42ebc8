"""What the team manager's report shows, read from the database within what a key may read: the
runs (audits) and their scores over time, an audit's grades and findings by category, its teams,
workers and records (filtered and sorted), and one record's text with its findings marked.

Nothing here renders HTML except `marked_text`, which builds the record's text with every piece
escaped; the pages are Jinja2 templates (`api/templates/report/`), autoescaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from api.db import ApiKey, Audit, AuditRecord, FindingRow, utc
from api.scope import visible_audits, visible_records
from auditor.findings import Category, Grade
from auditor.personal_data import find_personal_data

GRADES = [g.value for g in Grade]
# Filter value for "not recorded" (a record with no team or worker).
NOT_RECORDED = "~"
PAGE_SIZE = 50


def pages_for(total: int) -> int:
    """How many pages of PAGE_SIZE `total` rows take (one, even for none)."""
    return max(1, -(-total // PAGE_SIZE))


TREND_RUNS = 30  # the most recent runs a trend chart shows


@dataclass
class Stats:
    """Records, mean score, grade counts and findings of a group of records."""

    name: str | None
    records: int = 0
    mean: float | None = None
    grades: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))
    findings: int = 0

    @property
    def label(self) -> str:
        return self.name if self.name is not None else "Not recorded"

    @property
    def value(self) -> str:
        """The filter value that selects this group."""
        return self.name if self.name is not None else NOT_RECORDED

    @property
    def needing_attention(self) -> int:
        return self.grades[Grade.requires_improvement.value] + self.grades[Grade.inadequate.value]


def _matches(column: Any, value: str) -> ColumnElement[bool]:
    matched: ColumnElement[bool] = column.is_(None) if value == NOT_RECORDED else column == value
    return matched


def teams_in(s: Session, key: ApiKey, audit_id: str) -> list[str]:
    """The filter values of the teams among an audit's visible records."""
    sub = scoped_records(key, audit_id).subquery()
    return sorted(NOT_RECORDED if t is None else t for t in s.scalars(select(sub.c.team).distinct()))


def scoped_records(key: ApiKey, audit_id: str, team: str | None = None, worker: str | None = None) -> Select[Any]:
    query = visible_records(key).where(AuditRecord.audit_id == audit_id)
    if team is not None:
        query = query.where(_matches(AuditRecord.team, team))
    if worker is not None:
        query = query.where(_matches(AuditRecord.worker, worker))
    return query


def totals(s: Session, records: Select[Any]) -> tuple[Stats, dict[str, int]]:
    """The group's statistics, and its findings by category (every category, most found first)."""
    grouped = grouped_stats(s, records, None, count_findings=False)
    stats = grouped[0] if grouped else Stats(None)
    sub = records.subquery()
    counted = dict(
        s.execute(
            select(FindingRow.category, func.count())
            .join(sub, sub.c.id == FindingRow.audit_record_id)
            .group_by(FindingRow.category)
        ).all()  # type: ignore[arg-type]
    )
    categories = {c.value: int(counted.get(c.value, 0)) for c in Category}
    stats.findings = sum(categories.values())
    ordered = dict(sorted(categories.items(), key=lambda item: (-item[1], list(categories).index(item[0]))))
    return stats, ordered


def grouped_stats(s: Session, records: Select[Any], by: str | None, count_findings: bool = True) -> list[Stats]:
    """Statistics per value of `by` ("team", "worker" or "audit_id"; None: one group of all the
    records), with their findings counted unless `count_findings` is off (the caller counts them)."""
    sub = records.subquery()
    column = sub.c[by] if by else None
    keys = [column] if column is not None else []
    grade_counts = [func.sum(case((sub.c.grade == g, 1), else_=0)) for g in GRADES]
    rows = s.execute(select(*keys, func.count(), func.avg(sub.c.score), *grade_counts).group_by(*keys)).all()
    findings: dict[tuple[Any, ...], int] = {}
    if count_findings:
        found = s.execute(
            select(*keys, func.count(FindingRow.id))
            .select_from(sub)
            .join(FindingRow, FindingRow.audit_record_id == sub.c.id)
            .group_by(*keys)
        ).all()
        findings = {tuple(row[:-1]): int(row[-1]) for row in found}
    out = []
    for row in rows:
        name = row[0] if keys else None
        count, mean, *grades = row[len(keys) :]
        if not count:
            continue
        out.append(
            Stats(
                name=name,
                records=int(count),
                mean=float(mean) if mean is not None else None,
                grades={g: int(n or 0) for g, n in zip(GRADES, grades, strict=True)},
                findings=findings.get(tuple(row[: len(keys)]), 0),
            )
        )
    return out


GROUP_SORTS = {
    "name": lambda g: (g.name is None, (g.name or "").casefold()),
    "records": lambda g: (g.records, (g.name or "").casefold()),
    "score": lambda g: (g.mean if g.mean is not None else 0.0, (g.name or "").casefold()),
    "attention": lambda g: (g.needing_attention, (g.name or "").casefold()),
    "findings": lambda g: (g.findings, (g.name or "").casefold()),
}


def sort_groups(groups: list[Stats], sort: str) -> tuple[list[Stats], str]:
    """Groups sorted by `sort` (a key of GROUP_SORTS, "-" first for descending; unknown: by name).
    Unscored groups come last by score either way, as unscored records do."""
    name = sort.lstrip("-")
    if name not in GROUP_SORTS:
        sort, name = "name", "name"
    ordered = sorted(groups, key=GROUP_SORTS[name], reverse=sort.startswith("-"))
    if name == "score":
        ordered = [g for g in ordered if g.mean is not None] + [g for g in ordered if g.mean is None]
    return ordered, sort


@dataclass
class Point:
    audit_id: str
    at: datetime
    mean: float
    records: int


def trend(s: Session, key: ApiKey, team: str | None = None, limit: int = TREND_RUNS) -> list[Point]:
    """The mean score of each finished run (of the records this key may read, or of one team's),
    oldest first: the last `limit` runs."""
    records = visible_records(key).where(AuditRecord.score.is_not(None))
    if team is not None:
        records = records.where(_matches(AuditRecord.team, team))
    # The last `limit` finished runs holding such records first, then only their records counted.
    chosen = (
        visible_audits(key)
        .where(Audit.status == "done", Audit.id.in_(records.with_only_columns(AuditRecord.audit_id)))
        .order_by(Audit.created_at.desc(), Audit.id)
        .limit(limit)
        .with_only_columns(Audit.id)
    )
    ids = list(s.scalars(chosen))
    sub = records.where(AuditRecord.audit_id.in_(ids)).subquery()
    rows = s.execute(
        select(Audit.id, Audit.created_at, func.avg(sub.c.score), func.count())
        .join(sub, sub.c.audit_id == Audit.id)
        .group_by(Audit.id, Audit.created_at)
        .order_by(Audit.created_at.desc(), Audit.id)
    ).all()
    return [Point(a, utc(at), float(mean), int(n)) for a, at, mean, n in reversed(rows)]


def runs(s: Session, key: ApiKey, page: int) -> tuple[list[tuple[Audit, Stats]], int, int]:
    """One page of the audits this key may read, newest first, each with the statistics of its
    visible records (two grouped queries for the page): (rows, total, the page shown)."""
    total = s.scalar(select(func.count()).select_from(visible_audits(key).subquery())) or 0
    page = min(page, pages_for(total))
    audits = list(
        s.scalars(
            visible_audits(key)
            .order_by(Audit.created_at.desc(), Audit.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
    )
    records = visible_records(key).where(AuditRecord.audit_id.in_([a.id for a in audits]))
    stats = {g.name: g for g in grouped_stats(s, records, "audit_id")}
    return [(a, stats.get(a.id) or Stats(a.id)) for a in audits], total, page


RECORD_SORTS = {
    # Unscored records and undated ones last either way, on every database.
    "score": (AuditRecord.score.asc().nulls_last(), AuditRecord.position),
    "-score": (AuditRecord.score.desc().nulls_last(), AuditRecord.position),
    "record": (AuditRecord.record_id.asc(),),
    "-record": (AuditRecord.record_id.desc(),),
    "date": (AuditRecord.recorded_at.asc().nulls_last(), AuditRecord.position),
    "-date": (AuditRecord.recorded_at.desc().nulls_last(), AuditRecord.position),
    "findings": ("finding_count", AuditRecord.position),
    "-findings": ("-finding_count", AuditRecord.position),
}


@dataclass
class RecordFilters:
    team: str | None = None
    worker: str | None = None
    grade: str | None = None
    category: str | None = None
    record_type: str | None = None
    search: str | None = None
    sort: str = "score"
    page: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters (with `changes`) as query parameters, leaving out the empty ones."""
        values = {**self.__dict__, **changes}
        out = {k: str(v) for k, v in values.items() if v not in (None, "")}
        if out.get("page") == "1":
            del out["page"]
        return out


def record_page(s: Session, key: ApiKey, audit_id: str, filters: RecordFilters) -> tuple[list[Any], int]:
    """One page of the records matching `filters`: (rows of (record, finding count), total)."""
    query = scoped_records(key, audit_id, filters.team, filters.worker)
    if filters.grade:
        query = query.where(AuditRecord.grade == filters.grade)
    if filters.record_type:
        query = query.where(AuditRecord.record_type == filters.record_type)
    if filters.search:
        pattern = "%" + filters.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(AuditRecord.record_id.ilike(pattern, escape="\\"))
    if filters.category:
        query = query.where(
            AuditRecord.id.in_(select(FindingRow.audit_record_id).where(FindingRow.category == filters.category))
        )
    total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
    filters.page = min(filters.page, pages_for(total))  # past the end: the last page
    counts = (
        select(func.count(FindingRow.id))
        .where(FindingRow.audit_record_id == AuditRecord.id)
        .correlate(AuditRecord)
        .scalar_subquery()
        .label("finding_count")
    )
    order: list[Any] = []
    for part in RECORD_SORTS.get(filters.sort, RECORD_SORTS["score"]):
        if part == "finding_count":
            order.append(counts.asc())
        elif part == "-finding_count":
            order.append(counts.desc())
        else:
            order.append(part)
    rows = s.execute(
        query.add_columns(counts).order_by(*order).limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)
    ).all()
    return [(row[0], int(row[1])) for row in rows], total


# One record: its text, masked, with each finding's words marked.


@dataclass
class Mark:
    """A finding as the record view shows it: numbered in reading order."""

    number: int
    row: FindingRow
    words: str  # the finding's words in the masked text
    whole_record: bool  # about the record as a whole (no words to mark)


def hidden_spans(text: str, findings: list[FindingRow]) -> list[tuple[int, int]]:
    """Where the text holds possible personal data: what the detector finds now, and the spans of
    the record's personal-data findings (which a pretrained pipeline may have found)."""
    spans = [(p.start, p.end) for p in find_personal_data(text)]
    spans += [(f.start, f.end) for f in findings if f.category == Category.possible_personal_data.value]
    return spans


def marks_of(text: str, findings: list[FindingRow]) -> list[Mark]:
    ordered = sorted(findings, key=lambda f: (f.start == f.end, f.start, f.end, f.rule_id, f.id))
    return [
        Mark(number, f, text[f.start : f.end], whole_record=f.start >= f.end or f.start >= len(text))
        for number, f in enumerate(ordered, start=1)
    ]


def marked_text(text: str, marks: list[Mark], anchor: str = "finding-") -> Markup:
    """The text, escaped, with every stretch inside one or more findings in a <mark> that names them
    (`data-findings`), and after each finding's last word a bracketed reference to it ("[2]", a
    link to the element `{anchor}{number}`): the highlight never relies on colour alone."""
    spans = [(m.row.start, min(m.row.end, len(text)), m.number) for m in marks if not m.whole_record]
    starting: dict[int, list[int]] = {}
    ending: dict[int, list[int]] = {}
    for start, end, number in spans:
        starting.setdefault(start, []).append(number)
        ending.setdefault(end, []).append(number)
    cuts = sorted({0, len(text), *starting, *ending})
    active: set[int] = set()
    out: list[str] = []
    for a, b in pairwise(cuts):  # one sweep: a long record with many findings stays linear
        active.update(starting.get(a, ()))
        active.difference_update(ending.get(a, ()))
        for n in sorted(starting.get(a, ())):  # a screen reader is told where each finding starts
            out.append(f'<span class="govuk-visually-hidden">start of finding {n}, </span>')
        piece = str(escape(text[a:b]))
        if active:
            inside = sorted(active)
            kind = "app-mark app-mark--overlap" if len(inside) > 1 else "app-mark"
            out.append(f'<mark class="{kind}" data-findings="{" ".join(map(str, inside))}">{piece}</mark>')
        else:
            out.append(piece)
        for n in sorted(ending.get(b, ())):
            label = f'<span class="govuk-visually-hidden">end of finding </span>{n}'
            ref = f'<a href="#{escape(anchor)}{n}" class="govuk-link app-ref__link">[{label}]</a>'
            out.append(f'<sup class="app-ref" data-finding="{n}">{ref}</sup>')
    return Markup("".join(out))


# Charts: inline SVG, drawn by the templates from these shapes.


@dataclass
class Bar:
    label: str
    count: int
    y: float
    width: float


@dataclass
class GradeChart:
    bars: list[Bar]
    width: int = 640
    label_width: int = 190
    bar_height: int = 28
    gap: int = 12

    @property
    def height(self) -> int:
        return len(self.bars) * (self.bar_height + self.gap) + self.gap

    @property
    def description(self) -> str:
        return "; ".join(f"{b.label}: {b.count}" for b in self.bars)


def grade_chart(grades: dict[str, int]) -> GradeChart:
    chart = GradeChart([])
    top = max(grades.values(), default=0) or 1
    room = chart.width - chart.label_width - 60
    for index, grade in enumerate(GRADES):
        count = grades.get(grade, 0)
        y = chart.gap + index * (chart.bar_height + chart.gap)
        chart.bars.append(Bar(grade.capitalize(), count, y, room * count / top))
    return chart


@dataclass
class TrendChart:
    points: list[tuple[float, float, Point]]  # x, y, point
    width: int = 640
    height: int = 260
    left: int = 48
    right: int = 24
    top: int = 16
    bottom: int = 40

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _p) in enumerate(self.points))

    @property
    def gridlines(self) -> list[tuple[int, float]]:
        return [(v, self.y(v)) for v in (0, 25, 50, 75, 100)]

    def y(self, score: float) -> float:
        return self.top + (self.height - self.top - self.bottom) * (1 - score / 100)

    @property
    def description(self) -> str:
        if not self.points:
            return "No finished runs yet."
        first, last = self.points[0][2], self.points[-1][2]
        return (
            f"{len(self.points)} run(s) from {first.at:%d %B %Y} to {last.at:%d %B %Y}; "
            f"mean score {first.mean:.0f} in the first and {last.mean:.0f} in the latest."
        )


def trend_chart(points: list[Point]) -> TrendChart:
    chart = TrendChart([])
    span = chart.width - chart.left - chart.right
    for index, point in enumerate(points):
        x = chart.left + (span * index / (len(points) - 1) if len(points) > 1 else span / 2)
        chart.points.append((x, chart.y(point.mean), point))
    return chart

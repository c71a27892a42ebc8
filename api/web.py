"""The team manager's report (issue 5): server-rendered pages under /report, on the same database
and the same access rules as the API.

- **Sign-in.** An API key is exchanged for a session: a random cookie (HttpOnly, SameSite=Lax,
  Path=/report, Secure over HTTPS) whose SHA-256 digest is stored with the key it stands for, an
  expiry and the CSRF token every form must carry. The sign-in form itself is protected by a
  second cookie it must match. Signing out deletes the session; revoking the key ends it at once.
- **Pages** work without JavaScript (sorting and filtering are links and GET forms) and follow the
  GOV.UK Design System's patterns with its generic header (the report is not on gov.uk). Record
  text is untrusted: templates autoescape, and the one piece built in Python (`marked_text`)
  escapes every piece of text. Personal data is shown masked.
- **Headers.** Every page is `Cache-Control: no-store` (it holds case records) and carries a
  Content-Security-Policy that allows nothing but this service's own stylesheet and forms.
- The HTML download is one self-contained file: its CSS inline, no script, no request elsewhere.
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import exports, report
from api.db import AccessLog, ApiKey, Audit, AuditRecord, Feedback, WebSession, now, utc
from api.feedback import save_feedback, visible_finding
from api.keys import READERS, digest, find_key
from api.scope import CASES_SHOWN, audit_error, find_audit, visible_case_findings
from auditor.engine import mask_spans
from auditor.findings import Category, Grade
from auditor.records import RecordType

SESSION_COOKIE = "auditor_session"
SIGN_IN_COOKIE = "auditor_sign_in"
PREFIX = "/report"
MAX_FORM_BYTES = 64 * 1024  # a 2,000-character comment percent-encoded can take 18 KB
MAX_PAGE = 1_000_000
# Read once: served to browsers and inlined into every download.
_STYLESHEET = (Path(__file__).resolve().parent / "static" / "report.css").read_text(encoding="utf-8")

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# The download may be opened from a mail client or a file: everything it needs is inline.
DOWNLOAD_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
}

CATEGORY_LABELS = {c.value: c.value.replace("_", " ").capitalize() for c in Category}
GRADE_TAGS = {
    Grade.outstanding.value: "govuk-tag--green",
    Grade.good.value: "govuk-tag--blue",
    Grade.requires_improvement.value: "govuk-tag--yellow",
    Grade.inadequate.value: "govuk-tag--red",
}


def session_hours() -> float:
    """How long a browser stays signed in: AUDITOR_SESSION_HOURS, else a working day (8)."""
    try:
        return max(0.05, float(os.environ.get("AUDITOR_SESSION_HOURS", "8")))
    except ValueError:
        return 8.0


@dataclass
class Viewer:
    key: ApiKey
    teams: list[str]
    csrf: str


FormHandler = Callable[[Request, dict[str, str]], Response]


class SignInRequired(Exception):
    def __init__(self, wanted: str) -> None:
        super().__init__("sign in")
        self.wanted = wanted


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a report page of this service, never elsewhere."""
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        rest = value[len(PREFIX) :]
        if rest == "" or rest[0] in "/?":
            return value
    return PREFIX


def _url(path: str, **query: Any) -> str:
    clean = {k: v for k, v in query.items() if v not in (None, "")}
    return path + ("?" + urlencode(clean) if clean else "")


class Link:
    """A page's address with its current query, to change one parameter (sort, page) in links."""

    def __init__(self, path: str, **query: Any) -> None:
        self.path, self.query = path, query

    def __call__(self, **changes: Any) -> str:
        query = {**self.query, **changes}
        if "sort" in changes:
            query.pop("page", None)  # a new order starts at the first page
        return _url(self.path, **query)


def _group_link(path: str, name: str, **query: Any) -> Any:
    return lambda group: _url(path, **query, **{name: group.value})


# The service's one template environment (the report's pages and the API reference), autoescaped:
# record text is untrusted.
TEMPLATES = Environment(loader=PackageLoader("api", "templates"), autoescape=select_autoescape(default=True))
TEMPLATES.globals.update(
    url=_url,
    page_size=report.PAGE_SIZE,
    not_recorded=report.NOT_RECORDED,
    category_labels=CATEGORY_LABELS,
    grade_tags=GRADE_TAGS,
    grades=report.GRADES,
    categories=[c.value for c in Category],
    record_types=[t.value for t in RecordType],
    prefix=PREFIX,
)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


TEMPLATES.filters["score"] = _score
TEMPLATES.globals["marked_text"] = report.marked_text
TEMPLATES.filters["segment"] = lambda value: quote(str(value), safe="")  # one path segment


def add_report(app: FastAPI, state: dict[str, Any]) -> None:
    """The report's pages on `app`; `state` is the service's (its sessions, engine and versions)."""

    def render(name: str, status: int = 200, viewer: Viewer | None = None, **context: Any) -> HTMLResponse:
        html = TEMPLATES.get_template(f"report/{name}").render(viewer=viewer, versions=state["versions"], **context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    # Under /report an unknown address, a wrong method or a malformed parameter is a page; elsewhere
    # the answer stays the API's own (its handler for bad parameters, FastAPI's for the rest).
    api_invalid = app.exception_handlers[RequestValidationError]

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith(PREFIX) and error.status_code in (404, 405):
            message = "Check the address, or start from the list of audits."
            return render("error.html", status=error.status_code, title="Page not found", message=message)
        return await http_exception_handler(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith(PREFIX):
            message = "Check the link, or start from the list of audits."
            return render("error.html", status=400, title="That address is not one the report knows", message=message)
        answer: Response = await api_invalid(request, error)  # type: ignore[misc]
        return answer

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(_request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(_url(f"{PREFIX}/sign-in", next=error.wanted), status_code=303, headers=PAGE_HEADERS)

    @app.exception_handler(PageError)
    async def _page_error(_request: Request, error: PageError) -> Response:
        return render("error.html", status=error.status, title=error.title, message=error.message)

    def viewer_of(request: Request, s: Session) -> Viewer:
        """The signed-in key behind this request's session cookie, or a redirect to sign in."""
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            wanted = PREFIX  # a form's address is no page to come back to (GET there is a 405)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise SignInRequired(wanted)
        row = s.scalars(select(WebSession).where(WebSession.digest == digest(token))).first()
        if row is None or utc(row.expires_at) <= now():
            raise SignInRequired(wanted)
        key = s.get(ApiKey, row.key_id)
        if key is None or key.revoked_at is not None or key.role not in READERS:
            raise SignInRequired(wanted)
        return Viewer(key, sorted(t.team for t in key.teams), row.csrf)

    async def form_of(request: Request) -> dict[str, str]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            raise PageError(415, "That form could not be read", "Send the form from the report's own page.")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise PageError(413, "That form is too large", "Keep a comment to 2,000 characters.")
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            raise PageError(400, "That form could not be read", "Send the form from the report's own page.") from None
        form = {k: v[0] for k, v in parsed.items()}
        if any("\x00" in k or "\x00" in v for k, v in form.items()):
            raise PageError(400, "That form could not be read", "It held a character that cannot be stored.")
        return form

    def log(s: Session, viewer: Viewer, audit_id: str | None, action: str) -> None:
        s.add(AccessLog(key_id=viewer.key.id, audit_id=audit_id, action=action))
        s.commit()

    def audit_of(s: Session, viewer: Viewer, audit_id: str, action: str) -> Audit:
        found = find_audit(s, viewer.key, audit_id, action)
        if found is None:
            raise PageError(404, "Audit not found", "There is no such audit, or none of its records is yours to read.")
        return found

    # Signing in and out.

    @app.get(f"{PREFIX}/sign-in", include_in_schema=False)
    def sign_in_page(request: Request, next: str | None = None, signed_out: bool = False) -> HTMLResponse:
        # Several tabs sent to sign in at once share the browser's token, so each can submit.
        token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
        response = render("sign_in.html", next=_safe_next(next), form_token=token, signed_out=signed_out)
        _set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600, samesite="strict")
        return response

    def form_route(path: str) -> Callable[[FormHandler], FormHandler]:
        """A POST route whose form is read on the event loop and handled in a worker thread."""

        def register(handler: FormHandler) -> FormHandler:
            async def endpoint(request: Request) -> Response:
                form = await form_of(request)
                return await run_in_threadpool(handler, request, form)

            app.post(path, include_in_schema=False)(endpoint)
            return handler

        return register

    @form_route(f"{PREFIX}/sign-in")
    def signing_in(request: Request, form: dict[str, str]) -> Response:
        expected = request.cookies.get(SIGN_IN_COOKIE, "")
        if not expected or not _same(form.get("form_token", ""), expected):
            raise PageError(
                400, "Your sign-in form had expired", "Open the sign-in page again and enter your key once more."
            )
        plain = form.get("key", "").strip()
        wanted = _safe_next(form.get("next"))
        with state["sessions"]() as s:
            key = find_key(s, plain) if plain else None
            error = None
            if not plain:
                error = "Enter your API key"
            elif key is None:
                error = "That key is not recognised, or it has been revoked"
            elif key.role not in READERS:
                error = "That key manages keys and cannot read audits; sign in with an auditor's or manager's key"
            if error is not None or key is None:
                return render("sign_in.html", status=400, next=wanted, form_token=expected, error=error)
            earlier = request.cookies.get(SESSION_COOKIE)
            if earlier:  # signing in again ends this browser's earlier session
                s.execute(delete(WebSession).where(WebSession.digest == digest(earlier)))
            s.execute(delete(WebSession).where(WebSession.expires_at <= now()))
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            hours = session_hours()
            s.add(WebSession(digest=digest(token), key_id=key.id, csrf=csrf, expires_at=now() + timedelta(hours=hours)))
            s.add(AccessLog(key_id=key.id, audit_id=None, action="sign_in"))
            s.commit()
        signed_in = RedirectResponse(wanted, status_code=303, headers=PAGE_HEADERS)
        # Lax, not Strict: a link to a record in an email or a chat must open it without a second
        # sign-in. Cross-site requests still carry no cookie except top-level GETs, and no GET here
        # changes anything (forms are POSTs with a CSRF token).
        _set_cookie(request, signed_in, SESSION_COOKIE, token, max_age=int(hours * 3600), samesite="lax")
        signed_in.delete_cookie(SIGN_IN_COOKIE, path=PREFIX)
        return signed_in

    @form_route(f"{PREFIX}/sign-out")
    def signing_out(request: Request, form: dict[str, str]) -> Response:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            _check_csrf(viewer, form)
            token = request.cookies.get(SESSION_COOKIE, "")
            s.execute(delete(WebSession).where(WebSession.digest == digest(token)))
            s.add(AccessLog(key_id=viewer.key.id, audit_id=None, action="sign_out"))
            s.commit()
        response = RedirectResponse(_url(f"{PREFIX}/sign-in", signed_out="true"), status_code=303, headers=PAGE_HEADERS)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @app.get(f"{PREFIX}/assets/report.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(
            _STYLESHEET.encode("utf-8"),
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    # Pages.

    @app.get(PREFIX, include_in_schema=False)
    def runs_page(request: Request, page: int = 1) -> HTMLResponse:
        page = min(max(page, 1), MAX_PAGE)
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            found, total, page = report.runs(s, viewer.key, page)
            points = report.trend(s, viewer.key)
            log(s, viewer, None, "report_runs")
        return render(
            "runs.html",
            viewer=viewer,
            runs=found,
            page=page,
            pages=report.pages_for(total),
            trend=report.trend_chart(points),
            page_link=Link(PREFIX),
        )

    @app.get(PREFIX + "/audits/{audit_id}", include_in_schema=False)
    def audit_page(request: Request, audit_id: str, sort: str = "name") -> HTMLResponse:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, "report_audit")
            context = _overview(s, viewer.key, audit, sort)
            cases = visible_case_findings(viewer.key, audit.id)
            case_total = s.scalar(select(func.count()).select_from(cases.subquery())) or 0
            context["cases"] = list(s.scalars(cases.limit(CASES_SHOWN)))
            context["case_total"] = case_total
        base = f"{PREFIX}/audits/{audit.id}"
        return render(
            "audit.html",
            viewer=viewer,
            sort_link=Link(base),
            team_link=_group_link(f"{base}/team", "team"),
            error=audit_error(audit, viewer.key),
            **context,
        )

    @app.get(PREFIX + "/audits/{audit_id}/team", include_in_schema=False)
    def team_page(request: Request, audit_id: str, team: str, sort: str = "name") -> HTMLResponse:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, "report_team")
            records = report.scoped_records(viewer.key, audit.id, team=team)
            stats, categories = report.totals(s, records)
            stats.name = None if team == report.NOT_RECORDED else team
            if not stats.records:
                raise PageError(404, "Team not found", "This audit has no records of that team that are yours to read.")
            workers, sort = report.sort_groups(report.grouped_stats(s, records, "worker"), sort)
            points = report.trend(s, viewer.key, team=team)
        return render(
            "team.html",
            viewer=viewer,
            audit=audit,
            team=stats,
            categories=categories,
            workers=workers,
            sort=sort,
            grade_chart=report.grade_chart(stats.grades),
            trend=report.trend_chart(points),
            sort_link=Link(f"{PREFIX}/audits/{audit.id}/team", team=team),
            worker_link=_group_link(f"{PREFIX}/audits/{audit.id}/records", "worker", team=team),
        )

    @app.get(PREFIX + "/audits/{audit_id}/records", include_in_schema=False)
    def records_page(
        request: Request,
        audit_id: str,
        team: str | None = None,
        worker: str | None = None,
        grade: str | None = None,
        category: str | None = None,
        record_type: str | None = None,
        search: str | None = None,
        sort: str = "score",
        page: int = 1,
    ) -> HTMLResponse:
        filters = report.RecordFilters(
            team=team or None,
            worker=worker or None,
            grade=grade if grade in report.GRADES else None,
            category=category if category in CATEGORY_LABELS else None,
            record_type=record_type if record_type in {t.value for t in RecordType} else None,
            search=(search or "").strip()[:200] or None,
            sort=sort if sort in report.RECORD_SORTS else "score",
            page=min(max(page, 1), MAX_PAGE),
        )
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, "report_records")
            rows, total = report.record_page(s, viewer.key, audit.id, filters)
            teams = report.teams_in(s, viewer.key, audit.id)
        return render(
            "records.html",
            viewer=viewer,
            audit=audit,
            rows=rows,
            total=total,
            filters=filters,
            teams=teams,
            pages=report.pages_for(total),
            link=Link(f"{PREFIX}/audits/{audit.id}/records", **filters.query()),
        )

    @app.get(PREFIX + "/audits/{audit_id}/records/{record_id:path}", include_in_schema=False)
    def record_page(request: Request, audit_id: str, record_id: str, saved: bool = False) -> HTMLResponse:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, "report_record")
            row = s.scalars(
                report.scoped_records(viewer.key, audit.id).where(AuditRecord.record_id == record_id)
            ).first()
            if row is None:
                raise PageError(404, "Record not found", "This audit has no such record that is yours to read.")
            view = _record_view(s, viewer.key, row)
        return render("record.html", viewer=viewer, audit=audit, saved=saved, **view)

    @form_route(PREFIX + "/findings/{finding_id:int}/feedback")
    def giving_feedback(request: Request, form: dict[str, str]) -> Response:
        finding_id: int = request.path_params["finding_id"]
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            _check_csrf(viewer, form)
            found = visible_finding(s, viewer.key, finding_id) if 1 <= finding_id < 2**31 else None
            if found is None:
                raise PageError(404, "Finding not found", "There is no such finding, or it is not yours to read.")
            opinion = form.get("opinion")
            comment = form.get("comment", "").strip()[:2000] or None
            record = s.get(AuditRecord, found.audit_record_id)
            assert record is not None  # the finding was found through its record
            if opinion not in ("agree", "disagree"):
                # The record again, with the error on the finding's form and the comment kept.
                view = _record_view(s, viewer.key, record)
                audit = s.get(Audit, record.audit_id)
                number = next(m.number for m in view["marks"] if m.row.id == found.id)
                problem = {"finding_id": found.id, "number": number, "comment": comment or ""}
                return render("record.html", status=400, viewer=viewer, audit=audit, problem=problem, **view)
            save_feedback(s, viewer.key, found, opinion == "agree", comment)
            target = f"{PREFIX}/audits/{record.audit_id}/records/{quote(record.record_id, safe='')}"
        return RedirectResponse(
            _url(target, saved="true") + f"#finding-id-{finding_id}", status_code=303, headers=PAGE_HEADERS
        )

    @app.get(PREFIX + "/rules", include_in_schema=False)
    def rules_page(request: Request) -> HTMLResponse:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
        return render("rules.html", viewer=viewer, rules=list(state["auditor"].rules))

    # Downloads.

    @app.get(PREFIX + "/audits/{audit_id}/download.html", include_in_schema=False)
    def download(request: Request, audit_id: str) -> Response:
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, "report_download")
            context = _overview(s, viewer.key, audit, "name")
            columns = (AuditRecord.record_id, AuditRecord.score, AuditRecord.grade, AuditRecord.position)
            index = s.execute(
                report.scoped_records(viewer.key, audit.id).with_only_columns(*columns).order_by(AuditRecord.position)
            ).all()

        def records() -> Iterator[dict[str, Any]]:
            # Read and rendered a hundred records at a time while the file is sent: an audit of
            # thousands of records is never held whole in memory.
            with state["sessions"]() as s:
                query = report.scoped_records(viewer.key, audit.id).order_by(AuditRecord.position)
                for row in s.scalars(query.execution_options(yield_per=100)):
                    yield _record_view(s, viewer.key, row, with_opinions=False)

        chunks = TEMPLATES.get_template("report/download.html").generate(
            viewer=viewer,
            versions=state["versions"],
            index=index,
            records=records(),
            stylesheet=_STYLESHEET,
            generated=now(),
            **context,
        )
        headers = {**DOWNLOAD_HEADERS, "Content-Disposition": f'attachment; filename="audit-{audit.id}.html"'}
        return StreamingResponse(_buffered(chunks), media_type="text/html; charset=utf-8", headers=headers)

    @app.get(PREFIX + "/audits/{audit_id}/export.{kind}", include_in_schema=False)
    def download_export(request: Request, audit_id: str, kind: str) -> Response:
        """The API's CSV and XLSX exports, for a signed-in browser."""
        exporter = {"csv": exports.csv_response, "xlsx": exports.xlsx_response}.get(kind)
        if exporter is None:
            raise PageError(404, "Page not found", "The exports are CSV and XLSX.")
        with state["sessions"]() as s:
            viewer = viewer_of(request, s)
            audit = audit_of(s, viewer, audit_id, f"export_{kind}")
            return exporter(s, viewer.key, audit.id)


def _buffered(chunks: Iterator[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """Jinja's many small pieces sent as fewer, larger writes."""
    pending: list[str] = []
    length = 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending).encode("utf-8")
            pending, length = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")


def _same(given: str, expected: str) -> bool:
    """A constant-time comparison that any text can be given to (hmac's refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _check_csrf(viewer: Viewer, form: dict[str, str]) -> None:
    if not _same(form.get("csrf", ""), viewer.csrf):
        raise PageError(403, "That form had expired", "Go back, reload the page and try again. Nothing was changed.")


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int, samesite: Literal["lax", "strict"]
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        httponly=True,
        samesite=samesite,
        secure=request.url.scheme == "https" or os.environ.get("AUDITOR_COOKIE_SECURE") == "1",
    )


def _overview(s: Session, key: ApiKey, audit: Audit, sort: str) -> dict[str, Any]:
    records = report.scoped_records(key, audit.id)
    stats, categories = report.totals(s, records)
    teams, sort = report.sort_groups(report.grouped_stats(s, records, "team"), sort)
    return {
        "audit": audit,
        "created": utc(audit.created_at),
        "stats": stats,
        "categories": categories,
        "teams": teams,
        "sort": sort,
        "grade_chart": report.grade_chart(stats.grades),
    }


def _record_view(s: Session, key: ApiKey, row: AuditRecord, with_opinions: bool = True) -> dict[str, Any]:
    findings = list(row.findings)
    text = mask_spans(row.text, 0, report.hidden_spans(row.text, findings))
    marks = report.marks_of(text, findings)
    opinions: dict[int, Feedback] = {}
    if with_opinions and findings:
        opinions = {
            f.finding_id: f
            for f in s.scalars(
                select(Feedback).where(Feedback.key_id == key.id, Feedback.finding_id.in_([f.id for f in findings]))
            )
        }
    return {
        "record": row,
        "marks": marks,
        "text": text,
        "opinions": opinions,
        "section": f"r{row.position}-",
    }

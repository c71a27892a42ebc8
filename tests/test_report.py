"""The team manager's report (/report) in process, through FastAPI's TestClient: signing in and
out, the session cookie, CSRF, what a manager may see, the record view (escaped, masked, findings
marked), filters and sorting, headers and footer, the self-contained download and the trend
charts; on SQLite and (when AUDITOR_TEST_DATABASE_URL is set) on PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import DATABASES, fresh_database
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.app import create_app, load_samples
from api.db import Audit, AuditRecord, Feedback, FindingRow, WebSession, make_engine, migrate, now
from api.exports import EXPORT_COLUMNS
from api.keys import Role, create_key, revoke_key
from auditor import __version__
from auditor.engine import Auditor

AUDITOR = Auditor()  # shared: loading the rules and the model once keeps the suite quick

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
SAMPLE_ROWS = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
EAST = "Safeguarding East"

PHONE, EMAIL = "07700 900123", "jo.bloggs@example.org"
ESCAPE_TEXT = (
    "Actions\n- Mum to engage with services <script>alert(1)</script> and <b>bold</b> & co.\n- SW to visit weekly."
)
PERSONAL_TEXT = (
    f"Actions\n- Dad to engage with services.\nCall Mum on {PHONE} or email {EMAIL} if worried.\n"
    "- Keep the family safe."
)
ODD_ID = 'X/<i>&"1'  # a record id that must be escaped in HTML and quoted in links
EXTRA = [
    {"id": "X-ESCAPE", "record_type": "plan", "plan_type": "cp", "team": "Extra Team", "worker": "W-X1"}
    | {"text": ESCAPE_TEXT},
    {"id": "X-PERSONAL", "record_type": "plan", "plan_type": "cp", "team": "Extra Team", "worker": "W-X2"}
    | {"text": PERSONAL_TEXT},
    {"id": "X-NOTEAM-1", "record_type": "plan", "plan_type": "cin", "text": "Actions\n- Mum to engage."},
    {
        "id": "X-NOTEAM-2",
        "record_type": "plan",
        "plan_type": "cin",
        "worker": "W-X3",
        "text": "Actions\n- SW to visit.",
    },
    {"id": ODD_ID, "record_type": "plan", "plan_type": "cp", "team": "Extra Team", "text": "Actions\n- Mum to try."},
]


@pytest.fixture(scope="module", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """As in test_api.py, but one database for the module: the report only reads what tests add."""
    yield fresh_database(request.param, tmp_path_factory.mktemp("report"))


# A small HTML tree (the standard library's parser), to read pages as a browser would.

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag) and all(n.attrs.get(k) == v for k, v in wanted.items())
        ]

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        found = self.all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def hidden_inputs(html: str) -> dict[str, str]:
    return {n.attrs["name"]: n.attrs.get("value", "") for n in parse(html).all("input", type="hidden")}


def records_table(html: str) -> list[list[str]]:
    """The rows of the records page's table, each its cells' text (the record id first)."""
    tables = parse(html).all("table", id="records")
    if not tables:
        return []
    body = tables[0].one("tbody")
    return [[c.text().strip() for c in row.children if isinstance(c, Node)] for row in body.all("tr")]


def record_count(html: str) -> int:
    line = parse(html).one("p", id="record-count").text().strip()
    match = re.match(r"(\d+) records?\b", line)
    assert match, line
    return int(match.group(1))


def trend_circles(html: str) -> int:
    svg = next(s for s in parse(html).all("svg") if s.all("title", id="trend-title"))
    return len(svg.all("circle"))


# The service, its data and its browsers.


@dataclass
class Key:
    plain: str
    id: int

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plain}"}


class Site:
    """The app on a database holding the sample records (one audit) and the EXTRA batch (another)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        migrate(self.engine)
        self.samples_id, _created = load_samples(self.engine, AUDITOR, SAMPLES)
        self.app = create_app(url, auditor=AUDITOR)
        self.api = TestClient(self.app)
        self.api.__enter__()
        self.auditor = self.key(Role.auditor)
        made = self.api.post("/v1/audits", json={"records": EXTRA}, headers=self.auditor.bearer)
        assert made.status_code == 201, made.text
        self.extra_id = made.json()["id"]

    def close(self) -> None:
        self.api.__exit__(None, None, None)
        self.engine.dispose()

    def key(self, role: Role, teams: list[str] | None = None) -> Key:
        with Session(self.engine) as s:
            plain, row = create_key(s, role, f"test {role}", teams)
            s.commit()
            return Key(plain, row.id)

    def browser(self, base_url: str = "http://testserver") -> TestClient:
        """A new browser (its own cookies) on the running app (its lifespan entered by `api`)."""
        return TestClient(self.app, base_url=base_url)

    def sign_in(self, key: Key) -> TestClient:
        """A new browser, signed in with `key` through the sign-in form."""
        browser = self.browser()
        page = browser.get("/report/sign-in")
        assert page.status_code == 200
        done = browser.post("/report/sign-in", data={**hidden_inputs(page.text), "key": key.plain})
        assert done.status_code == 200 and urlsplit(str(done.url)).path.startswith("/report"), done.text
        return browser

    def csrf(self, browser: TestClient) -> str:
        """The CSRF token a signed-in page's sign-out form carries."""
        return hidden_inputs(browser.get("/report").text)["csrf"]

    def count(self, query: Any) -> int:
        with Session(self.engine) as s:
            return s.scalar(select(func.count()).select_from(query.subquery())) or 0

    def record_ids(self, audit_id: str, *where: Any) -> set[str]:
        with Session(self.engine) as s:
            return set(s.scalars(select(AuditRecord.record_id).where(AuditRecord.audit_id == audit_id, *where)))

    def session_row(self, cookie: str) -> WebSession | None:
        with Session(self.engine) as s:
            return s.scalars(select(WebSession).where(WebSession.digest == _sha256(cookie))).first()


@pytest.fixture(scope="module")
def site(database_url: str) -> Iterator[Site]:
    running = Site(database_url)
    yield running
    running.close()


@pytest.fixture(scope="module")
def auditor_browser(site: Site) -> TestClient:
    return site.sign_in(site.auditor)


@pytest.fixture(scope="module")
def east(site: Site) -> TestClient:
    return site.sign_in(site.key(Role.manager, [EAST]))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _set_cookies(response: Any) -> dict[str, str]:
    """Each Set-Cookie header of the response by its cookie's name."""
    return {h.split("=", 1)[0].strip(): h for h in response.headers.get_list("set-cookie")}


def _attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts if p}


def _pages(site: Site) -> list[str]:
    """Every GET page of the report, for an auditor."""
    audit = f"/report/audits/{site.samples_id}"
    return [
        "/report",
        "/report/rules",
        audit,
        f"{audit}/team?team=Safeguarding+East",
        f"{audit}/records",
        f"{audit}/records?grade=inadequate&sort=-score",
        f"{audit}/records/S-PLAN-CP-01",
        f"{audit}/download.html",
        f"{audit}/export.csv",
        f"{audit}/export.xlsx",
    ]


# 1. Signing in first, and where to go after.


def test_every_page_redirects_to_sign_in_and_next_is_honoured(site: Site) -> None:
    for page in _pages(site):
        browser = site.browser()
        first = browser.get(page, follow_redirects=False)
        assert first.status_code == 303, page
        location = urlsplit(first.headers["location"])
        assert location.path == "/report/sign-in" and parse_qs(location.query)["next"] == [page], page
        form = browser.get(first.headers["location"])
        fields = hidden_inputs(form.text)
        assert fields["next"] == page
        signed_in = browser.post("/report/sign-in", data={**fields, "key": site.auditor.plain}, follow_redirects=False)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == page
        assert browser.get(page).status_code == 200, page


def test_a_form_posted_without_a_session_changes_nothing_and_signing_in_lands_on_a_page(site: Site) -> None:
    with Session(site.engine) as s:
        finding = s.scalars(select(FindingRow.id).order_by(FindingRow.id)).first()
    browser = site.browser()
    posted = browser.post(
        f"/report/findings/{finding}/feedback", data={"opinion": "agree", "csrf": "x"}, follow_redirects=False
    )
    assert posted.status_code == 303 and urlsplit(posted.headers["location"]).path == "/report/sign-in"
    assert site.count(select(Feedback).where(Feedback.finding_id == finding)) == 0
    form = hidden_inputs(browser.get(posted.headers["location"]).text)
    landed = browser.post("/report/sign-in", data={**form, "key": site.auditor.plain})
    assert landed.status_code == 200, f"signing in led to {landed.url} ({landed.status_code})"


@pytest.mark.parametrize(
    "wanted",
    [
        "//evil.example",
        "https://evil.example",
        "https://evil.example/report",
        "/reportx",
        "/report@evil.example",
        "/\\evil.example",
        "/report\\..\\..\\evil.example",
        "",
    ],
)
def test_signing_in_never_goes_elsewhere(site: Site, wanted: str) -> None:
    browser = site.browser()
    page = browser.get("/report/sign-in", params={"next": wanted})
    fields = hidden_inputs(page.text)
    assert fields["next"] == "/report"
    # and a form posted with its own `next` (not the page's) is held to the same rule
    done = browser.post(
        "/report/sign-in", data={**fields, "next": wanted, "key": site.auditor.plain}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/report"


# 2. Sign-in.


def test_a_key_that_cannot_sign_in_gets_the_form_again_with_an_error_and_no_session(site: Site) -> None:
    revoked = site.key(Role.auditor)
    with Session(site.engine) as s:
        assert revoke_key(s, revoked.id)
        s.commit()
    admin = site.key(Role.admin)
    sessions_before = site.count(select(WebSession))
    for plain in ("", "   ", "aud_not-a-key", revoked.plain, admin.plain):
        browser = site.browser()
        fields = hidden_inputs(browser.get("/report/sign-in").text)
        refused = browser.post("/report/sign-in", data={**fields, "key": plain}, follow_redirects=False)
        assert refused.status_code == 400, plain
        summary = parse(refused.text).all(role="alert")
        assert summary and summary[0].has_class("govuk-error-summary") and summary[0].text().strip()
        assert "auditor_session" not in _set_cookies(refused) and "auditor_session" not in browser.cookies
        assert plain.strip() == "" or plain not in refused.text  # the key is never echoed
        assert browser.get("/report", follow_redirects=False).status_code == 303
    assert site.count(select(WebSession)) == sessions_before


def test_the_sign_in_form_needs_its_own_token(site: Site) -> None:
    browser = site.browser()
    fields = hidden_inputs(browser.get("/report/sign-in").text)
    for form in (
        {"key": site.auditor.plain, "next": "/report"},
        {"key": site.auditor.plain, "next": "/report", "form_token": ""},
        {"key": site.auditor.plain, "next": "/report", "form_token": fields["form_token"] + "x"},
    ):
        refused = browser.post("/report/sign-in", data=form, follow_redirects=False)
        assert refused.status_code == 400 and "auditor_session" not in _set_cookies(refused)
    # the right token, but from a browser that was never given the form (no sign-in cookie)
    stranger = site.browser()
    refused = stranger.post("/report/sign-in", data={**fields, "key": site.auditor.plain}, follow_redirects=False)
    assert refused.status_code == 400 and "auditor_session" not in _set_cookies(refused)
    # and the form itself still works
    done = browser.post("/report/sign-in", data={**fields, "key": site.auditor.plain}, follow_redirects=False)
    assert done.status_code == 303


def test_the_session_cookie_is_http_only_lax_and_stored_as_a_digest(site: Site) -> None:
    browser = site.browser()
    fields = hidden_inputs(browser.get("/report/sign-in").text)
    done = browser.post("/report/sign-in", data={**fields, "key": site.auditor.plain}, follow_redirects=False)
    header = _set_cookies(done)["auditor_session"]
    attributes = _attributes(header)
    # Lax: a link to a record in an email opens it; no GET changes anything, and forms carry a token.
    assert "httponly" in attributes and attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/report" and "secure" not in attributes
    sign_in_cookie = _attributes(_set_cookies(browser.get("/report/sign-in"))["auditor_sign_in"])
    assert "httponly" in sign_in_cookie and sign_in_cookie["samesite"].lower() == "strict"
    value = browser.cookies["auditor_session"]
    assert value == header.split(";", 1)[0].split("=", 1)[1] and len(value) >= 32
    row = site.session_row(value)
    assert row is not None and row.key_id == site.auditor.id
    with Session(site.engine) as s:
        stored = [(r.digest, r.csrf) for r in s.scalars(select(WebSession))]
    assert all(value not in (digest, csrf) for digest, csrf in stored)
    assert browser.get("/report").status_code == 200
    assert "auditor_session" not in browser.get("/v1/rules").request.headers.get("cookie", "")  # Path=/report


def test_the_session_cookie_is_secure_over_https_or_when_configured(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = site.browser("https://testserver")
    fields = hidden_inputs(browser.get("/report/sign-in").text)
    done = browser.post("/report/sign-in", data={**fields, "key": site.auditor.plain}, follow_redirects=False)
    assert "secure" in _attributes(_set_cookies(done)["auditor_session"])
    assert browser.get("/report").status_code == 200
    # behind a proxy that ends TLS, the service sees http: AUDITOR_COOKIE_SECURE=1 says otherwise
    monkeypatch.setenv("AUDITOR_COOKIE_SECURE", "1")
    plain = site.browser()
    page = plain.get("/report/sign-in")
    assert "secure" in _attributes(_set_cookies(page)["auditor_sign_in"])
    token = hidden_inputs(page.text)["form_token"]
    done = site.browser().post(
        "/report/sign-in",
        data={"form_token": token, "next": "/report", "key": site.auditor.plain},
        headers={"Cookie": f"auditor_sign_in={token}"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "secure" in _attributes(_set_cookies(done)["auditor_session"])


# 3. CSRF.


def test_signing_out_needs_the_csrf_token_and_ends_the_session(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    other = site.sign_in(site.key(Role.auditor))
    cookie = browser.cookies["auditor_session"]
    for form in ({"next": "/report"}, {"csrf": ""}, {"csrf": "wrong"}, {"csrf": site.csrf(other)}):
        refused = browser.post("/report/sign-out", data=form, follow_redirects=False)
        assert refused.status_code == 403
        assert browser.get("/report", follow_redirects=False).status_code == 200
    unreadable = browser.post("/report/sign-out", json={"csrf": site.csrf(browser)}, follow_redirects=False)
    assert unreadable.status_code == 415 and site.session_row(cookie) is not None
    signed_out = browser.post("/report/sign-out", data={"csrf": site.csrf(browser)}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert urlsplit(signed_out.headers["location"]).path == "/report/sign-in"
    assert site.session_row(cookie) is None
    replayed = site.browser().get("/report", headers={"Cookie": f"auditor_session={cookie}"}, follow_redirects=False)
    assert replayed.status_code == 303 and urlsplit(replayed.headers["location"]).path == "/report/sign-in"
    assert other.get("/report", follow_redirects=False).status_code == 200  # the other session is untouched


def _api_records(site: Site, audit_id: str) -> dict[str, dict[str, Any]]:
    """The audit's records as the API gives them to an auditor, by record id, with their findings."""
    body = site.api.get(f"/v1/audits/{audit_id}/records", headers=site.auditor.bearer, params={"limit": 500})
    assert body.status_code == 200
    return {r["id"]: r for r in body.json()["items"]}


def _csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    reader = csv.reader(io.StringIO(response.content.decode("utf-8-sig")))
    header = next(reader)
    assert header == EXPORT_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_feedback_needs_the_csrf_token_then_is_stored_shown_and_exported(site: Site) -> None:
    reviewer = site.key(Role.auditor)
    browser = site.sign_in(reviewer)
    record = _api_records(site, site.extra_id)["X-PERSONAL"]
    finding = record["findings"][0]["finding_id"]
    url = f"/report/findings/{finding}/feedback"
    comment = "Dad was at the meeting & agreed <this>"
    for form in ({"opinion": "disagree", "comment": comment}, {"opinion": "disagree", "csrf": "nope"}):
        refused = browser.post(url, data=form, follow_redirects=False)
        assert refused.status_code == 403
    assert site.count(select(Feedback).where(Feedback.finding_id == finding)) == 0
    saved = browser.post(
        url, data={"opinion": "disagree", "comment": comment, "csrf": site.csrf(browser)}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert saved.headers["location"].endswith(f"#finding-id-{finding}")
    with Session(site.engine) as s:
        rows = list(s.scalars(select(Feedback).where(Feedback.finding_id == finding)))
    assert [(r.key_id, r.agrees, r.comment) for r in rows] == [(reviewer.id, False, comment)]
    page = browser.get(saved.headers["location"])
    assert page.status_code == 200
    item = next(li for li in parse(page.text).all("li") if li.all(id=f"finding-id-{finding}"))
    assert " ".join(item.one("summary").text().split()) == "Your view: you disagree"
    assert item.one("textarea").text() == comment
    assert item.one("input", value="disagree").attrs.get("checked") is not None
    assert page.text.count("Your view:") == 1  # the record's other findings have none yet
    export = _csv_rows(browser.get(f"/report/audits/{site.extra_id}/export.csv"))
    row = next(r for r in export if r["finding_id"] == str(finding))
    assert row["feedback_comments"] == f"disagree: {comment}" and row["feedback_disagree"] == "1"
    # another reader's page does not show this key's view as theirs
    record_page = urlsplit(saved.headers["location"]).path
    assert "Your view:" in browser.get(record_page).text
    assert "Your view:" not in site.sign_in(site.key(Role.auditor)).get(record_page).text


def test_a_manager_cannot_give_feedback_on_another_teams_finding(site: Site, east: TestClient) -> None:
    record = _api_records(site, site.extra_id)["X-ESCAPE"]
    finding = record["findings"][0]["finding_id"]
    refused = east.post(
        f"/report/findings/{finding}/feedback",
        data={"opinion": "agree", "csrf": site.csrf(east)},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    assert site.count(select(Feedback).where(Feedback.finding_id == finding)) == 0


# 4. Revoked keys and expired sessions.


def test_revoking_the_key_ends_its_session_at_once(site: Site) -> None:
    key = site.key(Role.manager, [EAST])
    browser = site.sign_in(key)
    assert browser.get("/report", follow_redirects=False).status_code == 200
    with Session(site.engine) as s:
        assert revoke_key(s, key.id)
        s.commit()
    for page in ("/report", f"/report/audits/{site.samples_id}/export.csv"):
        ended = browser.get(page, follow_redirects=False)
        assert ended.status_code == 303 and urlsplit(ended.headers["location"]).path == "/report/sign-in"


def _expire(site: Site, cookie: str) -> None:
    """Make the session behind this cookie a minute past its expiry."""
    with Session(site.engine) as s:
        s.execute(
            update(WebSession)
            .where(WebSession.digest == _sha256(cookie))
            .values(expires_at=now() - timedelta(minutes=1))
        )
        s.commit()


def test_an_expired_session_must_sign_in_again(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    cookie = browser.cookies["auditor_session"]
    assert browser.get("/report", follow_redirects=False).status_code == 200
    _expire(site, cookie)
    ended = browser.get(f"/report/audits/{site.samples_id}", follow_redirects=False)
    assert ended.status_code == 303 and urlsplit(ended.headers["location"]).path == "/report/sign-in"


# 5. What a manager sees.


EAST_IDS = {r["id"] for r in SAMPLE_ROWS if r.get("team") == EAST}


def test_a_manager_sees_only_their_team(site: Site, east: TestClient, auditor_browser: TestClient) -> None:
    assert EAST_IDS and len(EAST_IDS) < len(SAMPLE_ROWS)
    audit = f"/report/audits/{site.samples_id}"

    def teams_listed(html: str) -> set[str]:
        return {th.text().strip() for th in parse(html).all("th", scope="row")}

    assert teams_listed(auditor_browser.get(audit).text) == {r["team"] for r in SAMPLE_ROWS}
    assert teams_listed(east.get(audit).text) == {EAST}

    other = next(r for r in SAMPLE_ROWS if r["team"] != EAST)
    assert auditor_browser.get(f"{audit}/records/{other['id']}").status_code == 200
    assert east.get(f"{audit}/records/{other['id']}").status_code == 404
    assert east.get(f"{audit}/records/{sorted(EAST_IDS)[0]}").status_code == 200
    assert auditor_browser.get(f"{audit}/team", params={"team": other["team"]}).status_code == 200
    assert east.get(f"{audit}/team", params={"team": other["team"]}).status_code == 404
    own_team = east.get(f"{audit}/team", params={"team": EAST})
    assert own_team.status_code == 200 and parse(own_team.text).one("h1").text().strip() == EAST

    listed = east.get(f"{audit}/records")
    assert {row[0] for row in records_table(listed.text)} == EAST_IDS and record_count(listed.text) == len(EAST_IDS)
    elsewhere = east.get(f"{audit}/records", params={"team": other["team"]})
    assert records_table(elsewhere.text) == [] and record_count(elsewhere.text) == 0

    download = parse(east.get(f"{audit}/download.html").text)
    assert {n.attrs["data-record"] for n in download.all(class_="app-record-text")} == EAST_IDS
    text = download.text()
    assert not [r["id"] for r in SAMPLE_ROWS if r["id"] not in EAST_IDS and r["id"] in text]

    rows = _csv_rows(east.get(f"{audit}/export.csv"))
    assert {r["record_id"] for r in rows} == EAST_IDS and {r["team"] for r in rows} == {EAST}

    book = load_workbook(io.BytesIO(east.get(f"{audit}/export.xlsx").content), read_only=True)
    sheet = list(book["findings"].iter_rows(values_only=True))
    assert list(sheet[0]) == EXPORT_COLUMNS
    column = EXPORT_COLUMNS.index("record_id")
    assert {row[column] for row in sheet[1:]} == EAST_IDS


def test_a_manager_whose_teams_are_not_in_an_audit_cannot_open_it(site: Site) -> None:
    leaving = site.sign_in(site.key(Role.manager, ["Leaving Care"]))
    assert leaving.get(f"/report/audits/{site.samples_id}").status_code == 200
    extra = f"/report/audits/{site.extra_id}"
    for page in (extra, f"{extra}/records", f"{extra}/download.html", f"{extra}/export.csv"):
        assert leaving.get(page).status_code == 404, page
    runs = parse(leaving.get("/report").text)
    assert [a.attrs["href"] for a in runs.all("a") if site.extra_id in a.attrs.get("href", "")] == []


# 6. The record view.


def _record_page(browser: TestClient, audit_id: str, record_id: str) -> Node:
    page = browser.get(f"/report/audits/{audit_id}/records/{record_id}")
    assert page.status_code == 200
    return parse(page.text)


def test_record_text_is_escaped(site: Site, auditor_browser: TestClient) -> None:
    page = auditor_browser.get(f"/report/audits/{site.extra_id}/records/X-ESCAPE")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "&lt;b&gt;bold&lt;/b&gt;" in page.text
    assert "<script" not in page.text.lower() and "<b>" not in page.text.lower()
    shown = parse(page.text).one(class_="app-record-text")
    assert "<script>alert(1)</script>" in shown.text()  # shown as the words they are
    download = auditor_browser.get(f"/report/audits/{site.extra_id}/download.html")
    assert "<script" not in download.text.lower() and "&lt;script&gt;" in download.text


def test_odd_record_ids_are_escaped_and_their_links_work(site: Site, auditor_browser: TestClient) -> None:
    listed = auditor_browser.get(f"/report/audits/{site.extra_id}/records")
    assert "<i>" not in listed.text
    table = parse(listed.text).one("table", id="records")
    links = {a.text().strip(): a.attrs["href"] for a in table.all("a") if "/records/" in a.attrs["href"]}
    assert set(links) == {r["id"] for r in EXTRA}
    for record_id, href in links.items():
        page = auditor_browser.get(href)
        assert page.status_code == 200, href
        assert parse(page.text).one("h1").text().strip() == record_id
    assert "<i>" not in auditor_browser.get(links[ODD_ID]).text


def test_personal_data_is_masked(site: Site, auditor_browser: TestClient) -> None:
    page = auditor_browser.get(f"/report/audits/{site.extra_id}/records/X-PERSONAL")
    assert page.status_code == 200
    for secret in (PHONE, EMAIL, "900123", "bloggs"):
        assert secret not in page.text
    shown = _without_refs(parse(page.text).one(class_="app-record-text"))
    assert len(shown) == len(PERSONAL_TEXT)
    for secret in (PHONE, EMAIL):
        at = PERSONAL_TEXT.index(secret)
        assert shown[at : at + len(secret)] == re.sub(r"[A-Za-z0-9]", "*", secret)
    # nothing else is changed but letters and digits turned to asterisks
    assert all(a == b or (a.isalnum() and b == "*") for a, b in zip(PERSONAL_TEXT, shown, strict=True))
    assert shown.startswith("Actions\n- Dad to engage with services.")
    download = auditor_browser.get(f"/report/audits/{site.extra_id}/download.html")
    assert PHONE not in download.text and EMAIL not in download.text


def _without_refs(node: Node) -> str:
    """The text of a record view, without the bracketed references after each finding and the
    screen-reader cue before it."""
    out = []
    for child in node.children:
        if isinstance(child, str):
            out.append(child)
        elif not (child.tag == "sup" and child.has_class("app-ref")) and not child.has_class("govuk-visually-hidden"):
            out.append(_without_refs(child))
    return "".join(out)


def _marked_words(text_node: Node) -> dict[int, str]:
    words: dict[int, str] = {}
    for mark in text_node.all("mark"):
        for number in mark.attrs["data-findings"].split():
            words[int(number)] = words.get(int(number), "") + mark.text()
    return words


def _finding_numbers(page: Node) -> dict[int, int]:
    """The API's finding id of each numbered finding in the page's list of findings."""
    numbers = {}
    for item in page.all("li"):
        match = re.fullmatch(r"finding-(\d+)", item.attrs.get("id", ""))
        if match:
            titles = [n for n in item.walk() if n.attrs.get("id", "").startswith("finding-id-")]
            assert len(titles) == 1
            numbers[int(match.group(1))] = int(titles[0].attrs["id"].removeprefix("finding-id-"))
    return numbers


@pytest.mark.parametrize(
    "record_id",
    ["X-ESCAPE", "X-PERSONAL", "S-PLAN-CP-02", "S-PLAN-CP-03", "S-PLAN-PEP-03", "S-SUP-02", "S-PLAN-CLA-02"],
)
def test_each_findings_words_are_marked(site: Site, auditor_browser: TestClient, record_id: str) -> None:
    audit_id = site.extra_id if record_id.startswith("X-") else site.samples_id
    submitted = next(r for r in [*EXTRA, *SAMPLE_ROWS] if r["id"] == record_id)["text"]
    findings = {f["finding_id"]: f for f in _api_records(site, audit_id)[record_id]["findings"]}
    assert findings, "a record with findings is needed"
    page = _record_page(auditor_browser, audit_id, record_id)
    numbers = _finding_numbers(page)
    assert sorted(numbers.values()) == sorted(findings) and sorted(numbers) == list(range(1, len(findings) + 1))
    in_order = [findings[numbers[n]] for n in sorted(numbers)]
    reading = [(f["start"] >= f["end"], f["start"]) for f in in_order]
    assert reading == sorted(reading)  # numbered in reading order, the record-wide findings last
    marked = _marked_words(page.one(class_="app-record-text"))
    personal = [(f["start"], f["end"]) for f in findings.values() if f["category"] == "possible_personal_data"]
    checked = 0
    for number, finding_id in numbers.items():
        f = findings[finding_id]
        if f["start"] >= f["end"]:
            assert number not in marked  # about the record as a whole: nothing to mark
            continue
        assert number in marked, f
        if any(a < f["end"] and f["start"] < b for a, b in personal):
            assert len(marked[number]) == f["end"] - f["start"]
            continue
        assert marked[number] == submitted[f["start"] : f["end"]] == f["text"]
        checked += 1
    assert checked, "no finding's words were compared"
    assert set(marked) <= set(numbers)
    # every reference in the text leads to its finding in the list
    ids = {n.attrs["id"] for n in page.walk() if "id" in n.attrs}
    refs = page.one(class_="app-record-text").all("a")
    assert refs and all(a.attrs["href"].startswith("#") and a.attrs["href"][1:] in ids for a in refs)


# 7. Filters and sorting.


def _records_of(browser: TestClient, audit_id: str, **query: str) -> tuple[list[list[str]], int]:
    page = browser.get(f"/report/audits/{audit_id}/records", params=query)
    assert page.status_code == 200
    return records_table(page.text), record_count(page.text)


def test_filtering_by_grade_and_category(site: Site, auditor_browser: TestClient) -> None:
    for grade in ("inadequate", "outstanding", "requires improvement"):
        expected = site.record_ids(site.samples_id, AuditRecord.grade == grade)
        assert expected, grade
        rows, total = _records_of(auditor_browser, site.samples_id, grade=grade)
        assert {r[0] for r in rows} == expected and total == len(expected)
        assert {r[6] for r in rows} == {grade.capitalize()}
    with Session(site.engine) as s:
        by_category: dict[str, set[str]] = {}
        for category, record_id in s.execute(
            select(FindingRow.category, AuditRecord.record_id)
            .join(AuditRecord, AuditRecord.id == FindingRow.audit_record_id)
            .where(AuditRecord.audit_id == site.samples_id)
        ):
            by_category.setdefault(category, set()).add(record_id)
    some = [c for c, ids in by_category.items() if 0 < len(ids) < len(SAMPLE_ROWS)]
    assert len(some) >= 3
    for category in some:
        rows, total = _records_of(auditor_browser, site.samples_id, category=category)
        assert {r[0] for r in rows} == by_category[category] and total == len(by_category[category])
    rows, total = _records_of(auditor_browser, site.samples_id, grade="inadequate", category=some[0])
    expected = by_category[some[0]] & site.record_ids(site.samples_id, AuditRecord.grade == "inadequate")
    assert {r[0] for r in rows} == expected and total == len(expected)


def test_sorting_by_score(site: Site, auditor_browser: TestClient) -> None:
    rows, total = _records_of(auditor_browser, site.samples_id, sort="score")
    scores = [int(r[5]) for r in rows]
    assert len(rows) == total == len(SAMPLE_ROWS) and scores == sorted(scores) and scores[0] < scores[-1]
    rows, _total = _records_of(auditor_browser, site.samples_id, sort="-score")
    assert [int(r[5]) for r in rows] == sorted(scores, reverse=True)
    with Session(site.engine) as s:
        stored = dict(
            s.execute(
                select(AuditRecord.record_id, AuditRecord.score).where(AuditRecord.audit_id == site.samples_id)
            ).all()
        )
    assert {r[0]: int(r[5]) for r in rows} == stored


def test_filtering_by_a_team_not_recorded(site: Site, auditor_browser: TestClient) -> None:
    rows, total = _records_of(auditor_browser, site.extra_id, team="~")
    expected = site.record_ids(site.extra_id, AuditRecord.team.is_(None))
    assert expected == {"X-NOTEAM-1", "X-NOTEAM-2"}
    assert {r[0] for r in rows} == expected and total == 2
    rows, _total = _records_of(auditor_browser, site.extra_id, team="~", worker="~")
    assert {r[0] for r in rows} == {"X-NOTEAM-1"}
    rows, _total = _records_of(auditor_browser, site.extra_id, team="Extra Team")
    assert {r[0] for r in rows} == site.record_ids(site.extra_id, AuditRecord.team == "Extra Team")


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "bogus"},
        {"sort": "-"},
        {"grade": "awful"},
        {"category": "nope"},
        {"record_type": "poem"},
        {"page": "999999999"},
        {"team": "No Such Team"},
        {"search": "%_\\"},
    ],
)
def test_unknown_filter_and_sort_values_do_not_fail(
    site: Site, auditor_browser: TestClient, query: dict[str, str]
) -> None:
    page = auditor_browser.get(f"/report/audits/{site.samples_id}/records", params=query)
    assert page.status_code == 200 and _footer_ok(page.text)
    record_count(page.text)  # the records page, with its count line


# 8. Headers and footer.


def _footer_ok(html: str) -> bool:
    footers = parse(html).all("footer")
    assert len(footers) == 1
    text = " ".join(footers[0].text().split())
    models = AUDITOR.models
    assert models is not None
    wanted = [f"auditor {__version__}", f"rule set {AUDITOR.rules.version()}", f"model {models.version}"]
    return all(w in text for w in wanted)


def _headers_ok(response: Any) -> bool:
    policy = response.headers.get("content-security-policy", "")
    return (
        response.headers.get("cache-control") == "no-store"
        and "default-src 'none'" in [p.strip() for p in policy.split(";")]
        and "script-src" not in policy
    )


def test_every_page_has_the_footer_versions_and_safe_headers(site: Site, auditor_browser: TestClient) -> None:
    pages = [
        *_pages(site),
        f"/report/audits/{site.extra_id}/records/{ODD_ID.replace('/', '%2F')}",
        "/report/audits/no-such-audit",
    ]
    for page in pages:
        response = auditor_browser.get(page)
        if response.headers["content-type"].startswith("text/html"):
            assert _headers_ok(response) and _footer_ok(response.text), page
        else:  # the CSV and XLSX exports: files to save, never kept in a cache
            assert response.headers["cache-control"] == "no-store", page
            assert response.headers["content-disposition"].startswith("attachment;"), page
    sign_in = site.browser().get("/report/sign-in")
    assert _headers_ok(sign_in) and _footer_ok(sign_in.text)
    refused = site.browser().post("/report/sign-in", data={"key": "x"})
    assert refused.status_code == 400 and _headers_ok(refused) and _footer_ok(refused.text)
    redirect = site.browser().get("/report", follow_redirects=False)
    assert redirect.headers.get("cache-control") == "no-store"


# 9. The HTML download.


@pytest.mark.parametrize("which", ["samples", "extra"])
def test_the_download_is_one_self_contained_file(site: Site, auditor_browser: TestClient, which: str) -> None:
    audit_id = site.samples_id if which == "samples" else site.extra_id
    response = auditor_browser.get(f"/report/audits/{audit_id}/download.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert _headers_ok(response)
    html = response.text.lower()
    for banned in ("<script", "<link", "src=", "<iframe", "<object", "<img", "@import"):
        assert banned not in html, banned
    tree = parse(response.text)
    styles = [n.text() for n in tree.all("style")] + [n.attrs["style"] for n in tree.walk() if "style" in n.attrs]
    assert styles and all("url(" not in css.lower() for css in styles)
    ids = {n.attrs["id"] for n in tree.walk() if "id" in n.attrs}
    hrefs = [n.attrs["href"] for n in tree.walk() if "href" in n.attrs]
    assert hrefs and all(h.startswith("#") and h[1:] in ids for h in hrefs), [h for h in hrefs if h[1:] not in ids]
    assert not [n for n in tree.walk() if "action" in n.attrs or n.tag == "form"]
    shown = {n.attrs["data-record"] for n in tree.all(class_="app-record-text")}
    assert shown == site.record_ids(audit_id)
    headings = {n.text().strip().removeprefix("Record ") for n in tree.all("h3") if n.has_class("govuk-heading-l")}
    assert headings == shown
    assert _footer_ok(response.text)


# 10. Scores over time.


def test_the_trend_charts_have_a_point_per_run(site: Site, auditor_browser: TestClient) -> None:
    team = "Trend Team"
    manager = site.sign_in(site.key(Role.manager, [team]))
    assert "<circle" not in manager.get("/report").text

    def batch(text: str, n: int) -> dict[str, Any]:
        records = [
            {"id": f"T-{n}-{i}", "record_type": "plan", "plan_type": "cp", "team": team, "text": text} for i in range(2)
        ]
        made = site.api.post("/v1/audits", json={"records": records}, headers=site.auditor.bearer)
        assert made.status_code == 201
        body: dict[str, Any] = made.json()
        return body

    good = next(r["text"] for r in SAMPLE_ROWS if r["id"] == "S-PLAN-CP-01")
    first = batch("Actions\n- Mum to engage with services.", 1)
    assert trend_circles(manager.get("/report").text) == 1
    second = batch(good, 2)
    runs = manager.get("/report").text
    assert trend_circles(runs) == 2
    team_page = manager.get(f"/report/audits/{second['id']}/team", params={"team": team}).text
    assert trend_circles(team_page) == 2
    # an auditor's team page charts that team's runs alone, not every run
    assert trend_circles(auditor_browser.get(f"/report/audits/{second['id']}/team", params={"team": team}).text) == 2
    means = [sum(r["score"] for r in b["results"]) / len(b["results"]) for b in (first, second)]
    assert means[0] != means[1]
    for html in (runs, team_page):
        table = next(t for t in parse(html).all("table") if "each run" in t.one("caption").text())
        cells = [[c.text().strip() for c in row.all("td")] for row in table.one("tbody").all("tr")]
        assert [(c[1], c[2]) for c in cells] == [("2", f"{m:.0f}") for m in means]  # oldest first
    with Session(site.engine) as s:
        done = s.scalar(select(func.count()).select_from(Audit).where(Audit.status == "done")) or 0
    assert trend_circles(auditor_browser.get("/report").text) == min(done, 30) >= 3


# 11. Not found.


def test_an_unknown_audit_is_a_404_page(site: Site, auditor_browser: TestClient) -> None:
    for page in (
        "/report/audits/no-such-audit",
        "/report/audits/no-such-audit/records",
        "/report/audits/no-such-audit/team?team=A",
        "/report/audits/no-such-audit/download.html",
        "/report/audits/no-such-audit/export.csv",
        f"/report/audits/{site.samples_id}/records/NO-SUCH-RECORD",
        f"/report/audits/{site.samples_id}/team?team=No+Such+Team",
    ):
        response = auditor_browser.get(page)
        assert response.status_code == 404, page
        assert response.headers["content-type"].startswith("text/html"), page
        assert _footer_ok(response.text) and parse(response.text).one("h1").text().strip()
        with pytest.raises(ValueError):
            json.loads(response.text)


def test_signing_in_clears_expired_sessions_and_keeps_live_ones(site: Site) -> None:
    live = site.sign_in(site.key(Role.auditor))
    stale = site.sign_in(site.key(Role.auditor))
    live_cookie, stale_cookie = live.cookies["auditor_session"], stale.cookies["auditor_session"]
    _expire(site, stale_cookie)
    assert site.session_row(stale_cookie) is not None
    site.sign_in(site.key(Role.auditor))
    assert site.session_row(stale_cookie) is None and site.session_row(live_cookie) is not None
    assert live.get("/report", follow_redirects=False).status_code == 200


# Mends after review: each of these was a defect found by reading the code.


def test_feedback_on_a_record_with_an_odd_id_lands_back_on_that_record(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    finding = _api_records(site, site.extra_id)[ODD_ID]["findings"][0]["finding_id"]
    saved = browser.post(
        f"/report/findings/{finding}/feedback",
        data={"opinion": "agree", "csrf": site.csrf(browser)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    landed = browser.get(saved.headers["location"])
    assert landed.status_code == 200 and f"finding-id-{finding}" in landed.text
    assert parse(landed.text).one("h1").text().strip() == ODD_ID


def test_a_token_that_is_not_ascii_or_a_form_holding_nul_is_refused_not_a_server_error(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    assert browser.post("/report/sign-out", data={"csrf": "é"}, follow_redirects=False).status_code == 403
    fresh = site.browser()
    page = fresh.get("/report/sign-in")
    form = {**hidden_inputs(page.text), "form_token": "é", "key": site.auditor.plain}
    assert fresh.post("/report/sign-in", data=form, follow_redirects=False).status_code == 400
    finding = _api_records(site, site.extra_id)["X-ESCAPE"]["findings"][0]["finding_id"]
    nul = browser.post(
        f"/report/findings/{finding}/feedback",
        data={"opinion": "agree", "comment": "a\x00b", "csrf": site.csrf(browser)},
        follow_redirects=False,
    )
    assert nul.status_code == 400 and "text/html" in nul.headers["content-type"]
    assert site.count(select(Feedback).where(Feedback.finding_id == finding)) == 0


def test_a_long_comment_in_any_script_fits(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    finding = _api_records(site, site.extra_id)["X-ESCAPE"]["findings"][0]["finding_id"]
    comment = "記録" * 1000  # 2,000 characters, 18 KB percent-encoded
    saved = browser.post(
        f"/report/findings/{finding}/feedback",
        data={"opinion": "agree", "comment": comment, "csrf": site.csrf(browser)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with Session(site.engine) as s:
        assert s.scalars(select(Feedback.comment).where(Feedback.finding_id == finding)).all() == [comment]


def test_signing_in_again_ends_the_browsers_earlier_session(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    first = browser.cookies["auditor_session"]
    page = browser.get("/report/sign-in")
    browser.post("/report/sign-in", data={**hidden_inputs(page.text), "key": site.auditor.plain})
    assert browser.cookies["auditor_session"] != first
    assert site.session_row(first) is None
    assert site.session_row(browser.cookies["auditor_session"]) is not None


def test_a_page_past_the_end_shows_the_last_page(site: Site, auditor_browser: TestClient) -> None:
    rows, total = _records_of(auditor_browser, site.samples_id, page="99")
    assert total == len(SAMPLE_ROWS) and len(rows) == total  # one page of 50 holds the 36
    runs = auditor_browser.get("/report", params={"page": "7"})
    assert runs.status_code == 200 and site.samples_id in runs.text


def test_bad_or_unknown_report_addresses_are_pages_not_json(site: Site, auditor_browser: TestClient) -> None:
    for path, status in (
        (f"/report/audits/{site.samples_id}/records?page=two", 400),
        (f"/report/audits/{site.samples_id}/team", 400),
        ("/report/no-such-page", 404),
    ):
        answer = auditor_browser.get(path)
        assert answer.status_code == status, path
        assert answer.headers["content-type"].startswith("text/html") and "rule set" in answer.text, path
    assert auditor_browser.get("/v1/no-such-endpoint").headers["content-type"].startswith("application/json")


def test_a_screen_reader_is_told_where_each_finding_starts_and_ends(site: Site, auditor_browser: TestClient) -> None:
    page = parse(auditor_browser.get(f"/report/audits/{site.samples_id}/records/S-PLAN-CP-02").text)
    spoken = " ".join(n.text() for n in page.one(class_="app-record-text").all(class_="govuk-visually-hidden"))
    starts = set(re.findall(r"start of finding (\d+),", spoken))
    references = " ".join(n.text() for n in page.one(class_="app-record-text").all(class_="app-ref"))
    ends = set(re.findall(r"\[end of finding (\d+)\]", references))
    spans = {str(n) for n, f in _finding_numbers(page).items()}  # every numbered finding
    assert starts and starts == ends and starts <= spans


def test_feedback_without_an_opinion_shows_the_record_again_with_the_error_and_the_comment(site: Site) -> None:
    browser = site.sign_in(site.key(Role.auditor))
    finding = _api_records(site, site.extra_id)["X-ESCAPE"]["findings"][0]["finding_id"]
    before = site.count(select(Feedback).where(Feedback.finding_id == finding))  # other tests' opinions
    answer = browser.post(
        f"/report/findings/{finding}/feedback",
        data={"comment": "Half a thought <kept>", "csrf": site.csrf(browser)},
        follow_redirects=False,
    )
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
    page = parse(answer.text)
    number = {v: k for k, v in _finding_numbers(page).items()}[finding]
    summary = page.one(class_="govuk-error-summary")
    assert f"finding {number}" in summary.text() and summary.one("a").attrs["href"] == f"#opinion-{number}-agree"
    assert page.one("textarea", id=f"comment-{number}").text() == "Half a thought <kept>"
    assert page.one("title").text().startswith("Error:")
    assert site.count(select(Feedback).where(Feedback.finding_id == finding)) == before


def test_records_page_fifty_at_a_time_and_keep_their_filters(site: Site, auditor_browser: TestClient) -> None:
    batch = [
        {"id": f"P-{n:03}", "record_type": "plan", "plan_type": "cin", "team": "Paging", "text": "- SW to visit."}
        for n in range(61)
    ]
    made = site.api.post("/v1/audits", json={"records": batch}, headers=site.auditor.bearer)
    assert made.status_code == 201
    audit_id = made.json()["id"]
    first = auditor_browser.get(f"/report/audits/{audit_id}/records", params={"team": "Paging", "sort": "-record"})
    rows = records_table(first.text)
    pager = parse(first.text).one("nav", **{"aria-label": "Pages of records"})
    following = pager.one("a", rel="next").attrs["href"]
    assert len(rows) == 50 and "team=Paging" in following and "sort=-record" in following
    second = records_table(auditor_browser.get(following).text)
    ids = [row[0] for row in rows + second]
    assert ids == sorted((r["id"] for r in batch), reverse=True)


def test_the_audits_page_costs_the_same_queries_however_many_runs_it_shows(site: Site) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    browser = site.sign_in(site.key(Role.auditor))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def cost() -> int:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            assert browser.get("/report").status_code == 200
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len(statements)

    before = cost()
    assert before > 0  # the listener sees the page's statements
    for n in range(3):
        batch = [{"id": f"Q-{n}", "record_type": "case_note", "team": "Queries", "text": "SW visited."}]
        assert site.api.post("/v1/audits", json={"records": batch}, headers=site.auditor.bearer).status_code == 201
    assert cost() == before  # grouped queries, not a few per run

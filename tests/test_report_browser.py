"""The team manager's report in a real browser: Debian's Chromium, driven by Playwright, against the
service running on a local port with the sample records scored.

It checks what only a browser can: pages load with their stylesheet under the report's
Content-Security-Policy; highlights sit on the findings' words and do not rely on colour alone;
sign-in, drill-down, filters, sorting, feedback and sign-out work with JavaScript off; axe-core
finds no WCAG 2.2 AA violation on any page; the print layout holds in a PDF printed by the browser;
the HTML download makes no request when opened.

Chromium is found at AUDITOR_CHROMIUM (default /usr/bin/chromium; `.ci/run` installs Debian's).
Where it is missing the tests are skipped, unless AUDITOR_REQUIRE_BROWSER=1 (set by `.ci/run`),
which makes a missing browser a failure.
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright import sync_api as playwright_api  # a dev dependency: missing fails, never skips
from sqlalchemy.orm import Session

from api.app import create_app, load_samples
from api.db import make_engine, migrate
from api.keys import Role, create_key
from auditor.engine import Auditor

CHROMIUM = os.environ.get("AUDITOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
SAMPLE_TEXT = {r["id"]: r for r in map(json.loads, SAMPLES.read_text(encoding="utf-8").splitlines())}


class Live:
    """The service on 127.0.0.1 at a free port, in a thread, with the samples scored and two keys."""

    def __init__(self, directory: Path) -> None:
        url = f"sqlite:///{directory / 'auditor.db'}"
        engine = make_engine(url)
        migrate(engine)
        auditor = Auditor()
        self.audit_id, _created = load_samples(engine, auditor, SAMPLES)
        with Session(engine) as s:
            self.auditor_key, _row = create_key(s, Role.auditor, "QA lead")
            self.manager_key, _row = create_key(s, Role.manager, "Team manager", ["Safeguarding East"])
            s.commit()
        engine.dispose()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(url, auditor=auditor), log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [listener]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.05)

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            self.base + path, params=params, headers={"Authorization": f"Bearer {self.auditor_key}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    running = Live(tmp_path_factory.mktemp("report"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set AUDITOR_CHROMIUM)"
        if os.environ.get("AUDITOR_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _signed_in(browser: Any, live: Live, key: str, javascript: bool = True, **options: Any) -> Any:
    """A new browser context, signed in through the sign-in form."""
    context = browser.new_context(java_script_enabled=javascript, **options)
    page = context.new_page()
    page.goto(live.base + "/report")
    assert "/report/sign-in" in page.url
    page.fill("#key", key)
    page.click("button:has-text('Sign in')")
    assert page.url == live.base + "/report", page.url
    return page


def _record_ids(page: Any) -> list[str]:
    return [text.strip() for text in page.locator("#records tbody th").all_inner_texts()]


def _column(page: Any, index: int) -> list[str]:
    return [text.strip() for text in page.locator(f"#records tbody td:nth-of-type({index})").all_inner_texts()]


def test_pages_load_with_their_stylesheet_under_the_policy(browser: Any, live: Live) -> None:
    page = _signed_in(browser, live, live.auditor_key)
    audit = f"{live.base}/report/audits/{live.audit_id}"
    pages = {
        "/report": "Audits",
        f"/report/audits/{live.audit_id}": "Audit of",
        f"/report/audits/{live.audit_id}/team?team=Safeguarding+West": "Safeguarding West",
        f"/report/audits/{live.audit_id}/records": "Records",
        f"/report/audits/{live.audit_id}/records/S-PLAN-CP-01": "S-PLAN-CP-01",
        "/report/rules": "Rule catalogue",
    }
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    for path, heading in pages.items():
        response = page.goto(live.base + path)
        assert response is not None and response.status == 200, path
        assert heading in page.locator("h1").inner_text(), path
        # The stylesheet loaded (the policy allows only this service's own): the header is black.
        assert page.eval_on_selector(".govuk-header", "e => getComputedStyle(e).backgroundColor") == "rgb(11, 12, 12)"
        footer = page.locator("footer").inner_text()
        assert "rule set" in footer and "model" in footer, path
    assert blocked == []
    assert page.goto(audit + "/records/NO-SUCH-RECORD").status == 404  # type: ignore[union-attr]
    page.context.close()


def test_highlights_sit_on_the_findings_words_and_not_on_colour_alone(browser: Any, live: Live) -> None:
    page = _signed_in(browser, live, live.auditor_key)
    checked, masked, widths = 0, 0, []
    for record_id in ("S-PLAN-CP-02", "S-PLAN-CIN-01", "S-DEC-01", "S-SUP-02"):
        page.goto(f"{live.base}/report/audits/{live.audit_id}/records/{record_id}")
        found = next(
            r for r in live.api(f"/v1/audits/{live.audit_id}/records", limit=500)["items"] if r["id"] == record_id
        )
        text = SAMPLE_TEXT[record_id]["text"]
        # The page numbers its findings; each list item names the stored finding it shows.
        numbers = page.eval_on_selector_all(
            ".app-finding",
            "items => items.map(i => [i.id.replace(/^finding-/, ''), i.querySelector('[id^=finding-id-]').id.slice(11)])",
        )
        number_of = {int(finding_id): number for number, finding_id in numbers}
        assert set(number_of) == {f["finding_id"] for f in found["findings"]}
        marked = page.eval_on_selector_all(
            ".app-record-text mark",
            "marks => marks.map(m => [m.dataset.findings.split(' '), m.textContent])",
        )
        for finding in found["findings"]:
            if finding["start"] == finding["end"]:
                continue  # about the record as a whole: nothing to mark
            number = number_of[finding["finding_id"]]
            words = "".join(piece for numbers_, piece in marked if number in numbers_)
            original = text[finding["start"] : finding["end"]]
            # The words as stored (personal data masked), over the same characters of the text.
            assert words == finding["text"] and len(words) == len(original), (record_id, finding["rule_id"])
            assert all(a == b or (a == "*" and b.isalnum()) for a, b in zip(words, original, strict=True))
            masked += words != original
            # Not by colour alone: a bracketed number follows the finding's last word, and links to it.
            reference = page.locator(f".app-ref[data-finding='{number}'] a")
            assert reference.inner_text().endswith(f"{number}]")
            assert reference.get_attribute("href") == f"#finding-{number}"
            checked += 1
        widths += page.eval_on_selector_all(
            ".app-record-text mark", "marks => marks.map(m => getComputedStyle(m).borderBottomWidth)"
        )
    assert checked >= 20 and masked >= 1  # S-SUP-02 holds an email address
    assert len(widths) >= checked and all(float(width.removesuffix("px")) >= 3 for width in widths)
    page.context.close()


def test_drill_down_filters_sorting_feedback_and_sign_out_work_without_javascript(browser: Any, live: Live) -> None:
    page = _signed_in(browser, live, live.auditor_key, javascript=False)
    page.goto(f"{live.base}/report/audits/{live.audit_id}")
    # Team, then worker, then record.
    page.click("table >> a:text-is('Safeguarding East')")
    assert page.locator("h1").inner_text() == "Safeguarding East"
    page.click("table >> a:text-is('W-017')")
    expected = sorted(
        i for i, r in SAMPLE_TEXT.items() if r.get("team") == "Safeguarding East" and r.get("worker") == "W-017"
    )
    assert sorted(_record_ids(page)) == expected and expected
    page.click(f"#records a:text-is('{expected[0]}')")
    assert page.locator("h1").inner_text() == expected[0]

    # Filters: a grade, then a category as well.
    page.goto(f"{live.base}/report/audits/{live.audit_id}/records")
    page.select_option("#grade", "inadequate")
    page.click("button:has-text('Apply filters')")
    assert "grade=inadequate" in page.url
    inadequate = live.api(f"/v1/audits/{live.audit_id}/records", grade="inadequate", limit=500)
    assert sorted(_record_ids(page)) == sorted(r["id"] for r in inadequate["items"]) and inadequate["total"]
    assert set(_column(page, 6)) == {"Inadequate"}
    page.select_option("#category", "decision_without_rationale")
    page.click("button:has-text('Apply filters')")
    both = [
        r["id"]
        for r in inadequate["items"]
        if any(f["category"] == "decision_without_rationale" for f in r["findings"])
    ]
    assert sorted(_record_ids(page)) == sorted(both)
    assert page.locator("#record-count").inner_text().startswith(f"{len(both)} record")

    # Sorting: worst first by default; following the column's heading turns the order round.
    page.click("a:text-is('Clear filters')")
    ascending = [int(s) for s in _column(page, 5)]
    assert ascending == sorted(ascending) and ascending[0] < ascending[-1]
    assert page.locator("#records thead th[aria-sort='ascending']").inner_text().startswith("Score")
    page.click("#records thead a:has-text('Score')")
    assert [int(s) for s in _column(page, 5)] == sorted(ascending, reverse=True)
    assert page.locator("#records thead th[aria-sort='descending']").inner_text().startswith("Score")
    page.click("#records thead a:has-text('Findings')")
    counts = [int(n) for n in _column(page, 7)]
    assert counts == sorted(counts) and counts[0] < counts[-1]

    # Feedback on a finding (a form with its CSRF token), then signing out.
    page.goto(f"{live.base}/report/audits/{live.audit_id}/records/S-PLAN-CP-02")
    page.click("#finding-2 summary")
    page.check("#opinion-2-disagree")
    page.fill("#comment-2", "The timescale is in the table's header row.")
    page.click("button:has-text('Save your view of finding 2')")
    assert "Your view of the finding was saved" in page.locator(".govuk-notification-banner").inner_text()
    assert page.locator("#finding-2 summary").inner_text() == "Your view: you disagree"
    page.click("button:has-text('Sign out')")
    assert "You have signed out" in page.content()
    page.goto(live.base + "/report")
    assert "/report/sign-in" in page.url
    page.context.close()


def _axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def _violations(page: Any) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page, with every details element opened."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.evaluate(_axe_source())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_22_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]


def test_axe_finds_no_wcag_22_aa_violation_on_any_page(browser: Any, live: Live, tmp_path: Path) -> None:
    # bypass_csp: the policy forbids scripts, and axe is one.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    page.goto(live.base + "/report/sign-in")
    problems["sign-in"] = _violations(page)
    page.fill("#key", "aud_not_a_key")
    page.click("button:has-text('Sign in')")
    assert page.locator(".govuk-error-summary").count() == 1
    problems["sign-in error"] = _violations(page)
    page.fill("#key", live.auditor_key)
    page.click("button:has-text('Sign in')")
    audit = f"/report/audits/{live.audit_id}"
    for name, path in {
        "audits": "/report",
        "audit": audit,
        "team": audit + "/team?team=Children+in+Care",
        "records": audit + "/records?grade=inadequate&sort=-findings",
        "record": audit + "/records/S-PLAN-CP-02",
        "record without findings": audit
        + "/records/"
        + live.api(f"/v1/audits/{live.audit_id}/records", limit=500, grade="outstanding")["items"][0]["id"],
        "rules": "/report/rules",
        "not found": audit + "/records/NO-SUCH-RECORD",
    }.items():
        page.goto(live.base + path)
        problems[name] = _violations(page)
    page.goto(live.base + audit + "/records/S-PLAN-CP-02")
    page.click("#finding-1 summary")
    page.click("button:has-text('Save your view of finding 1')")
    assert page.locator(".govuk-error-summary").count() == 1
    problems["feedback error"] = _violations(page)
    download = page.request.get(live.base + audit + "/download.html")
    file = tmp_path / "audit.html"
    file.write_bytes(download.body())
    page.goto(file.as_uri())
    problems["download"] = _violations(page)
    page.goto(live.base + audit)
    page.click("button:has-text('Sign out')")
    problems["signed out"] = _violations(page)
    assert {name: found for name, found in problems.items() if found} == {}
    context.close()


def test_the_download_makes_no_request_when_opened(browser: Any, live: Live, tmp_path: Path) -> None:
    page = _signed_in(browser, live, live.manager_key)
    body = page.request.get(f"{live.base}/report/audits/{live.audit_id}/download.html").body()
    file = tmp_path / "audit.html"
    file.write_bytes(body)
    context = browser.new_context()
    opened = context.new_page()
    requests: list[str] = []
    opened.on("request", lambda request: requests.append(request.url))
    opened.goto(file.as_uri())
    opened.wait_for_load_state("networkidle")
    assert requests == [file.as_uri()]
    # Styled from its own inline stylesheet, and holding only the manager's team's records.
    assert opened.eval_on_selector(".govuk-header", "e => getComputedStyle(e).backgroundColor") == "rgb(11, 12, 12)"
    shown = {t.removeprefix("Record ").strip() for t in opened.locator(".app-record h3").all_inner_texts()}
    assert shown == {i for i, r in SAMPLE_TEXT.items() if r.get("team") == "Safeguarding East"}
    context.close()
    page.context.close()


def _pdf_text(pdf: bytes) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(p.extract_text() or "" for p in reader.pages)


def test_the_print_layout_holds(browser: Any, live: Live) -> None:
    # An A4 page's printable width at 96 dpi, with Chromium's default margins.
    page = _signed_in(browser, live, live.auditor_key, viewport={"width": 718, "height": 1000})
    page.emulate_media(media="print")
    record = "S-PLAN-CP-02"
    page.goto(f"{live.base}/report/audits/{live.audit_id}/records/{record}")
    hidden = page.eval_on_selector_all(
        ".govuk-service-navigation, form, .govuk-skip-link", "es => es.map(e => getComputedStyle(e).display)"
    )
    assert hidden and set(hidden) == {"none"}
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    pages, text = _pdf_text(page.pdf(format="A4", print_background=True))
    flat = " ".join(text.split())
    assert pages >= 2 and record in flat
    findings = next(
        r for r in live.api(f"/v1/audits/{live.audit_id}/records", limit=500)["items"] if r["id"] == record
    )["findings"]
    for finding in findings:
        # The message's own words (a model's explanation after them quotes character n-grams).
        assert " ".join(finding["message"].split(" (Found by")[0].split()) in flat
    assert "rule set" in flat  # the footer, with the versions

    # The download prints each record from a new page.
    page.goto(f"{live.base}/report/audits/{live.audit_id}")
    body = page.request.get(f"{live.base}/report/audits/{live.audit_id}/download.html").body()
    page.set_content(body.decode("utf-8"))
    page.emulate_media(media="print")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    pages, text = _pdf_text(page.pdf(format="A4", print_background=True))
    assert pages > len(SAMPLE_TEXT)
    flat = " ".join(text.split())
    assert all(record_id in flat for record_id in SAMPLE_TEXT)
    page.context.close()


def test_axe_reports_violations_where_there_are_some(browser: Any) -> None:
    # The check above is only as good as axe's run: on a page with known faults it must find them.
    page = browser.new_page()
    page.set_content(
        "<html><head><title>faulty</title></head><body><main>"
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
        '<input type="text"><p style="color:#aaa;background:#fff">faint</p></main></body></html>'
    )
    found = {v.split(" ")[0] for v in _violations(page)}
    assert {"html-has-lang", "image-alt", "label", "color-contrast"} <= found
    page.close()

"""The report's pieces that need no database or browser: marking a record's text, masking, the
charts' shapes, sorting groups and where sign-in may send a browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from api.db import FindingRow
from api.report import GRADES, Mark, Point, Stats, grade_chart, marked_text, sort_groups, trend_chart
from api.web import _safe_next
from auditor.engine import mask_spans


def _Row(start: int, end: int, id: int = 0) -> FindingRow:
    return FindingRow(start=start, end=end, id=id, rule_id="TS001")


def _marks(text: str, *spans: tuple[int, int]) -> list[Mark]:
    return [Mark(n, _Row(a, b, n), text[a:b], whole_record=a >= b) for n, (a, b) in enumerate(spans, start=1)]


def _words(html: str, number: int) -> str:
    """The text of every <mark> naming the finding, unescaped."""
    pieces = re.findall(r'<mark class="[^"]*" data-findings="([^"]*)">(.*?)</mark>', html)
    text = "".join(piece for numbers, piece in pieces if str(number) in numbers.split())
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    )


def _plain(html: str) -> str:
    without_refs = re.sub(
        r'<sup class="app-ref".*?</sup>|<span class="govuk-visually-hidden">start of finding \d+, </span>', "", html
    )
    bare = re.sub(r"<[^>]+>", "", without_refs)
    return (
        bare.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    )


def test_each_findings_words_are_marked_and_overlaps_name_both() -> None:
    text = "Mum to engage with services. SW to visit weekly."
    html = str(marked_text(text, _marks(text, (0, 28), (7, 27), (29, 48))))
    assert _words(html, 1) == "Mum to engage with services."
    assert _words(html, 2) == "engage with services"
    assert _words(html, 3) == "SW to visit weekly."
    assert 'data-findings="1 2"' in html and "app-mark--overlap" in html
    assert _plain(html) == text  # nothing lost, nothing added but the references


def test_a_reference_follows_each_findings_last_word_in_order() -> None:
    text = "Address concerns ASAP."
    html = str(marked_text(text, _marks(text, (0, 16), (8, 16), (17, 21)), anchor="r3-finding-"))
    references = re.findall(r'<sup class="app-ref" data-finding="(\d+)"><a href="#([^"]+)"', html)
    assert references == [("1", "r3-finding-1"), ("2", "r3-finding-2"), ("3", "r3-finding-3")]
    # The first two end together, after "concerns"; the third after "ASAP".
    assert html.index('data-finding="2"') < html.index("ASAP") < html.index('data-finding="3"')


def test_record_text_is_escaped_and_whole_record_findings_mark_nothing() -> None:
    text = '<script>alert("x")</script> & <b>Mum</b> to attend.'
    html = str(marked_text(text, _marks(text, (0, 27), (0, 0))))
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert _words(html, 1) == '<script>alert("x")</script>'
    assert 'data-finding="2"' not in html
    assert _plain(html) == text


def test_a_span_beyond_the_text_is_cut_at_its_end() -> None:
    text = "Short."
    html = str(marked_text(text, [Mark(1, _Row(2, 50), "", whole_record=False)]))
    assert _words(html, 1) == "ort." and _plain(html) == text


def test_masking_hides_letters_and_digits_only_inside_the_spans() -> None:
    text = "Call Mum on 07700 900123 today."
    assert mask_spans(text, 0, [(12, 24)]) == "Call Mum on ***** ****** today."
    assert mask_spans(text, 0, [(12, 24), (20, 40)]) == "Call Mum on ***** ****** *****."
    assert mask_spans(text, 0, []) == text
    assert mask_spans(text[12:], 12, [(12, 17)]) == "***** 900123 today."  # words that start later


def test_grade_chart_bars_are_in_scale_and_in_grade_order() -> None:
    chart = grade_chart({"outstanding": 2, "good": 0, "requires improvement": 4, "inadequate": 1})
    assert [b.label for b in chart.bars] == [g.capitalize() for g in GRADES]
    widths = [b.width for b in chart.bars]
    assert widths[1] == 0 and widths[2] == max(widths) and abs(widths[0] - widths[2] / 2) < 1e-9
    assert "Requires improvement: 4" in chart.description
    assert grade_chart(dict.fromkeys(GRADES, 0)).bars[0].width == 0  # no division by zero


def test_trend_chart_puts_higher_scores_higher_and_runs_in_time_order() -> None:
    start = datetime(2026, 11, 1, 2, tzinfo=UTC)
    points = [Point(f"a{i}", start + timedelta(days=i), mean, 10) for i, mean in enumerate([40.0, 80.0, 60.0])]
    chart = trend_chart(points)
    xs = [x for x, _y, _p in chart.points]
    ys = {p.mean: y for _x, y, p in chart.points}
    assert xs == sorted(xs) and ys[80.0] < ys[60.0] < ys[40.0]  # SVG's y grows downwards
    assert chart.y(100) == chart.top and chart.y(0) == chart.height - chart.bottom
    assert chart.path.startswith("M") and chart.path.count("L") == 2
    assert "01 November 2026" in chart.description and "03 November 2026" in chart.description
    assert trend_chart([]).description == "No finished runs yet."


def test_groups_sort_by_any_column_either_way_and_unknown_falls_back_to_name() -> None:
    groups = [
        Stats("a", records=3, mean=70.0, findings=9),
        Stats("b", records=5, mean=40.0, findings=4),
        Stats("c", records=1, mean=55.0, findings=6),
        Stats(None, records=2, mean=None, findings=0),
    ]

    def order(sort: str) -> list[str | None]:
        return [g.name for g in sort_groups(groups, sort)[0]]

    assert order("name") == ["a", "b", "c", None]
    assert order("-name") == [None, "c", "b", "a"]
    assert order("-records") == ["b", "a", None, "c"]
    assert order("score") == ["b", "c", "a", None]  # unscored last either way
    assert order("-score") == ["a", "c", "b", None]
    assert order("findings") == [None, "b", "c", "a"]
    assert sort_groups(groups, "bogus") == (sort_groups(groups, "name")[0], "name")


def test_sign_in_sends_a_browser_only_to_report_pages_of_this_service() -> None:
    assert _safe_next("/report/audits/x?grade=good") == "/report/audits/x?grade=good"
    assert _safe_next("/report") == "/report"
    for bad in ("//evil.example/report", "https://evil.example", "/reportx", "/v1/audits", "/report\\..", None, ""):
        assert _safe_next(bad) == "/report", bad

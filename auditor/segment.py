"""Segmentation: split a record into headed sections, paragraphs, sentences and plan actions.

Plans arrive in every shape: numbered or bulleted lists, one action per line, table rows pasted
as "action | who | when", prose, and headed sections. Every unit keeps its character offsets in
the original text, so a finding can always be shown on the exact words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from auditor.casefold import fold
from auditor.vocabulary import imperative_verb

if TYPE_CHECKING:
    from auditor.context import ContextMarks
    from auditor.owners import OwnerResult
    from auditor.timescales import Timescale
    from auditor.vagueness import Vagueness


class SectionKind(StrEnum):
    actions = "actions"
    change = "change"  # what needs to change / how we will know
    contingency = "contingency"
    worries = "worries"
    strengths = "strengths"
    voice = "voice"  # the child's views, wishes and feelings
    background = "background"
    decision = "decision"
    other = "other"


class Layout(StrEnum):
    list = "list"
    line = "line"
    table = "table"
    prose = "prose"


@dataclass(slots=True)
class Section:
    kind: SectionKind
    heading_start: int
    heading_end: int
    start: int  # body start (after the heading)
    end: int


@dataclass(slots=True)
class Cell:
    role: str  # action | who | when | other
    start: int
    end: int


@dataclass(slots=True)
class Unit:
    """A piece of a record: one list item, line, table row or sentence. Actions are units too."""

    start: int
    end: int
    text: str
    layout: Layout
    section: SectionKind | None
    is_action: bool = False
    cells: list[Cell] = field(default_factory=list)
    inherited_timescales: list[Timescale] = field(default_factory=list)
    # Filled by later pipeline components.
    timescales: list[Timescale] = field(default_factory=list)
    owner: OwnerResult | None = None
    vagueness: Vagueness | None = None
    context: ContextMarks | None = None

    def cell(self, role: str) -> Cell | None:
        return next((c for c in self.cells if c.role == role), None)


# ---------------------------------------------------------------------------------------------
# Headings

_HEADINGS: list[tuple[SectionKind, re.Pattern[str]]] = [
    (
        SectionKind.contingency,
        re.compile(
            r"contingenc|plan\s*b\b|if\s+(?:the\s+)?plan\s+(?:does\s+not|doesn't)\s+work|what\s+(?:will|we\s+will)\s+do\s+if|what\s+happens\s+if|bottom\s+lines?",
            re.I,
        ),
    ),
    (
        SectionKind.change,
        re.compile(
            r"what\s+(?:needs|has)\s+to\s+change|(?:what|how)\s+(?:will\s+)?(?:we|you|i|everyone)\s+(?:will\s+)?know|outcomes?|goals?|what\s+(?:does|will)\s+(?:good|success)\s+look|desired|what\s+we\s+want\s+to\s+(?:see|achieve)|wants?\s+to\s+be\s+different|aims?|what\s+will\s+be\s+different|changes?\s+needed|success\s+(?:looks|will)|scaling",
            re.I,
        ),
    ),
    (
        SectionKind.voice,
        re.compile(
            r"voice|wishes\s+and\s+feelings|views,?\s+wishes|(?:child|children|young\s+person|yp|\b[A-Z])(?:'s|s')?\s+views?|^\s*(?:my\s+)?views?\s*$|in\s+(?:my|their|his|her)\s+own\s+words|about\s+me"
            r"|what\s+(?:child\s+[A-Z]|[A-Z]\b|the\s+child|the\s+young\s+person|i|he|she)\s+(?:says|said|thinks?|wants?|told|feels?)",
            re.I,
        ),
    ),
    (
        SectionKind.actions,
        re.compile(
            r"actions?|what\s+(?:will|needs\s+to)\s+(?:happen|be\s+done)|who\s+will\s+do\s+what|next\s+steps|^\s*(?:the\s+|my\s+|our\s+|agreed\s+)?plan\s*$|tasks?|targets?|agreed|(?:how|what)\s+we\s+will\s+do|support\s+(?:plan|offered|to\s+be)|what\s+i\s+will\s+do|my\s+plan|recommendations?|what\s+are\s+we\s+going\s+to\s+do",
            re.I,
        ),
    ),
    (
        SectionKind.worries,
        re.compile(
            r"worr|concerns?|risks?|danger|(?:past|future)\s+harm|harm\s+statement|complicating|what\s+(?:isn't|is\s+not)\s+working",
            re.I,
        ),
    ),
    (
        SectionKind.strengths,
        re.compile(r"strengths?|working\s+well|what\s+is\s+going\s+well|protective|positives?|progress", re.I),
    ),
    (
        SectionKind.decision,
        re.compile(
            r"decision|rationale|management\s+oversight|manager'?s?\s+(?:comments|oversight)|outcome\s+of\s+discussion",
            re.I,
        ),
    ),
    (
        SectionKind.background,
        re.compile(
            r"background|history|summary|reason\s+for|presenting|context|family\s+composition|chronology|analysis|discussion|update|observations?",
            re.I,
        ),
    ),
]

_HEADING_LINE = re.compile(r"^\s*(?:#+\s*|\d+[.)]\s+)?(?P<label>[A-Za-z][^\n:|]{1,70}?)\s*(?::\s*|\s*[-–—]\s*$|$)")
_INLINE_LABEL = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z'’/ &-]{1,60}?)\s*:\s+(?=\S)")
_LIST_MARKER = re.compile(
    r"(?P<indent>[ \t]*)(?P<marker>(?:\d{1,2}|[a-zA-Z]|[ivx]{1,4})[.)]\s+|\(\s*(?:\d{1,2}|[a-z]|[ivx]{1,4})\s*\)\s+|[-•*·▪◦‣–—>o]\s+|\u2022\s*)"
)
_TABLE_SEPARATOR = re.compile(r"^[\s|:+-]*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9\[])|(?<=[.!?;])\s*$")
# Abbreviations that end in a full stop but do not end a sentence.
_NOT_SENTENCE_END = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|approx|inc|incl|dr|mr|mrs|ms|no|st|vs|wk|wks|tel|ref|dob|d\.o\.b|yrs?|mths?|cont|a\.s\.a\.p|p\.m|a\.m)\.|\b[A-Z]\.)$",
    re.I,
)

_WHO_HEADER = re.compile(
    r"^(?:who|by\s+whom|responsible|lead|owner|person\s+responsible|who\s+will\s+do\s+it|lead\s+professional|agency)\b",
    re.I,
)
_WHEN_HEADER = re.compile(
    r"^(?:when|by\s+when|timescales?|date|deadline|due|target\s+date|by\s+date|frequency|review\s+date)\b", re.I
)
_ACTION_HEADER = re.compile(
    r"^(?:actions?|what|task|what\s+will\s+happen|what\s+needs\s+to\s+happen|intervention|support|target|step)\b", re.I
)


@lru_cache(maxsize=8192)  # a council's templates repeat the same headings in every record
def heading_kind(label: str) -> SectionKind | None:
    """The kind of section a heading introduces, or None if the words are not a heading we know."""
    for kind, pattern in _HEADINGS:
        if pattern.search(label):
            return kind
    return None


# ---------------------------------------------------------------------------------------------
# Lines


@dataclass(slots=True)
class _Line:
    start: int
    end: int  # excluding the newline
    text: str


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    position = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85")
        lines.append(_Line(position, position + len(body), body))
        position += len(raw)
    return lines


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_heading(line: _Line, first: bool = False) -> tuple[SectionKind, int] | None:
    """A short line that names a section: 'Contingency plan', 'WHAT NEEDS TO CHANGE:', '## Actions'."""
    body = line.text.strip()
    if not body or len(body) > 80 or "|" in body:
        return None
    match = _HEADING_LINE.match(line.text)
    if match is None:
        return None
    label = match["label"]
    rest = line.text[match.end() :].strip()
    if rest:
        return None  # "Label: content" lines are handled as inline labels
    words = label.split()
    if len(words) > 9 or body.endswith((".", ";", ",")):
        return None
    kind = heading_kind(label)
    # A line that reads like a task ("SW to complete chronology", "Update assessment") is not a
    # heading, whatever words it shares with one, unless it ends with a colon or asks a question
    # ("What we will do"). The imperative test is the action finder's own, so "Support plan" is a
    # name here as it is there; a lone word ("Plan", "Update") names a section, it instructs nobody.
    if (
        not body.endswith(":")
        and not _QUESTION.match(label)
        and (_TASK_WORDS.search(label) or (len(words) > 1 and imperative_verb(fold(label)) is not None))
        and not (first and _title_case(body))
    ):
        return None
    if first and (kind is None or _TITLE_MARKS.search(body)) and not _TASK_WORDS.search(label):
        return SectionKind.other, line.end  # the record's title line
    if kind is None:
        if body.endswith(":") or (body.isupper() and len(words) <= 6):
            return SectionKind.other, line.end
        return None
    return kind, line.end


def _list_heading(line: _Line, lines: list[_Line], index: int) -> tuple[SectionKind, int] | None:
    """'Where I live' above a bulleted list: a heading by position, though no known words."""
    body = line.text.strip()
    if (
        len(body.split()) > 6
        or body.endswith((".", ";", ",", "!", "?"))
        or "|" in body
        or _LIST_MARKER.match(line.text)
    ):
        return None
    # The list must start on the very next line.
    following = lines[index + 1] if index + 1 < len(lines) else None
    if following is None or not following.text.strip() or not _LIST_MARKER.match(following.text):
        return None
    return heading_kind(body) or SectionKind.other, line.end


_QUESTION = re.compile(r"\s*(?:what|how|who|when|where|why|which)\b", re.I)
_TASK_WORDS = re.compile(r"\b(?:to|will|should|must|shall|needs?\s+to)\s+(?!change\b|happen\b|know\b)[a-z]", re.I)
_TITLE_MARKS = re.compile(r"\s[-–—]\s|\d")


def _title_case(body: str) -> bool:
    """'Review Child Protection Conference (RCPC)': most words capitalised, as titles are."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", body)]
    return len(words) >= 2 and sum(w[0].isupper() for w in words) / len(words) >= 0.6


def _inline_label(line: _Line) -> tuple[SectionKind, int] | None:
    """'Contingency plan: if Mum ...' -> the section kind and where the content starts."""
    match = _INLINE_LABEL.match(line.text)
    if match is None:
        return None
    kind = heading_kind(match["label"])
    if kind is None or len(match["label"].split()) > 7:
        return None
    return kind, line.start + match.end()


# ---------------------------------------------------------------------------------------------
# Sentences


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end] (prose), by punctuation, keeping abbreviations together."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        boundary = match.start()
        if _NOT_SENTENCE_END.search(text, max(cursor, boundary - 12), boundary):
            continue
        s, e = _strip(text, cursor, boundary)
        if e > s:
            spans.append((s, e))
        cursor = match.end()
    s, e = _strip(text, cursor, end)
    if e > s:
        spans.append((s, e))
    return spans


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Blocks separated by blank lines, as (start, end) offsets."""
    spans: list[tuple[int, int]] = []
    block_start: int | None = None
    block_end = 0
    for line in _lines(text):
        if line.text.strip():
            if block_start is None:
                block_start = line.start
            block_end = line.end
        elif block_start is not None:
            spans.append((block_start, block_end))
            block_start = None
    if block_start is not None:
        spans.append((block_start, block_end))
    return spans


# ---------------------------------------------------------------------------------------------
# Segmentation


@dataclass(slots=True)
class Segmentation:
    sections: list[Section]
    units: list[Unit]
    sentences: list[tuple[int, int]]


def segment(text: str) -> Segmentation:
    """Sections, units (items, lines, table rows, prose sentences) and sentences of a record."""
    sections: list[Section] = []
    units: list[Unit] = []
    current: SectionKind | None = None
    outer: SectionKind | None = None  # the heading's section, restored when an inline label's paragraph ends
    outer_heading = (0, 0)  # where that heading is: the restored section keeps it, and its timescales
    inline = False
    seen_content = False
    list_ended = False  # a blank line after list items: prose that follows is no longer the list's section
    table_roles: list[str] | None = None
    pending_prose: list[_Line] = []
    previous_unit_line: _Line | None = None
    lines = _lines(text)

    def flush_prose() -> None:
        if not pending_prose:
            return
        block_start, block_end = pending_prose[0].start, pending_prose[-1].end
        for s, e in split_sentences(text, block_start, block_end):
            units.append(Unit(s, e, text[s:e], Layout.prose, current))
        pending_prose.clear()

    def open_section(kind: SectionKind, heading_start: int, heading_end: int, body_start: int) -> None:
        if sections and sections[-1].end > heading_start:
            sections[-1].end = heading_start  # a section that already ended keeps its end
        sections.append(Section(kind, heading_start, heading_end, body_start, len(text)))

    for index, line in enumerate(lines):
        body = line.text.strip()
        if not body:
            flush_prose()
            previous_unit_line = None
            if inline:
                sections[-1].end = line.start  # an inline label's section is its paragraph
                current, inline = outer, False
                if outer is not None:
                    # The heading's section resumes, so the units that follow lie inside it.
                    sections.append(Section(outer, *outer_heading, line.start, len(text)))
            if units and units[-1].layout in (Layout.list, Layout.table) and units[-1].end <= line.start:
                list_ended = True
            table_roles = None if table_roles is not None and not _next_is_table(lines, index) else table_roles
            continue
        heading = _is_heading(line, first=not seen_content) or _list_heading(line, lines, index)
        seen_content = True
        if heading is not None:
            flush_prose()
            current = outer = heading[0]
            outer_heading = (line.start, line.end)
            inline = list_ended = False
            open_section(current, line.start, line.end, heading[1])
            table_roles = None
            previous_unit_line = None
            continue
        if "|" in body or (body.count("\t") >= 1 and len([c for c in body.split("\t") if c.strip()]) >= 2):
            flush_prose()
            if _TABLE_SEPARATOR.match(body):
                continue
            cells = _cells(text, line)
            roles = _header_roles(text, cells)
            if roles is not None:
                table_roles = roles
                continue
            units.append(_table_unit(text, line, cells, table_roles or _guess_roles(len(cells)), current))
            previous_unit_line = None
            continue
        marker_here = _LIST_MARKER.match(line.text)
        if list_ended and marker_here is None and "|" not in body:
            if current is not None:
                sections[-1].end = line.start  # the section ended with its list
            current = outer = None
        list_ended = False
        label = _inline_label(line)
        content_start = line.start
        if label is not None:
            flush_prose()
            if not inline:
                outer = current
            current, inline = label[0], True
            open_section(current, line.start, label[1], label[1])
            content_start = label[1]
        marker = _LIST_MARKER.match(text, content_start, line.end)
        if marker is not None and marker.end() < line.end:
            flush_prose()
            s, e = _strip(text, marker.end(), line.end)
            units.append(Unit(s, e, text[s:e], Layout.list, current))
            previous_unit_line = line
            continue
        # An indented line right under a list item continues it.
        if (
            previous_unit_line is not None
            and units
            and line.text[:1] in (" ", "\t")
            and units[-1].layout is Layout.list
        ):
            last = units[-1]
            s, e = _strip(text, last.start, line.end)
            units[-1] = Unit(s, e, text[s:e], Layout.list, last.section)
            continue
        if _looks_like_line_item(text, content_start, line, lines, index):
            flush_prose()
            s, e = _strip(text, content_start, line.end)
            for s2, e2 in _split_line_sentences(text, s, e):
                units.append(Unit(s2, e2, text[s2:e2], Layout.line, current))
            previous_unit_line = line
            continue
        if content_start != line.start:
            pending_prose.append(_Line(content_start, line.end, text[content_start : line.end]))
        else:
            pending_prose.append(line)
        previous_unit_line = None
    flush_prose()
    sentences = [(u.start, u.end) for u in units]
    return Segmentation(sections, units, sentences)


def _split_line_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    # A line may hold several sentences, each its own action ("SW to visit. TM to review.").
    return split_sentences(text, start, end) or [(start, end)]


def _looks_like_line_item(text: str, start: int, line: _Line, lines: list[_Line], index: int) -> bool:
    """One action per line: a short line whose neighbours are also separate short lines."""
    length = line.end - start
    if length > 200:
        return False
    following = lines[index + 1] if index + 1 < len(lines) else None
    # A hard-wrapped sentence continues on the next line: it starts in lower case, or this line is
    # as long as editors wrap at.
    if (
        following is not None
        and following.text.strip()
        and not _ends_sentence(line.text)
        and (
            following.text[:1].islower()
            or (length >= 65 and not _LIST_MARKER.match(following.text) and "|" not in following.text)
        )
    ):
        return False
    neighbours = [lines[i] for i in (index - 1, index + 1) if 0 <= i < len(lines)]
    if any(
        n.text.strip() and not _ends_sentence(n.text) and len(n.text) > 60 for n in neighbours if n is lines[index - 1]
    ):
        return False  # the previous line was wrapped prose that continues here
    return any(n.text.strip() for n in neighbours) or not _ends_sentence(line.text) or length < 120


def _ends_sentence(body: str) -> bool:
    return body.rstrip().endswith((".", "!", "?", ":", ";"))


def _next_is_table(lines: list[_Line], index: int) -> bool:
    for position in range(index + 1, len(lines)):  # no slice: no copy of the rest of the record
        if lines[position].text.strip():
            return "|" in lines[position].text
    return False


def _marker_length(line: _Line) -> int:
    """The length of a list marker opening a table row ("- action | who | when"): not the action's."""
    marker = _LIST_MARKER.match(line.text)
    return marker.end() if marker is not None and "|" not in marker.group() and "\t" not in marker.group() else 0


def _cells(text: str, line: _Line) -> list[Cell]:
    separator = "|" if "|" in line.text else "\t"
    cells: list[Cell] = []
    skip = _marker_length(line)
    position = line.start + skip
    parts = line.text[skip:].split(separator)
    for number, part in enumerate(parts):
        s, e = _strip(text, position, position + len(part))
        position += len(part) + 1
        if (number == 0 or number == len(parts) - 1) and s == e:
            continue  # leading or trailing pipe
        cells.append(Cell("other", s, e))
    return cells


def _header_roles(text: str, cells: list[Cell]) -> list[str] | None:
    roles: list[str] = []
    for cell in cells:
        body = text[cell.start : cell.end]
        if _WHO_HEADER.match(body):
            roles.append("who")
        elif _WHEN_HEADER.match(body):
            roles.append("when")
        elif _ACTION_HEADER.match(body):
            roles.append("action")
        else:
            roles.append("other")
    known = [r for r in roles if r != "other"]
    return roles if len(known) >= 2 and len(set(known)) == len(known) else None


def _guess_roles(count: int) -> list[str]:
    # Without a header, practitioners paste "action | who | when".
    return ["action", "who", "when", *["other"] * max(0, count - 3)][:count]


def _table_unit(text: str, line: _Line, cells: list[Cell], roles: list[str], section: SectionKind | None) -> Unit:
    typed = [Cell(roles[i] if i < len(roles) else "other", c.start, c.end) for i, c in enumerate(cells)]
    s, e = _strip(text, line.start + _marker_length(line), line.end)
    unit = Unit(s, e, text[s:e], Layout.table, section, cells=typed)
    return unit

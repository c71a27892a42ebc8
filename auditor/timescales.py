"""Timescales: explicit dates, relative deadlines, frequencies, meeting-anchored deadlines and the
indefinite words inspectors do not accept as timescales. Each is normalised to a due date where
the record's own date allows.

No date library understands "within 10 working days", "by the end of the spring term" or "by the
February PEP meeting", so the grammar is ours. It is regular expressions over the record text,
because a plan's timescales are short fixed phrases and the engine must run at a good fraction of
tokenizer speed.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from auditor.casefold import Anchored, WordIndex, ci, fold
from auditor.dates import MONTH_NAME, MONTHS, add_working_days, expand_year, month_number


class TimescaleKind(StrEnum):
    date = "date"
    relative = "relative"
    frequency = "frequency"
    meeting = "meeting"
    event = "event"  # tied to a named event: "as soon as I get a housing offer"
    indefinite = "indefinite"


@dataclass(frozen=True, slots=True)
class Timescale:
    kind: TimescaleKind
    start: int
    end: int
    text: str
    due: date | None = None
    anchor: str | None = None  # for meeting-anchored deadlines: which meeting

    @property
    def is_definite(self) -> bool:
        return self.kind is not TimescaleKind.indefinite


NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip
NUMBER = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY = r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)"
WEEKDAY_FULL = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
ORDINAL = r"(?:st|nd|rd|th)"

# Meetings specific enough to anchor a deadline on their own ("before RCPC")...
SPECIFIC_MEETING = (
    r"(?:core\s+group(?:\s+meeting)?|rcpc|icpc|(?:review\s+)?(?:child\s+protection|cp)\s+conference"
    r"|(?:lac|cla|cic|looked[\s-]after|child\s+in\s+care|iro)\s+review|pep(?:\s+(?:meeting|review))?"
    r"|taf(?:\s+meeting)?|team\s+around\s+the\s+family(?:\s+meeting)?|(?:cin|child\s+in\s+need)\s+(?:review|meeting)"
    r"|strategy\s+(?:meeting|discussion)|legal\s+(?:planning|gateway)\s+meeting|lpm|plo\s+meeting"
    r"|pre[\s-]proceedings\s+meeting|permanence\s+panel|(?:final|court)\s+hearing|irh"
    r"|care\s+planning\s+meeting|(?:pathway\s+plan|statutory)\s+review)"
)
# ...and generic ones that need "the", "next" or a month ("by the review", "at the next meeting").
GENERIC_MEETING = r"(?:review(?:\s+(?:meeting|conference))?|conference|meeting|mtg|panel|hearing|visit|session|appointment|cg|cin\s+mtg|cin\s+meeting|pep|script\s+review|options\s+evening|parents'?\s+evening)"

_FLAGS = re.IGNORECASE

_DATE_NUMERIC = ci(r"(?<![\d/.£$-])(?P<d>[0-3]?\d)[./](?P<m>[01]?\d)(?:[./](?P<y>\d{4}|\d{2}))?(?![\d/]|\.\d)", _FLAGS)
_DATE_ISO = ci(r"(?<!\d)(?P<y>20\d{2})-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)(?!\d)")
_WEEK_OF = r"(?:(?:w/?c|w/?b|wc|wb|week\s+commencing|week\s+beginning|week\s+of)\.?\s*)"
_DAY_MONTH = ci(
    rf"(?P<d>[0-3]?\d){ORDINAL}?\s+(?:of\s+)?(?P<mon>{MONTH_NAME})\b\.?(?:,?\s+(?P<y>\d{{4}}|\d{{2}})(?![\d:]))?",
    _FLAGS,
)
_MONTH_DAY = ci(rf"(?P<mon>{MONTH_NAME})\.?\s+(?P<d>[0-3]?\d){ORDINAL}?\b(?:,?\s+(?P<y>\d{{4}}))?", _FLAGS)
# What may stand before a worded date and belongs to it: "w/c", "Tuesday", "the".
_DATE_PREFIX = ci(rf"(?:{_WEEK_OF})?(?:{WEEKDAY}\.?,?\s+)?(?:the\s+)?$", _FLAGS)
_WEEK_OF_START = ci(_WEEK_OF)
_DEADLINE_WORD = ci(r"\b(?:by|on|before|until|from|w/?c|due|next)\s*[:.]?\s*$")
_WEEK_OF_NUMERIC = ci(rf"{_WEEK_OF}(?=\d)", _FLAGS)
_MONTH_DEADLINE = ci(
    rf"\b(?:by|before|until|during|in|from|for)\s+(?:the\s+)?(?:(?P<edge>end|beginning|start|middle|mid)[\s-]+(?:of\s+)?)?(?P<mon>{MONTH_NAME})\b(?:\s+(?P<y>\d{{4}}))?"
    rf"|\b(?P<mon2>{MONTH_NAME})\s+(?P<y2>20\d{{2}})\b",
    _FLAGS,
)
_RELATIVE_WITHIN = ci(
    rf"\b(?:within|in|over|for|after)\s+(?:the\s+)?(?:next\s+|first\s+|coming\s+)?(?P<n>{NUMBER})(?:\s*-\s*|\s+to\s+\d{{1,3}}\s+|\s+)"
    r"(?P<q>working\s+|calendar\s+|school\s+|clear\s+)?(?P<unit>days?|weeks?|fortnights?|months?|hours?|hrs?|wks?|years?|school\s+terms?|terms?)"
    r"(?:'?\s*time)?\b",
    _FLAGS,
)
_RELATIVE_NEXT = ci(
    r"\b(?:within|in|over|during)\s+(?:the\s+)?(?:next|coming)\s+(?P<unit>fortnight|week|month)\b", _FLAGS
)
_DAY_OF_MONTH = ci(rf"\b(?:by|on|before|until)\s+the\s+(?P<d>[0-3]?\d){ORDINAL}\b(?!\s+(?:of\s+)?{MONTH_NAME})", _FLAGS)
_RELATIVE_BARE = ci(
    rf"(?:(?<=[:(–—-])|(?<=[:(–—-]\s)|(?<=[:(–—-]\s\s))(?P<n>{NUMBER})\s+(?P<q>working\s+|calendar\s+)?(?P<unit>days?|weeks?|months?|wks?)\b",
    _FLAGS,
)
_RELATIVE_FROM = ci(
    rf"\b(?P<n>{NUMBER})\s+(?P<q>working\s+)?(?P<unit>days?|weeks?|months?)\s+(?:from|after|of)\s+(?:today|now|this|the\s+date|receipt|referral|allocation)",
    _FLAGS,
)
_RELATIVE_NAMED = ci(
    rf"\b(?:by|before|on|until|no\s+later\s+than|from)\s+(?:this\s+|next\s+|the\s+)?(?P<wd>{WEEKDAY_FULL})\b"
    r"|\b(?:by|before|until|at)\s+(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|next\s+)?(?P<period>week|month|year|school\s+year|day|half[\s-]term|term)\b"
    r"|\b(?:by|before|until|at|for)\s+(?:the\s+)?(?:end\s+of\s+(?:the\s+)?)?(?P<term>spring|summer|autumn|christmas|easter)\s+(?P<termword>term|half[\s-]term|holidays?|break)\b"
    r"|\b(?:by|before|until|after|over|in)\s+(?:the\s+)?(?P<holiday>christmas|easter|half[\s-]term|the\s+summer\s+holidays?|summer\s+holidays?|new\s+year)\b"
    r"|\b(?P<now>immediately|with\s+immediate\s+effect|today|tonight|tomorrow|same\s+day|this\s+week|next\s+week|this\s+month|next\s+month|by\s+close\s+of\s+play|by\s+cop|by\s+eod|by\s+end\s+of\s+day|within\s+24\s*hrs?)\b",
    _FLAGS,
)
_FREQUENCY = ci(
    r"\b(?:daily|nightly|weekly|fortnightly|monthly|bi-?weekly|bi-?monthly|termly|half[\s-]termly|quarterly|annually|yearly)\b"
    rf"|\b(?:\d{{1,2}}|two|three|four|six|eight)[ -](?:weekly|monthly|daily)\b"
    rf"|\b(?:once|twice|(?:{NUMBER})\s+times)\s+(?:a|per|each|every)\s+(?:day|week|fortnight|month|term|night|visit)\b"
    rf"|\b(?:once|twice)\s+(?:weekly|monthly|daily)\b"
    r"|\b\d{1,2}\s*x\s*(?:a|per|each|every)?\s*(?:day|week|fortnight|month|term)\b"
    rf"|\b(?:{NUMBER})\s+(?:[a-z]+\s+){{0,2}}(?:a|per|each|every)\s+(?:day|week|fortnight|month|term|half[\s-]term|night)\b"
    rf"|\bevery\s+(?:other\s+|second\s+)?(?:(?:{NUMBER})(?:\s*(?:-|–|to)\s*\d{{1,2}})?\s+(?:working\s+|school\s+)?(?:days?|weeks?|months?|nights?)|day|night|week|weekday|weekend|fortnight|month|term|half[\s-]term|morning|evening|afternoon|school\s+day|visit|session|contact|meeting|core\s+group|review|{WEEKDAY_FULL})\b"
    rf"|\b(?:each|per)\s+(?:day|night|week|fortnight|month|term|morning|evening|school\s+day|visit|session|contact|meeting|core\s+group|review|{WEEKDAY_FULL})\b"
    rf"|\b(?:at|during)\s+(?:each|every|all)\s+(?:visits?|sessions?|contacts?|meetings?|core\s+groups?|reviews?|home\s+visits?|appointments?)\b"
    rf"|\bon\s+(?:{WEEKDAY_FULL})s\b|\b(?:{WEEKDAY_FULL})s\s+(?:and\s+(?:{WEEKDAY_FULL})s\s+)?(?:after|before|at|from)\b"
    r"|\b(?:on\s+)?(?:school\s+(?:days|nights|mornings)|weekdays|weeknights|week\s+nights)\b"
    r"|\b(?:on\s+)?(?:mons|tues|weds|thurs|fris|sats|suns|tue|wed|thu)(?:days)?\s+(?:and\s+\w+\s+)?(?:evenings?|mornings?|afternoons?|nights?|after\s+school)\b"
    r"|\b(?:on\s+)?(?:tues|weds|thurs|mon|fri)\s+(?:and|&|\+)\s+(?:tues|weds|thurs|mon|fri)\b|\bat\s+(?:weekends|the\s+weekends?)\b|\bevery\s+school\s+day\b"
    r"|\b(?:24/7|round\s+the\s+clock)\b|\bat\s+least\s+(?:once|twice|\d+\s+times)\b"
    # "attend all appointments": every one as it falls, a per-event frequency (GUIDELINES.md)
    r"|\ball\s+(?:(?:of\s+)?(?:the|her|his|their|my|child\s+[a-z]'s|the\s+baby's)\s+)?(?:[a-z-]+\s+){0,2}(?:appointments|sessions|core\s+groups|meetings|visits|reviews|contacts|classes|lessons)\b",
    _FLAGS,
)
_MEETING_PREPOSITION = (
    r"\b(?:by|before|at|prior\s+to|in\s+time\s+for|until|ahead\s+of|in\s+advance\s+of|following|after|for)\s+"
)
_MEETING_WHEN = r"(?:(?:next|first|second|initial|following|final|upcoming|forthcoming|\d(?:st|nd|rd|th)|next\s+(?:two|2|three|3))\s+)"
_MEETING = ci(
    rf"{_MEETING_PREPOSITION}(?:the\s+)?{_MEETING_WHEN}?(?:(?P<mon>{MONTH_NAME})\s+)?(?P<meeting>{SPECIFIC_MEETING})\b"
    rf"|{_MEETING_PREPOSITION}(?:(?:the|each|every)\s+(?:{_MEETING_WHEN}|(?P<mon2>{MONTH_NAME})\s+)?|{_MEETING_WHEN}|(?P<mon3>{MONTH_NAME})\s+)(?:[\w-]+\s+){{0,2}}?(?P<generic>{GENERIC_MEETING}s?)\b"
    rf"|\bthe\s+next\s+(?:[\w-]+\s+){{0,2}}?(?P<next>{SPECIFIC_MEETING}|{GENERIC_MEETING}s?|panel|options\s+evening|parents'?\s+evening)\b",
    _FLAGS,
)
_EVENT = ci(
    r"\bas\s+soon\s+as\s+(?!possible\b|practicable\b|able\b|poss\b)(?:i|he|she|they|we|mum|dad|the|a|an|my|his|her|their|child\s+[a-z])\b[^.;\n]{3,60}"
    r"|\b(?:before|after|once)\s+(?:the|my|his|her|their)\s+(?:[\w'-]+\s+){0,3}(?:is|are|has\s+been|have\s+been)\s+(?:finalised|completed|agreed|signed|approved|done|made|received|returned)\b"
    r"|\bbefore\s+(?:my|his|her|their|the)\s+next\s+(?:[\w'-]+\s+){0,3}(?:payment|appointment|visit|hearing|exam|exams|birthday|move)\b"
    # milestones in a child's or young person's life and a case's course
    r"|\b(?:before|by|after|at|from|until|on)\s+(?:[\w\[\]'-]+\s+){0,3}(?:1[4-9]th|2[01]st)(?:\s+birthday)?\b"
    r"|\b(?:before|by|after|until|once|when)\s+(?:the\s+|my\s+|his\s+|her\s+)?(?:baby\s+is\s+(?:born|discharged)|birth|discharge|(?:i|he|she|they|yp)\s+(?:get|gets|move|moves|start|starts|leave|leaves|turn|turns)\b[^.;\n]{0,30}|move[\s-]in(?:\s+date)?|(?:he|she|they|yp|i)\s+leaves?\s+care)"
    r"|\bonce\s+(?:[\w\[\]'-]+\s+){1,3}(?:starts?|is|are|has|have|gets?|moves?|arrives?|returns?|leaves?|agreed|allocated|confirmed)\b"
    r"|\b(?:at|by|before)\s+(?:age\s+)?1[5-9]\b(?!\s*(?:%|hours?|months?))"
    r"|\b(?:at|by|before)\s+(?:day\s+\d{1,2}|\d{1,2}\s+weeks?\s+(?:gestation|pregnant)|(?:the\s+)?\d{1,2}[\s-](?:month|week|year)s?\s+(?:check|review|assessment))\b"
    r"|\b(?:at|after)\s+\d{1,2}\s+(?:months?|weeks?)\b(?!\s+(?:old|of\s+age))"
    r"|\bby\s+the\s+end\s+of\s+(?:the\s+)?(?:[\w+-]+\s+){0,3}(?:course|programme|assessment|placement|holidays?|exams?)\b"
    r"|\b(?:in|during)\s+(?:the\s+)?(?:(?:summer|autumn|winter|spring|school|uni|university|easter|christmas)\s+)+(?:\d{4}\s+)?(?:holidays?|exams?|break|term)\b"
    r"|\bwhen\s+(?:eligible|due|the\s+\w+\s+(?:is|are)\s+(?:made|known|received|available))\b"
    # an event that triggers the action: "when Child A has a meltdown", "on any day he is absent"
    r"|\b(?:(?<!and\s)when(?!\s+(?:needed|required|necessary|appropriate|possible|able|ready|available|offered|(?:he|she|they|i|we)\s+(?:can|wants?|feels?\s+ready|is\s+ready)|asked|i'm|im)\b)|each\s+time|every\s+time|on\s+(?:any|the)\s+day\s+(?:of\s+)?|"
    r"(?:before|after)\s+(?:every|each|any)|following\s+(?:the|any|each|his|her|their))[ \t]+[^.;|\n]{3,60}"
    r"|\b(?:before|by|at)\s+(?:\d{1,2}\s+(?:wks?|weeks?)(?:\s+(?:gestation|pregnant))?|(?:baby|child\s+[a-z]|[a-z]+'s)\s+(?:leaves?|is|birth|goes|moves?|placed)\b[^.;|\n]{0,40})"
    r"|\b\d{1,2}\s+days\s+later\b|\bbetween\s+now\s+and\b[^.;|\n]{3,40}|\bfrom\s+now(?:\s+on)?\b"
    r"|\b(?:this|next)\s+(?:weekend|term|half\s+term|school\s+year|year)\b|\bby\s+(?:the\s+)?(?:summer|xmas|christmas|easter|end\s+of\s+the\s+plan)\b",
    _FLAGS,
)
_INDEFINITE = ci(
    r"\b(?:asap|a\.s\.a\.p\.?|as\s+soon\s+as\s+(?:possible|practicable|able)|on[\s-]?going|as\s+and\s+when(?:\s+(?:required|needed|necessary|appropriate|possible))?|in\s+the\s+next\s+few\s+(?:days|weeks|months)|in\s+due\s+course|when\s+(?:needed|required|necessary|appropriate|possible|able|ready|available)"
    r"|as\s+(?:needed|required|necessary|appropriate)|if\s+(?:needed|required|necessary)"
    r"|regularly|on\s+a\s+regular\s+basis|(?:at\s+)?regular\s+intervals|continuous(?:ly)?|continual(?:ly)?|at\s+some\s+point|at\s+all\s+times|from\s+time\s+to\s+time|(?:for\s+)?as\s+long\s+as\s+(?:needed|required|necessary)|(?:when|until)\s+i'?m\s+ready|when\s+(?:i|he|she|they)\s+needs?\s+(?:help|it|support)|as\s+(?:she|he|they|i)\s+wish(?:es)?|as\s+directed|overdue|reg(?=\s+\w)|as\s+agreed|in\s+line\s+with\s+(?:procedures?|policy|statutory\s+guidance)|(?:in\s+)?(?:the\s+)?next\s+few\s+(?:days|weeks|months)|when\s+(?:offered|asked)|(?:as\s+often\s+as\s+|when\s+)(?:he|she|they|i|we)\s+can|as\s+circumstances\s+change|within\s+the\s+timescales?\s+of\s+the\s+plan|(?:in|within)\s+a\s+timely\s+(?:way|manner|fashion)|going\s+forward|for\s+the\s+time\s+being|in\s+the\s+coming\s+(?:weeks|months)|as\s+a\s+matter\s+of\s+urgency|when\s+(?:he|she|they|i)\s+(?:feels?|is|are|am)\s+ready|whenever|(?:more|as)\s+often\s+as\s+(?:possible|needed)|regular(?=\s+(?:[\w-]+\s+)?(?:contact|visits?|meetings?|updates?|sessions?|reviews?|checks?|supervision|support))|(?:once|when)\s+capacity\s+(?:allows|permits)|capacity\s+permitting|in\s+the\s+(?:near\s+)?future|over\s+time"
    r"|in\s+time|(?<!as\s)soon|shortly|throughout(?:\s+the\s+plan)?|for\s+the\s+(?:foreseeable\s+future|duration(?:\s+of\s+the\s+plan)?)|at\s+the\s+earliest\s+opportunity|tbc|tba|(?<=dates\s)to\s+be\s+(?:confirmed|agreed|arranged|decided)|(?<=date\s)to\s+be\s+(?:confirmed|agreed|arranged|decided))\b",
    _FLAGS,
)
# Scores and scales, not dates: "scaled herself 5/10", "SDQ 12/40", "3/4 sessions".
_NOT_A_DATE_BEFORE = ci(
    r"(?:scal\w*|score\w*|rat(?:ed|ing)|out\s+of|sdq|level|grade)\W{1,3}(?:\w+\W{1,3}){0,2}$",
    _FLAGS,
)
_NOT_A_DATE_AFTER = ci(
    r"\s*(?:sessions?|appointments?|visits?|of\s|%|points?|on\s+(?:the|a|her|his|their|my)\s+(?:\w+\s+){0,2}(?:scale|sdq|ladder|thermometer))",
    _FLAGS,
)

_TERM_ENDS = {"autumn": (12, 20), "christmas": (12, 20), "spring": (3, 31), "easter": (3, 31), "summer": (7, 20)}


def find_timescales(
    original: str, recorded_at: date | None = None, folded: str | None = None, index: WordIndex | None = None
) -> list[Timescale]:
    """Every timescale in `original`, sorted by position, overlapping matches resolved to the longest.

    `folded` is `casefold.fold(original)` and `index` its `casefold.WordIndex`, if the caller has
    them already. (Word starts from the spaCy Doc's arrays were measured slower than one regex
    pass for records of plan size.)
    """
    text = folded if folded is not None else fold(original)
    starts = index if index is not None else WordIndex.from_text(text)
    found: list[Timescale] = []
    found += _dates(text, recorded_at, starts)
    found += _relatives(text, recorded_at, starts)
    for match in ANCHORED["frequency"].finditer(text, starts):
        found.append(Timescale(TimescaleKind.frequency, match.start(), match.end(), match.group()))
    for match in ANCHORED["meeting"].finditer(text, starts):
        found.append(_meeting(match, recorded_at))
    for match in ANCHORED["event"].finditer(text, starts):
        found.append(Timescale(TimescaleKind.event, match.start(), match.end(), match.group()))
    for match in ANCHORED["indefinite"].finditer(text, starts):
        found.append(Timescale(TimescaleKind.indefinite, match.start(), match.end(), match.group()))
    return [
        Timescale(t.kind, t.start, t.end, original[t.start : t.end], t.due, t.anchor)  # not replace(): 10x slower
        for t in _anchor_relatives(text, _longest_non_overlapping(found))
    ]


_MEETING_NAME = ci(rf"(?:next\s+|first\s+|initial\s+)?{SPECIFIC_MEETING}\b", _FLAGS)
_ANCHOR_LINK = ci(r"\s+(?:of|from|after)\s+(?:the\s+)?", _FLAGS)


def _anchor_relatives(text: str, found: list[Timescale]) -> list[Timescale]:
    """'within 10 working days of 24.12.20': count from the named date, as one timescale."""
    merged: list[Timescale] = []
    index = 0
    while index < len(found):
        item = found[index]
        following = found[index + 1] if index + 1 < len(found) else None
        link = _ANCHOR_LINK.match(text, item.end)
        meeting = _MEETING_NAME.match(text, link.end()) if link is not None else None
        if (
            item.kind is TimescaleKind.relative
            and meeting is not None
            and (following is None or following.start >= meeting.start())
        ):
            # "within 2 weeks of the RCPC": counted from a meeting whose date is not given.
            end = meeting.end()
            merged.append(
                Timescale(TimescaleKind.meeting, item.start, end, text[item.start : end], None, anchor=meeting.group())
            )
            index += 1
            while index < len(found) and found[index].start < end:
                index += 1
            continue
        if (
            following is not None
            and link is not None
            and item.kind is TimescaleKind.relative
            and following.kind is TimescaleKind.date
            and link.end() == following.start
            and following.due is not None
        ):
            relative = _RELATIVE_WITHIN.match(text, item.start)
            due = (
                _unit_days(_number(relative["n"]), relative["unit"], relative["q"] or "", following.due)
                if relative
                else following.due
            )
            merged.append(
                Timescale(TimescaleKind.relative, item.start, following.end, text[item.start : following.end], due)
            )
            index += 2
            continue
        merged.append(item)
        index += 1
    return merged


# Each pattern family is tried only where a word that can begin it starts: a handful of places
# per record instead of every character (a dozen whole-text scans made this the slowest part of
# the audit). "#" is any number.
_NUMBER_WORDS = frozenset(NUMBER_WORDS)
_MONTHS = frozenset(MONTHS)
_FIRST_WORDS: dict[str, frozenset[str]] = {
    "month": _MONTHS,
    "within": frozenset({"within", "in", "over", "for", "after", "during"}),
    "named": frozenset(
        {"by", "before", "on", "until", "no", "from", "at", "for", "after", "over", "in", "immediately", "with", "today",
         "tonight", "tomorrow", "same", "this", "next", "within"}
    ),
    "frequency": frozenset(
        {"by", "in", "during", "school", "weekdays", "weeknights", "week", "daily", "nightly", "weekly", "fortnightly", "monthly", "bi", "termly", "half", "quarterly", "annually", "yearly",
         "once", "twice", "every", "each", "per", "at", "on", "round", "all", "mons", "tues", "weds",
         "thurs", "fris", "sats", "suns", "tue", "wed", "thu", "mon", "fri", *WEEKDAYS, *(f"{d}s" for d in WEEKDAYS)}
        | _NUMBER_WORDS
    ),
    "event": frozenset(
        {"as", "before", "after", "once", "by", "at", "from", "until", "on", "when", "in", "during", "whenever", "each",
         "every", "following", "between", "this", "next"}
    ),
    "meeting": frozenset({"by", "before", "at", "prior", "in", "until", "ahead", "following", "after", "for", "the"}),
    "indefinite": frozenset(
        {"for", "until", "overdue", "reg", "asap", "a", "a.s.a.p", "a.s.a.p.", "as", "on", "ongoing", "in", "when", "where", "if", "regularly", "regular", "at", "continuous",
         "continuously", "continual", "continually", "over", "soon", "shortly", "throughout", "tbc", "tba", "to",
         "once", "capacity", "within", "going", "whenever", "more", "from", "next", "the"}
    ),
    "#": _NUMBER_WORDS,
}  # fmt: skip
_MONTH_DEADLINE_FIRST = _FIRST_WORDS["month"] | {"by", "before", "until", "during", "in", "from", "for"}


def _anchor(pattern: re.Pattern[str], family: str) -> Anchored:
    """The pattern, tried only where one of its family's first words (or a number) starts."""
    return Anchored(pattern, _FIRST_WORDS[family], numbers=family in ("#", "frequency", "event"))


# Every timescale pattern, anchored (tests/test_anchored.py checks each against a plain search).
ANCHORED = {
    "day_month": _anchor(_DAY_MONTH, "#"),
    "month_day": _anchor(_MONTH_DAY, "month"),
    "month_deadline": Anchored(_MONTH_DEADLINE, _MONTH_DEADLINE_FIRST),
    "relative_within": _anchor(_RELATIVE_WITHIN, "within"),
    "relative_from": _anchor(_RELATIVE_FROM, "#"),
    "relative_bare": _anchor(_RELATIVE_BARE, "#"),
    "relative_next": _anchor(_RELATIVE_NEXT, "within"),
    "day_of_month": _anchor(_DAY_OF_MONTH, "named"),
    "relative_named": _anchor(_RELATIVE_NAMED, "named"),
    "frequency": _anchor(_FREQUENCY, "frequency"),
    "meeting": _anchor(_MEETING, "meeting"),
    "event": _anchor(_EVENT, "event"),  # numbers too: "7 days later"
    "indefinite": _anchor(_INDEFINITE, "indefinite"),
}


def _longest_non_overlapping(found: list[Timescale]) -> list[Timescale]:
    # Longest first; a definite reading beats an indefinite one of the same length.
    ranked = sorted(found, key=lambda t: (-(t.end - t.start), not t.is_definite, t.start))
    starts: list[int] = []  # kept intervals, sorted by start, never overlapping
    kept: list[Timescale] = []
    for item in ranked:
        position = bisect.bisect_left(starts, item.start)
        if position > 0 and kept[position - 1].end > item.start:
            continue
        if position < len(kept) and kept[position].start < item.end:
            continue
        starts.insert(position, item.start)
        kept.insert(position, item)
    return kept


def _next_occurrence(month: int, day: int, recorded_at: date | None) -> date | None:
    if recorded_at is None:
        return None
    for year in (recorded_at.year, recorded_at.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= recorded_at:
            return candidate
    return None


def _end_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _dates(text: str, recorded_at: date | None, starts: WordIndex) -> list[Timescale]:
    out: list[Timescale] = []
    due: date | None
    for match in _DATE_ISO.finditer(text):
        try:
            due = date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
        out.append(Timescale(TimescaleKind.date, match.start(), match.end(), match.group(), due))
    for match in _DATE_NUMERIC.finditer(text):
        day, month = int(match["d"]), int(match["m"])
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        if _NOT_A_DATE_BEFORE.search(text, max(0, match.start() - 40), match.start()) or _NOT_A_DATE_AFTER.match(
            text, match.end()
        ):
            continue
        if (
            match["y"] is None
            and "." in match.group()
            and not _DEADLINE_WORD.search(text, max(0, match.start() - 12), match.start())
        ):
            # "2.5" is a number, not the 2nd of May, unless a deadline word stands before it ("by 30.6").
            continue
        start = match.start()
        week_of = _WEEK_OF_NUMERIC.search(text, max(0, start - 16), start + 1)
        if week_of and week_of.end() == start:
            start = week_of.start()
        try:
            if match["y"]:
                due = date(expand_year(int(match["y"])), month, day)
            else:
                due = _next_occurrence(month, day, recorded_at)
        except ValueError:
            continue
        if week_of and week_of.end() == match.start() and due is not None:
            due += timedelta(days=4)
        out.append(Timescale(TimescaleKind.date, start, match.end(), text[start : match.end()], due))
    for match in ANCHORED["day_month"].finditer(text, starts) + ANCHORED["month_day"].finditer(text, starts):
        day = int(match["d"])
        if not 1 <= day <= 31:
            continue
        month = month_number(match["mon"])
        if match["mon"] == "may" and match.re is _MONTH_DAY and not match["y"]:
            continue  # "may 2" is more often "may", the verb, than the 2nd of May
        try:
            due = (
                date(expand_year(int(match["y"])), month, day)
                if match["y"]
                else _next_occurrence(month, day, recorded_at)
            )
        except ValueError:
            continue
        prefix = _DATE_PREFIX.search(text, max(0, match.start() - 30), match.start())
        start = prefix.start() if prefix else match.start()
        if due is not None and prefix is not None and _WEEK_OF_START.match(text, prefix.start()):
            due += timedelta(days=4)
        out.append(Timescale(TimescaleKind.date, start, match.end(), text[start : match.end()], due))
    for match in ANCHORED["month_deadline"].finditer(text, starts):
        month_text = match["mon"] or match["mon2"]
        year_text = match["y"] or match["y2"]
        if (
            month_text.lower() == "may"
            and not year_text
            and not match["edge"]
            and not match.group().lower().startswith(("in ", "by ", "before ", "until ", "during "))
        ):
            continue
        month = month_number(month_text)
        due = None
        if year_text:
            due = _end_of_month(int(year_text), month)
        elif recorded_at is not None:
            year = recorded_at.year if month >= recorded_at.month else recorded_at.year + 1
            due = _end_of_month(year, month)
        edge = (match["edge"] or "").lower()
        if due is not None and edge in ("mid", "middle"):
            due = due.replace(day=15)
        elif due is not None and edge in ("beginning", "start"):
            due = due.replace(day=7)
        out.append(Timescale(TimescaleKind.date, match.start(), match.end(), match.group(), due))
    return out


def _unit_days(n: int, unit: str, qualifier: str, recorded_at: date | None) -> date | None:
    if recorded_at is None:
        return None
    unit = unit.lower()
    qualifier = (qualifier or "").strip().lower()
    if unit.startswith(("hour", "hr")):
        return recorded_at + timedelta(days=-(-n // 24))  # 24 hours is the next day
    if unit.startswith("day"):
        if qualifier in ("working", "school"):
            return add_working_days(recorded_at, n)
        return recorded_at + timedelta(days=n)
    if unit.startswith(("week", "wk")):
        return recorded_at + timedelta(weeks=n)
    if unit.startswith("fortnight"):
        return recorded_at + timedelta(weeks=2 * n)
    if unit.startswith("month"):
        month_index = recorded_at.month - 1 + n
        year, month = recorded_at.year + month_index // 12, month_index % 12 + 1
        return date(year, month, min(recorded_at.day, calendar.monthrange(year, month)[1]))
    if unit.startswith("year"):
        try:
            return recorded_at.replace(year=recorded_at.year + n)
        except ValueError:
            return recorded_at.replace(year=recorded_at.year + n, day=28)
    if "term" in unit:
        return recorded_at + timedelta(weeks=13 * n)
    return None


def _number(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _relatives(text: str, recorded_at: date | None, starts: WordIndex) -> list[Timescale]:
    out: list[Timescale] = []
    for name in ("relative_within", "relative_from", "relative_bare"):
        for match in ANCHORED[name].finditer(text, starts):
            n = _number(match["n"])
            due = _unit_days(n, match["unit"], match["q"] or "", recorded_at)
            out.append(Timescale(TimescaleKind.relative, match.start(), match.end(), match.group(), due))
    for match in ANCHORED["day_of_month"].finditer(text, starts):
        out.append(
            Timescale(
                TimescaleKind.date,
                match.start(),
                match.end(),
                match.group(),
                _day_of_month(int(match["d"]), recorded_at),
            )
        )
    for match in ANCHORED["relative_next"].finditer(text, starts):
        due = _unit_days(1, match["unit"], "", recorded_at)
        out.append(Timescale(TimescaleKind.relative, match.start(), match.end(), match.group(), due))
    for match in ANCHORED["relative_named"].finditer(text, starts):
        out.append(
            Timescale(TimescaleKind.relative, match.start(), match.end(), match.group(), _named_due(match, recorded_at))
        )
    return out


def _named_due(match: re.Match[str], recorded_at: date | None) -> date | None:
    if recorded_at is None:
        return None
    if match["wd"]:
        target = WEEKDAYS.index(match["wd"].lower())
        ahead = (target - recorded_at.weekday()) % 7 or 7
        if match.group().lower().split()[1:2] == ["next"] and ahead < 7:
            ahead += 7
        return recorded_at + timedelta(days=ahead)
    if match["period"]:
        period = match["period"].lower()
        following = "next" in match.group().lower().split()
        if period == "day":
            return recorded_at
        if period == "week":
            return recorded_at + timedelta(days=(4 - recorded_at.weekday()) % 7 + (7 if following else 0))
        if period == "month":
            if following:
                year, month = (
                    (recorded_at.year + 1, 1) if recorded_at.month == 12 else (recorded_at.year, recorded_at.month + 1)
                )
                return _end_of_month(year, month)
            return _end_of_month(recorded_at.year, recorded_at.month)
        if "half" in period:
            return _half_term(recorded_at)
        if "term" in period:
            return _term_end(recorded_at, None)
        if period == "school year":
            return _on_or_after(recorded_at, 7, 20)
        return date(recorded_at.year, 12, 31)
    if match["term"]:
        return _term_end(recorded_at, match["term"].lower())
    if match["holiday"]:
        holiday = match["holiday"].lower()
        if "christmas" in holiday:
            return _on_or_after(recorded_at, 12, 24)
        if "easter" in holiday:
            return _on_or_after(recorded_at, 3, 31)
        if "summer" in holiday:
            return _on_or_after(recorded_at, 7, 20)
        if "new year" in holiday:
            return _on_or_after(recorded_at, 12, 31)
        return _half_term(recorded_at)
    now = match["now"].lower()
    if "tomorrow" in now:
        return recorded_at + timedelta(days=1)
    if "next week" in now:
        return recorded_at + timedelta(days=(4 - recorded_at.weekday()) % 7 + 7)
    if "this week" in now:
        return recorded_at + timedelta(days=(4 - recorded_at.weekday()) % 7)
    if "next month" in now:
        month_index = recorded_at.month % 12
        return _end_of_month(recorded_at.year + (recorded_at.month == 12), month_index + 1)
    if "this month" in now:
        return _end_of_month(recorded_at.year, recorded_at.month)
    if "24" in now:
        return recorded_at + timedelta(days=1)
    return recorded_at


def _on_or_after(recorded_at: date, month: int, day: int) -> date:
    candidate = date(recorded_at.year, month, day)
    return candidate if candidate >= recorded_at else date(recorded_at.year + 1, month, day)


def _day_of_month(day: int, recorded_at: date | None) -> date | None:
    """'by the 14th': this month's 14th if it is still to come, else next month's."""
    if recorded_at is None or not 1 <= day <= 31:
        return None
    year, month = recorded_at.year, recorded_at.month
    for _ in range(3):
        if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= recorded_at:
            return date(year, month, day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _half_term(recorded_at: date) -> date:
    """The Friday before the next half-term holiday, approximately (February, May, October)."""
    return min(_on_or_after(recorded_at, month, day) for month, day in ((2, 12), (5, 28), (10, 22)))


def _term_end(recorded_at: date, term: str | None) -> date:
    """Approximate end of an English school term: councils set their own dates, within days of these."""
    if term is None:
        ends = [_on_or_after(recorded_at, month, day) for month, day in _TERM_ENDS.values()]
        return min(ends)
    month, day = _TERM_ENDS[term]
    return _on_or_after(recorded_at, month, day)


def _meeting(match: re.Match[str], recorded_at: date | None) -> Timescale:
    meeting = re.sub(r"\s+", " ", (match["meeting"] or match["generic"] or match["next"]).lower())
    month_text = match["mon"] or match["mon2"] or match["mon3"]
    due = None
    if month_text and recorded_at is not None:
        month = month_number(month_text)
        year = recorded_at.year if month >= recorded_at.month else recorded_at.year + 1
        due = _end_of_month(year, month)
    return Timescale(TimescaleKind.meeting, match.start(), match.end(), match.group(), due, anchor=meeting)

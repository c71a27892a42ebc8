"""Context, in the manner of medspaCy's ConText: conditional, negated, hypothetical and historical
statements are marked once, here, and every rule reads the marks.

"If Mum does not attend, the LA will consider PLO" is a contingency, not a failed action;
"Dad not to have unsupervised contact" is a prohibition, not a task with an owner to chase;
"SW visited on 3.3.21" is history, not a plan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditor.casefold import Anchored, WordIndex, ci

_I = re.IGNORECASE

CONDITIONAL = ci(
    r"\b(?:if(?!\s+(?:needed|required|necessary|appropriate|agreed|possible)\b)|unless|provided(?:\s+that)?|providing|as\s+long\s+as|so\s+long\s+as|on\s+condition\s+that|should\s+(?:\w+\s+){1,3}(?:not|fail|be\s+unable|refuse|decline|breach|continue\s+to)|in\s+the\s+event\s+(?:of|that)|"
    r"where\s+(?:\w+\s+){1,3}(?:does\s+not|do\s+not|is\s+not|are\s+not|fails?)|failing\s+(?:this|that)|otherwise|"
    r"in\s+case\s+(?:of|that)|if\s+not|should\s+this\s+(?:not|fail)|were\s+(?:\w+\s+){1,2}to)\b",
    _I,
)
NEGATION = ci(
    r"\b(?:not\s+to|is\s+not\s+to|are\s+not\s+to|must\s+not|should\s+not|will\s+not|won't|shall\s+not|no\s+(?:unsupervised|contact|further|longer)|never|"
    r"is\s+not|are\s+not|does\s+not|do\s+not|did\s+not|has\s+not|have\s+not|cannot|can't|isn't|aren't|doesn't|don't|didn't|hasn't|haven't)\b",
    _I,
)
PROHIBITION = ci(
    r"\b(?:not\s+(?:be\s+)?(?:allowed|permitted)\s+to|(?:is|are)\s+prohibited\s+from|not\s+to|is\s+not\s+to|are\s+not\s+to|must\s+not|should\s+not|shall\s+not|must\s+never|is\s+never\s+to|no\s+unsupervised|no\s+contact)\b",
    _I,
)
HYPOTHETICAL = ci(
    r"\b(?:may\s+(?:need|be|wish|want)|might|could\s+(?:be|consider)|would\s+(?:be|benefit|like)|possibly|potentially|it\s+is\s+hoped|hopefully|"
    r"if\s+agreed|if\s+appropriate|subject\s+to|to\s+be\s+considered|will\s+be\s+considered)\b",
    _I,
)
# History: a statement that opens with a past event, or that says it is past.
HISTORICAL_START = ci(
    r"\W*(?:[\w'-]+\s+){0,4}?(?<!be\s)(?<!to\s)(?<!will\s)(?:visited|attended|completed|was|were|had|has\s+been|have\s+been|took\s+place|happened|held|said|told|reported|did\s+not|didn't|failed\s+to)\b",
    _I,
)
HISTORICAL = ci(r"\b(?:previously|last\s+(?:week|month|year)|in\s+the\s+past|historically|since\s+the\s+last)\b", _I)


class ContextMarks:
    """The context marks of one statement: each trigger's offsets, or None.

    A mark is looked for the first time it is read and kept: every statement needs `conditional`
    (contingencies), only actions need `prohibition` and `historical` (whether they are tasks),
    and `negated` and `hypothetical` are there for whoever asks. Measured: marking everything
    eagerly cost 4% of the audit."""

    __slots__ = ("_end", "_found", "_index", "_start", "_text")

    def __init__(self, text: str, start: int, end: int, index: WordIndex) -> None:
        self._text, self._start, self._end, self._index = text, start, end, index
        self._found: dict[str, tuple[int, int] | None] = {}

    def _mark(self, name: str) -> tuple[int, int] | None:
        if name not in self._found:
            found = _span(TRIGGERS[name].search(self._text, self._index, self._start, self._end))
            if name == "historical" and found is None:
                found = _span(HISTORICAL_START.match(self._text, self._start, self._end))
            self._found[name] = found
        return self._found[name]

    @property
    def conditional(self) -> tuple[int, int] | None:
        return self._mark("conditional")

    @property
    def prohibition(self) -> tuple[int, int] | None:
        return self._mark("prohibition")

    @property
    def negated(self) -> tuple[int, int] | None:
        return self._mark("negated")

    @property
    def hypothetical(self) -> tuple[int, int] | None:
        return self._mark("hypothetical")

    @property
    def historical(self) -> tuple[int, int] | None:
        return self._mark("historical")

    @property
    def is_task(self) -> bool:
        """Whether a plan can hold someone to this statement as a task with a deadline."""
        return self.conditional is None and self.prohibition is None and self.historical is None

    def __repr__(self) -> str:
        marks = {n: getattr(self, n) for n in ("conditional", "prohibition", "negated", "hypothetical", "historical")}
        return f"ContextMarks({', '.join(f'{k}={v}' for k, v in marks.items())})"


def _span(match: re.Match[str] | None) -> tuple[int, int] | None:
    return (match.start(), match.end()) if match else None


# The same patterns, anchored at the words they can begin with (see casefold.Anchored).
TRIGGERS = {
    "conditional": Anchored(
        CONDITIONAL.pattern, "if unless provided providing as so on should in where failing otherwise were"
    ),
    "prohibition": Anchored(PROHIBITION.pattern, "not is are must should shall no"),
    "negated": Anchored(
        NEGATION.pattern,
        # "won't" is one word to the regex index and "wo" + "n't" to spaCy's tokenizer: both are listed.
        "not is are must should will won wo shall no never does do did has have cannot can ca isn aren doesn don didn hasn haven",
    ),
    "hypothetical": Anchored(
        HYPOTHETICAL.pattern, "may might could would possibly potentially it hopefully if subject to will"
    ),
    "historical": Anchored(HISTORICAL.pattern, "previously last in historically since"),
}


def mark_all(text: str, spans: Sequence[tuple[int, int]], index: WordIndex | None = None) -> list[ContextMarks]:
    """`mark` for many statements of one (case-folded) text, sharing one word index."""
    words = index if index is not None else WordIndex.from_text(text)
    return [ContextMarks(text, start, end, words) for start, end in spans]


def mark(text: str, start: int, end: int) -> ContextMarks:
    """Context marks for the statement text[start:end] (case-folded text), with absolute offsets."""
    return ContextMarks(text, start, end, WordIndex.from_text(text))

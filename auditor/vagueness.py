"""Vague actions: tasks that name no observable behaviour and no measurable outcome.

"Mum to engage with services", "continue to monitor", "support Mum" and "address concerns" say
nobody will be able to tell whether the action was done. An action stops being vague once it says
what someone will observably do ("attend all 12 sessions", "phone Mum every Friday") or how
success is measured ("95% attendance", "a reading age of 9").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.casefold import ci

_I = re.IGNORECASE

VAGUE = ci(
    r"\b(?:engag(?:e|es|ing|ement)(?:\s+(?:with|in|fully|positively|meaningfully|consistently)(?:\s+(?:all\s+)?(?:services|professionals|support|the\s+plan|agencies|the\s+work|work|interventions?))?)?"
    r"|(?:continue\s+to\s+)?monitor(?:ed|ing)?|continue\s+with\s+(?:the\s+)?plan|sort(?:\s+out)?|keep\s+(?:under\s+review|an\s+eye\s+on|in\s+mind)|be\s+aware\s+(?:of|that)|raise\s+awareness"
    r"|(?:continue\s+to\s+|to\s+)?(?:offer|provide|give)\s+(?:ongoing\s+|appropriate\s+|emotional\s+|practical\s+|additional\s+)?support"
    r"|(?:continue\s+to\s+)?support(?!\s+(?:plan|worker|group|session|meeting))(?:\s+(?:mum|dad|parents?|the\s+family|carers?|child\s+[A-Z]|him|her|them|the\s+child(?:ren)?|with\s+\w+))?"
    r"|be\s+supported|(?<!direct\s)work\s+(?:with|on|towards|together|openly|alongside)|co-?operate|comply\s+with|address\s+(?:the\s+|these\s+|all\s+|any\s+|her\s+|his\s+|their\s+)?(?:concerns?|issues?|needs?|risks?|worries|behaviou?rs?|problems?|difficulties)"
    r"|improve(?:ment)?|promote|consider|explore|look\s+(?:into|at)|think\s+about|try\s+to|prioriti[sz]e"
    r"|demonstrate(?:\s+(?:that|an?\s+ability|capacity|insight|understanding|change))?|show\s+(?:that|insight|understanding|commitment)"
    r"|(?:meet|meeting)\s+(?:(?:the|his|her|their|child\s+[A-Z]'?s|children'?s)\s+)?(?:\w+\s+)?needs|ensure\s+(?:that\s+)?(?:\S+\s+){0,4}(?:safe|safety|well-?being|needs\s+are\s+met|happy|protected)"
    r"|reduce\s+(?:the\s+)?(?:risks?|concerns?|worries)|make\s+(?:positive\s+|the\s+necessary\s+|sustained\s+)?changes|understand\s+(?:the\s+)?(?:impact|concerns?|risks?)"
    r"|maintain|sustain|be\s+(?:honest|open|consistent|protective)|work\s+openly|take\s+responsibility|as\s+appropriate|where\s+appropriate)\b",
    _I,
)

# Observable behaviour: an act someone else could see happen, or a named thing to be produced.
OBSERVABLE = ci(
    r"\b(?:attend(?:s|ing)?|complete[sd]?|visit(?:s|ing)?|speak|trace|see(?:n|s)?\s+(?:\w+\s+){0,2}alone|phone|call|ring|text|email|write|send|submit|book|register|enrol|"
    r"collect|drop\s+off|pick\s+up|take\s+\w+\s+to|bring|sign|refer(?:ral)?|arrange|hold|convene|undertake|carry\s+out|test(?:ing)?|hair\s+strand|"
    r"breathaly[sz]|check(?:s|ed)?|read|go\s+to|meet\s+(?:with\s+)?(?:the\s+)?(?:sw|hv|iro|pa|\w+\s+worker)|share|log|diary|record|report\s+to|tell|inform|apply|move|install|fit|"
    r"buy|clean|tidy|cook|walk|put\s+\w+\s+to\s+bed|bed\s*time|in\s+bed\s+by|wake|sleep|eat|breakfast|lunch|dinner|take\s+(?:his|her|their)\s+medication|"
    r"provide\s+(?:a|the)\s+(?:letter|report|statement|copy|list|written)|present|deliver\s+(?:the\s+|a\s+)?\w+\s+(?:programme|course|session)|chair|minute|"
    r"freedom\s+programme|triple\s+p|incredible\s+years|solihull|caring\s+dads|safecare|pause|graded\s+care\s+profile|gcp|outcome\s+star)\w*",
    _I,
)

# Measurable outcome: a number, a proportion, a threshold or a count of occasions.
MEASURABLE = ci(
    r"\d|%|\bper\s*cent\b|\b(?:at\s+least|no\s+more\s+than|fewer\s+than|less\s+than|more\s+than|all|every|each|none|no\s+(?:missed|unsupervised|more))\b"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve)\s+(?:\w+\s+)?(?:sessions?|times?|nights?|days?|visits?|appointments?|books?|minutes?|hours?)\b"
    r"|\b(?:reading\s+age|level|grade|score|target\s+of|expected\s+standard)\b",
    _I,
)


@dataclass(frozen=True, slots=True)
class Vagueness:
    start: int  # the vague words
    end: int
    observable: bool
    measurable: bool

    @property
    def is_vague(self) -> bool:
        return not (self.observable or self.measurable)


# Verbs of thought: "consider a referral" commits nobody to making one, whatever follows.
MENTAL = ci(
    r"\b(?:consider|explore|think\s+about|look\s+(?:into|at)|try\s+to|be\s+aware|keep\s+in\s+mind)\b", re.IGNORECASE
)


def find_vagueness(text: str, start: int, end: int) -> Vagueness | None:
    """The first vague phrase in text[start:end], with whether the action redeems it, or None."""
    match = VAGUE.search(text, start, end)
    if match is None:
        return None
    if MENTAL.match(text, match.start()):
        # "Consider a referral" is vague though a referral is observable; it takes a concrete act
        # and a measure or date beside the thinking to make the action checkable.
        observable = OBSERVABLE.search(text, start, end) is not None
        measurable = MEASURABLE.search(text, start, end) is not None
        return Vagueness(match.start(), match.end(), observable and measurable, observable and measurable)
    return Vagueness(
        match.start(),
        match.end(),
        OBSERVABLE.search(text, start, end) is not None,
        MEASURABLE.search(text, start, end) is not None,
    )


def is_measurable(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] states a measurable criterion (a number, level, proportion, count)."""
    return MEASURABLE.search(text, start, end) is not None

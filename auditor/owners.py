"""Owners: who is responsible for an action, or why nobody is.

An owner is a role or agency of the field ("SW", "the health visitor", "school"), a family member
("Mum"), a child or an anonymised placeholder ("Child A", "[NAME]", "XXX"), or the writer ("I will").
Nobody is responsible when the action is an agentless passive ("Referral to be made"), a bare
imperative ("Attend all appointments") or a noun phrase ("Parenting assessment.").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from auditor.casefold import ci
from auditor.segment import Layout, Unit
from auditor.vocabulary import (
    ACTION_VERBS,
    MODAL,
    OWNER_ADVERBS,
    OWNER_AT_START,
    OWNER_LIST,
    OWNER_OR_PRONOUN,
    PAST_PARTICIPLES_IRREGULAR,
    PRONOUNS,
    alternation,
    imperative_verb,
)


class OwnerReason(StrEnum):
    subject = "subject"  # "Mum to attend", "SW will visit", "I will"
    who_column = "who_column"
    label = "label"  # "Lead: HV"
    agent = "agent"  # "to be completed by the SW"
    tag = "tag"  # "Complete referral (SW)", "... - FSW"
    passive = "passive"
    imperative = "imperative"
    noun_phrase = "noun_phrase"
    unnamed = "unnamed"

    @property
    def found(self) -> bool:
        return self in (
            OwnerReason.subject,
            OwnerReason.who_column,
            OwnerReason.label,
            OwnerReason.agent,
            OwnerReason.tag,
        )


@dataclass(frozen=True, slots=True)
class OwnerResult:
    reason: OwnerReason
    start: int  # the owner's words, or the words that show nobody is named
    end: int

    @property
    def found(self) -> bool:
        return self.reason.found


_I = re.IGNORECASE
_WITH_ME = r"(?:\s+(?:and|&)\s+(?:i|me|we))?"
_SUBJECT_FIRST = ci(
    rf"^[^\w\[]*(?P<owner>(?:{OWNER_AT_START}|\b(?:{alternation(PRONOUNS)})\b){_WITH_ME})\s+{OWNER_ADVERBS}{MODAL}\b|^[^\w\[]*(?P<owner_short>i|we|he|she|they)'(?:ll|m\s+going\s+to|m\s+gonna|re\s+going\s+to)\b",
    _I,
)
_SUBJECT = ci(rf"(?<![\w'-])(?P<owner>{OWNER_OR_PRONOUN})\s+{OWNER_ADVERBS}{MODAL}\b", _I)
_LABEL = ci(
    r"\b(?:who|by\s+whom|responsible(?:\s+person)?|person\s+responsible|lead(?:\s+professional)?|owner|action\s+by|actioned\s+by)\s*[:=-]\s*(?P<owner>[^\n;|]{1,60})",
    _I,
)
# "Core group every 4 weeks": an owner heads a schedule only when a timescale follows it at once
# ("GP appt for Mum" names the GP as the place, not the one who books).
_SCHEDULE_NEXT = ci(
    r"\s*(?:[:–-]|every\b|each\b|weekly|fortnightly|monthly|daily|termly|on\s|at\s|from\s|twice|once|\d)", _I
)
_RECOMMENDS = ci(r"[^\w\[]*(?:[\w'-]+\s+){0,3}recommends?\s+(?:that\s+)?", _I)
_OWNER_FIRST = ci(rf"{OWNER_AT_START}(?![\w-])", _I)
_OWNER_LABEL = ci(rf"^[^\w\[]*(?P<owner>{OWNER_LIST})\s*:\s+\S", _I)
_AGENT = ci(rf"\bby\s+(?P<owner>{OWNER_LIST})", _I)
_TAG = ci(
    rf"(?:\(\s*(?P<owner1>{OWNER_LIST})\s*\)|\[\s*(?P<owner2>{OWNER_LIST})\s*\]|\s[-–—]\s*(?P<owner3>{OWNER_LIST})\s*(?:[-–—,(]|[.;]?\s*$))",
    _I,
)
_PASSIVE = ci(
    r"\b(?:to\s+be|will\s+be|would\s+be|should\s+be|must\s+be|needs?\s+to\s+be|is\s+to\s+be|are\s+to\s+be|shall\s+be|can\s+be|be)"
    rf"\s+(?:\w+ly\s+)?(?:re-?)?(?P<participle>\w+ed|{PAST_PARTICIPLES_IRREGULAR.replace(' ', '|')})\b",
    _I,
)
_LEADING_NOISE = ci(r"^[\s\W\d]*?(?=[A-Za-z\[])")
_TO_VERB = ci(r"\bto\s+(?P<verb>[a-z]+)\b", _I)
_FINITE = ci(
    r"\b(?:will|shall|should|must|is|are|was|were|has|have|had|can|could|would|may|might|am|does|did|do)\b", _I
)
_PREPOSITION_BEFORE = ci(
    r"\b(?:with|for|of|from|to|at|on|about|by|between|re|and|support|help|ask|encourage|enable|allow)\s+$", _I
)


def find_owner(text: str, unit: Unit) -> OwnerResult:
    """Who owns the action in text[unit.start:unit.end] (case-folded text), or why nobody does."""
    start, end = unit.start, unit.end
    if unit.layout is Layout.table:
        who = unit.cell("who")
        if who is not None and who.end > who.start:
            return OwnerResult(OwnerReason.who_column, who.start, who.end)
        action = unit.cell("action")
        if action is not None:
            start, end = action.start, action.end
    # "IRO recommends that Child A is given...": the recommendation's own action is what is owned.
    recommends = _RECOMMENDS.match(text, start, end)
    if recommends is not None:
        start = recommends.end()
    body = text[start:end]
    for pattern, reason in (
        (_LABEL, OwnerReason.label),
        (_OWNER_LABEL, OwnerReason.label),
        (_SUBJECT_FIRST, OwnerReason.subject),
    ):
        match = pattern.search(body)
        if match is not None:
            group = "owner" if match.group("owner") is not None else "owner_short"
            return OwnerResult(reason, start + match.start(group), start + match.end(group))
    tag = _TAG.search(body, min(len(body), 8))
    if tag is not None:
        group = next(g for g in ("owner1", "owner2", "owner3") if tag.group(g))
        return OwnerResult(OwnerReason.tag, start + tag.start(group), start + tag.end(group))
    passive = _PASSIVE.search(body)
    agent = _AGENT.search(body, passive.end()) if passive else None
    if agent is not None:
        return OwnerResult(OwnerReason.agent, start + agent.start("owner"), start + agent.end("owner"))
    lead = _LEADING_NOISE.match(body)
    offset = lead.end() if lead else 0
    first = imperative_verb(body, offset)
    if first is not None:
        # "Support Mum to attend": Mum attends, but nobody is named to do the supporting.
        return OwnerResult(OwnerReason.imperative, start + first.start("word"), start + first.end("word"))
    for subject in _SUBJECT.finditer(body):
        # "Contact with Mum and Dad to continue": an owner after a preposition is its object.
        if _PREPOSITION_BEFORE.search(body, 0, subject.start()):
            continue
        return OwnerResult(OwnerReason.subject, start + subject.start("owner"), start + subject.end("owner"))
    if passive is not None:
        return OwnerResult(OwnerReason.passive, start + passive.start(), start + passive.end())
    by_someone = _AGENT.search(body)
    if by_someone is not None and not _FINITE.search(body):
        # "Home visits by FSW twice weekly": a noun phrase whose agent is named.
        return OwnerResult(OwnerReason.agent, start + by_someone.start("owner"), start + by_someone.end("owner"))
    if not _FINITE.search(body) and not any(m["verb"].lower() in ACTION_VERBS for m in _TO_VERB.finditer(body)):
        named = _OWNER_FIRST.match(body, offset)
        if named is not None and _SCHEDULE_NEXT.match(body, named.end()):
            # "Core group every 4 weeks": a schedule headed by who carries it out.
            return OwnerResult(OwnerReason.subject, start + named.start(), start + named.end())
        return OwnerResult(OwnerReason.noun_phrase, start + offset, end)
    return OwnerResult(OwnerReason.unnamed, start + offset, end)

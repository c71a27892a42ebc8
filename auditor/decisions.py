"""Decisions, escalations and contingencies in management, supervision and review records.

A decision is a sentence that records what a manager decided: to extend or postpone a timescale,
to close, take no further action, step down, end or continue a plan, not issue a letter before
proceedings, rescind a placement order, not offer section 20 accommodation. Its rationale is
recorded explicitly ("because", "due to", "given that") or implicitly, by a stated circumstance
next to it ("Assessment extended by 2 weeks. Social worker has been off sick.").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from auditor.casefold import ci, fold
from auditor.context import HISTORICAL_START
from auditor.segment import paragraphs, split_sentences

_I = re.IGNORECASE


class DecisionKind(StrEnum):
    extension = "extension"
    close = "close"
    no_further_action = "no_further_action"
    step_down = "step_down"
    step_up = "step_up"
    end_plan = "end_plan"
    continue_plan = "continue_plan"
    no_lbp = "no_letter_before_proceedings"
    rescind = "rescind_placement_order"
    no_s20 = "no_section_20"
    change = "change_of_plan"
    other = "other"


# Order matters: the first kind that matches a sentence names it.
_KINDS: list[tuple[DecisionKind, re.Pattern[str]]] = [
    (DecisionKind.extension, ci(
        r"\b(?:extend(?:ed|ing)?|extension|postpon(?:e|ed|ing|ement)|defer(?:red|ring)?|delay(?:ed)?\s+(?:to|until|by)|delay\s+(?:the\s+)?\w+\s+by|"
        r"put\s+back|re-?arranged?|moved?\s+(?:back|forward\s+to|to\s+(?:end|after|later))|slip\w*\s+by|out(?:side)?\s+(?:of\s+)?timescales?|"
        r"\d+\s+(?:wks?|weeks?|days?|months?)\s+late|new\s+date|stood\s+down|run\s+beyond|will\s+not\s+be\s+met|"
        r"re-?schedul(?:e|ed)|moved?\s+(?:back\s+)?to\s+(?:\d|the|next|w/?c)|push(?:ed)?\s+back|new\s+(?:completion|due|target)\s+date|"
        r"revised\s+(?:timescale|date|completion)|(?:agreed|authoris(?:e|ed)|allow(?:ed)?)\s+(?:a\s+)?(?:further|another|additional)\s+\d*\s*(?:\w+\s+)?(?:days?|weeks?|months?)|"
        r"out\s+of\s+timescale(?:s)?\s+(?:agreed|authorised)|beyond\s+(?:the\s+)?(?:\d+\s+(?:working\s+)?days?|timescales?))", _I)),
    (DecisionKind.no_lbp, ci(r"\bnot\s+(?:to\s+)?(?:issue|send)\w*\s+(?:a\s+|the\s+)?(?:letter\s+before\s+proceedings|lbp|plo\s+letter)|\b(?:lbp|letter\s+before\s+proceedings)\s+(?:not|will\s+not)", _I)),
    (DecisionKind.rescind, ci(r"\brescind\w*|\brevoc\w*\s+(?:of\s+)?(?:the\s+)?placement\s+order|\brevoke\w*\s+(?:the\s+)?placement\s+order", _I)),
    (DecisionKind.no_s20, ci(r"\bnot\s+(?:to\s+)?(?:be\s+)?(?:offer|accommodat|provid)\w*\s+(?:\w+\s+){0,3}(?:s\.?\s?20|section\s+20)|\b(?:s\.?\s?20|section\s+20)\s+(?:accommodation\s+)?(?:not|will\s+not|was\s+not|is\s+not)\s+(?:to\s+)?(?:be\s+)?offered", _I)),
    (DecisionKind.no_further_action, ci(r"\bnfa\b|\bno\s+further\s+(?:action|involvement)", _I)),
    (DecisionKind.step_down, ci(r"\bstep(?:ped|ping)?[\s-]down\b|\bstep\s+(?:\w+\s+)?down\s+to\b|\btransfer\w*\s+to\s+early\s+help", _I)),
    (DecisionKind.step_up, ci(r"\bstep(?:ped|ping)?[\s-]up\b|\bescalat\w+\s+to\s+(?:cp|child\s+protection|s\.?\s?47|icpc)", _I)),
    (DecisionKind.end_plan, ci(r"\b(?:end|cease|discontinu|remov)\w*\s+(?:the\s+)?(?:cp|child\s+protection|cin|child\s+in\s+need)\s*(?:plan)?|\b(?:cp|cin|child\s+protection|child\s+in\s+need)\s+plans?\s+(?:to|can|should|will|could|may)?\s*(?:be\s+)?(?:end|cease|ended|ceased|discontinued|removed)|\bno\s+longer\s+(?:needs?\s+to\s+be\s+)?(?:subject\s+to|on)\s+(?:a\s+)?(?:cp|child\s+protection|cin)", _I)),
    (DecisionKind.close, ci(r"\b(?:case\s+)?(?:to\s+)?(?:be\s+)?clos(?:e|ed|ure|ing)\b|\bclose\s+(?:the\s+)?case", _I)),
    (DecisionKind.continue_plan, ci(r"\bcontinue\s+(?:the\s+|with\s+(?:the\s+)?)?(?:cp|cin|child\s+protection|child\s+in\s+need)\b(?:\s+plan)?", _I)),
    (DecisionKind.continue_plan, ci(r"\b(?:remain|continu)\w*\s+(?:on|subject\s+to|with)\s+(?:a\s+|the\s+)?(?:cp|child\s+protection|cin|child\s+in\s+need)\s*(?:plan)?|\b(?:cp|cin|child\s+protection|child\s+in\s+need)\s+plan\s+(?:to\s+)?(?:continue|remain)", _I)),
    (DecisionKind.change, ci(
        # One leading \b for all the word-led alternatives: a \b before each made this pattern
        # the slowest in the engine (measured), as the regex engine tries them all at every character.
        r"^\W*(?:agreed|close)\b|[-–]\s*close\b|\b(?:agreed\s+by\s+\w+|(?<!she\s)(?<!he\s)(?<!they\s)(?<!mum\s)(?<!dad\s)(?<!i\s)(?<!we\s)(?<!parents\s)(?<!both\s)agreed\s*(?=[.;,–—-]|$)|(?:declined|refused)\s+by\s+(?:tm|hos|manager|sm|adm)\b|"
        r"(?:s\.?\s?20|section\s+20)\s+(?:agreed|declined|refused|to\s+end|not\s+appropriate|offered)\b|"
        r"(?:issue|initiate|start)\s+(?:care\s+)?proceedings\b|no\s+lbp\b|(?:remain|stay)\s+(?:in|on)\s+(?:plo|pre-proceedings)\b|"
        r"progress\s+(?:\w+\s+)?to\s+(?:strategy|assessment|referral|s47)|pass\s+to\s+assessment|strategy\s+(?:discussion\s+)?required|level\s+[1-4]\b|"
        r"(?:reduce|increase)\s+(?:visits|contact)\s+to\b|(?:contact|placement|visits)\s+(?:w/\s*\w+\s+|with\s+\w+\s+)?to\s+(?:remain|stay|reduce|increase)\b|"
        r"to\s+(?:reduce|increase)\s+to\s+(?:weekly|fortnightly|monthly)\b|care\s+order\s+to\s+be\s+discharged|to\s+move\s+(?:from|to)\s+(?:the\s+)?(?:residential|foster|placement|in-house)|"
        r"plan\s+changed\b|to\s+be\s+assessed\s+under\s+reg)", _I)),
    (DecisionKind.other, ci(
        r"\b(?:(?:^|[.;]\s*)agreed\s+(?:to|that)|approv(?:ed|es)|endors(?:es|ed)|not\s+endorsed|recommend(?:s|ed|ation)?\b|ok\s+(?:to|for)|proceed\s+with|"
        r"(?:plan|placement|contact|case|care\s+order|permanence\s+plan|cpp|cp\s+plan|cin\s+plan)\s+(?:to\s+|will\s+|should\s+|is\s+to\s+)?(?:be\s+)?"
        r"(?:remain|continue|continues|end|ends|change|changed|reduce|reduced|increase|increased|stay|discharged|reallocated|transferred|revoked)|"
        r"(?:child\s+[a-z]|yp|the\s+yp|young\s+person)\s+to\s+(?:remain|stay|move|return|go\s+home)|(?<!to\s)continue\s+(?:cpp|cin|cp|the\s+plan|with\s+(?:the\s+)?(?:current\s+)?plan)|"
        r"transfer\s+to|to\s+be\s+reallocated)", _I)),
    (DecisionKind.other, ci(
        r"\b(?:(?:management|manager'?s?|tm|team\s+manager|service\s+manager|panel|conference|adm|iro)\s+decision|decision\s*(?::|-|was\b|is\b|made|taken|to\b)|"
        r"it\s+(?:was|is|has\s+been)\s+(?:decided|agreed)\b|(?:tm|manager|i|we|panel|conference|adm|chair|iro|sm)\s+(?:has\s+|have\s+)?(?:decided|agreed|authoris\w+|approved|endorsed)\b)", _I)),
]  # fmt: skip

# A decision-maker's voice: only sentences that record a decision, not narrative about one.
_DECISION_VOICE = ci(
    r"\b(?:case\s+(?:is\s+)?to\s+(?:close|be\s+closed)|closure\s+(?:agreed|authorised)|decision|decided|agreed|agree|agrees|authoris\w+|approv\w+|endors\w+|tm|team\s+manager|manager|recommend\w*|plan\s+is|to\s+be|will\s+be|is\s+to|are\s+to|outcome|ok|proceed|continue|continues|remain|stay)\b"
    r"|^\s*\W*\w+(?:\s+(?!was\b|were\b|had\b|been\b)\w+){0,4}\s+(?:to\s+)?(?:extended|closed|nfa|stepped)",
    _I,
)

EXPLICIT_RATIONALE = ci(
    r"\b(?:because|due\s+to|owing\s+to|as\s+a\s+result\s+of|given\s+(?:that|the)|in\s+(?:light|view)\s+of|on\s+the\s+basis\s+(?:of|that)|"
    r"rationale|reasons?\s*(?:for|being|is|are|was|:)|reasoning|so\s+that|in\s+order\s+to|to\s+allow|to\s+enable|this\s+is\s+(?:because|due)|"
    r"since\s+(?!(?:\d|the\s+last|then|last|january|february|march|april|may|june|july|august|september|october|november|december))|"
    r"as\s+(?!(?:well|per|agreed|discussed|above|below|before|part|such|soon|long|far|planned|requested|needed|required|appropriate)\b)(?=(?:[\w'-]+\s+){0,3}(?:is|are|was|were|has|have|had|can|cannot|will|would|did|does|do|still|remains?|continues?|visits?|lives?|needs?)\b)|"
    r"as\s+(?=(?:there|it|he|she|they|we|mum|dad|the\s+(?:child|children|family|parents|risks?|assessment|sw|school|police|young|bruise|injury|concerns?)|child\s+[A-Z]|no\b|sw\b|tm\b|police\b|school\b))|"
    r"following\s+(?:the\s+)?(?:disclosure|incident|strategy\s+discussion\s+(?:where|which|that)|new\s+information)|evidenc(?:e|ed)\s+(?:shows?|that|of)|"
    r"(?:has|have)\s+(?:been\s+)?(?:considered|weighed)|taking\s+into\s+account|having\s+considered)",
    _I,
)

# Stated circumstances that explain a decision without a connective.
IMPLICIT_RATIONALE = ci(
    # a clause set off after the decision: "Review postponed - IRO availability"
    r"(?:(?<=\s)[-–—]|(?<=\w):)\s+(?!\s*(?:sw|tm|iro|agreed|see|n/?a|none|other|tbc|close|nfa|step|decision|extension|extended|advice|signpost\w*|outcomes?|rationale|approve|application)\b)(?=[a-z(\[])|"
    r"\b(?:off\s+sick|sick(?:ness)?(?:\s+leave)?|annual\s+leave|on\s+leave|unwell|in\s+hospital|hospitali[sz]ed|bereave\w+|"
    r"(?:has|have)\s+not\s+(?:yet\s+)?been\s+(?:seen|possible|able|completed|received|returned)|not\s+(?:yet\s+)?(?:been\s+)?(?:seen|received|available|returned|completed)|"
    r"unable\s+to|not\s+able\s+to|awaiting|waiting\s+(?:for|on)|still\s+(?:waiting|outstanding)|outstanding|(?:did\s+not|didn't|failed\s+to)\s+attend|dna'?d?|"
    r"cancell?ed|police\s+(?:are|have|investigation|enquiries)|new\s+information|further\s+information|disclos\w+|(?:has|have)\s+moved|no\s+longer|"
    r"(?:has|have)\s+(?:engaged|made|sustained|completed|shown|attended)|engagement|(?:made|making|good|little|no|some|sufficient|significant)\s+progress|improve(?:d|ments?)|risks?\s+(?:have|has)\s+(?:reduced|increased)|"
    r"no\s+(?:further\s+|current\s+|ongoing\s+)?(?:concerns|incidents|reports)|concerns?\s+(?:remain|have|persist)|needs\s+(?:are|can\s+be)\s+(?:now\s+)?met|"
    r"school\s+(?:report|reports|have\s+reported|say)|is\s+now|are\s+now|has\s+now|is\s+safe|are\s+safe|protective|settled|stable|court|legal\s+advice|"
    r"does\s+not\s+want|do\s+not\s+want|refused|declined|consent(?:ed)?|threshold\s+(?:is\s+)?(?:not\s+)?met|wishes|can\s+be\s+met|"
    r"the\s+(?:assessment|enquiry)\s+(?:found|concluded|shows?)|identified|analysis|assessed|risk\s+(?:is|remains)\s+(?:low|high|significant)|"
    r"positive|negative|inconclusive|availability|unavailable|self-isolating|covid|custody|surgery|exclusion|"
    r"(?:un|not\s+)?substantiated|no\s+evidence|plausible|accidental|explanation|single\s+incident|acted\s+protectively|"
    r"(?:has|have)\s+been\s+(?:seen|positive|negative|consistent|good|clear|met|achieved)|"
    r"(?:is|are)\s+(?:still|now|not)\s+\w+|still\s+(?:visits|lives|drinking|using))\b",
    _I,
)

ESCALATION = ci(
    r"\b(?:escalat(?:e|ed|ion|ing)|dispute\s+resolution|(?:formal|informal)\s+challenge|raised\s+(?:concerns?\s+)?(?:with|to)\s+(?:the\s+)?(?:tm|team\s+manager|service\s+manager|head\s+of\s+service|practice\s+manager))\b",
    _I,
)
ESCALATION_OUTCOME = ci(
    r"\b(?:outcome|resolved|resolution\s+(?:was|reached)|respon(?:se|ded)|replied|agreed\s+(?:to|that)|confirmed|upheld|not\s+upheld|concluded|closed|"
    r"has\s+now|have\s+now|as\s+a\s+result|following\s+(?:the\s+|this\s+)?escalation|which\s+(?:led|resulted)|was\s+(?:allocated|completed|held|arranged|convened)|"
    r"(?:follow|followed)[\s-]up\s+(?:by|on|at|date)|tracked|review(?:ed)?\s+(?:by|on)\s+\d|stage\s+\d\s+(?:closed|resolved|concluded))\b",
    _I,
)


_REPORTED = ci(
    r"\b(?:said|says|wants?|wanted|asked|asks|asking|requested|requests|requesting|would\s+like|hopes?|wishes|discuss(?:ed|ing)?\s+(?:whether|step|if)|considered\s+whether)\b",
    re.IGNORECASE,
)
_DECIDED = ci(r"\b(?:decision|decided|agreed|authoris\w+|approved|endorsed)\b", re.IGNORECASE)

# "Awaiting response", "no response received": an outcome word that says there is no outcome yet.
_NOT_YET = ci(
    r"(?:awaiting|await|waiting\s+(?:for|on)|no|not|yet\s+to\s+(?:receive|get)|chas\w+|still)\s+(?:a\s+|any\s+|the\s+)?$",
    re.IGNORECASE,
)


def _outcome_after(text: str, start: int, end: int) -> re.Match[str] | None:
    for match in ESCALATION_OUTCOME.finditer(text, start, end):
        if not _NOT_YET.search(text, max(start, match.start() - 25), match.start()):
            return match
    return None


@dataclass(frozen=True, slots=True)
class Rationale:
    start: int
    end: int
    explicit: bool


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    start: int  # the decision sentence
    end: int
    cue_start: int  # the words that make it a decision
    cue_end: int
    rationale: Rationale | None


@dataclass(frozen=True, slots=True)
class Escalation:
    start: int
    end: int
    cue_start: int
    cue_end: int
    outcome: tuple[int, int] | None


# Kinds whose words also turn up in narrative about a decision ("since the step-down"), unlike
# "NFA" or "no LBP", which only ever record one.
_MENTIONED_IN_NARRATIVE = frozenset(
    {DecisionKind.step_down, DecisionKind.step_up, DecisionKind.extension, DecisionKind.end_plan, DecisionKind.close}
)


def has_decision_language(folded: str, start: int, end: int) -> bool:
    """Whether folded[start:end] holds any of the words that record a decision."""
    return any(pattern.search(folded, start, end) for _kind, pattern in _KINDS)


# A sentence that opens with the decision itself: "Agreed to proceed.", "Close.", "NFA - signposted."
_OPENS_WITH_DECISION = ci(r"\W*(?:agreed|close|closed|approved?|proceed|ok|nfa|issue\s+proceedings)\b", re.IGNORECASE)


def _classify(text: str, start: int, end: int) -> tuple[DecisionKind, re.Match[str]] | None:
    for kind, pattern in _KINDS:
        match = pattern.search(text, start, end)
        if match is not None:
            return kind, match
    opens = _OPENS_WITH_DECISION.match(text, start, end)
    if opens is not None:
        return DecisionKind.change, opens
    return None


# Kinds whose words are a decision on their own ("– NFA", "step down to early help"); the
# others ("close", "agreed") need a decision-maker's voice in the sentence.
_SELF_EVIDENT = frozenset(
    {DecisionKind.extension, DecisionKind.no_further_action, DecisionKind.step_down, DecisionKind.step_up,
     DecisionKind.end_plan, DecisionKind.no_lbp, DecisionKind.rescind, DecisionKind.no_s20, DecisionKind.change}
)  # fmt: skip


# Words that look like a reason and are not (GUIDELINES.md): "to allow for further work",
# "Reason: see chronology", "as discussed".
_NOT_A_REASON = ci(
    r"\s*(?:to\s+allow\s+(?:for\s+)?(?:further|more)\s+(?:work|time)|reasons?(?:\s+for\s+\w+)?\s*:\s*(?:other|n/?a|see\b|none|tbc|-|$)|rationale\s+(?:in|on|see)\b)",
    re.IGNORECASE,
)


def _rationale_in(text: str, start: int, end: int, exclude: tuple[int, int]) -> Rationale | None:
    for pattern, explicit in ((EXPLICIT_RATIONALE, True), (IMPLICIT_RATIONALE, False)):
        for match in pattern.finditer(text, start, end):
            if exclude[0] <= match.start() < exclude[1]:
                continue  # the decision's own cue ("extended") is not its reason
            if _NOT_A_REASON.match(text, match.start()) or _NOT_A_REASON.match(text, max(start, match.start() - 9)):
                continue
            if match.group()[:1] in "-–—:" and not (start <= exclude[0] < end and match.start() >= exclude[1]):
                # A clause set off by a dash or colon gives a reason only after the decision's own
                # words, in its own sentence ("Review postponed - IRO availability"); elsewhere it
                # is a label ("Category: physical abuse") or introduces the decision ("Decision: close").
                continue
            return Rationale(match.start(), match.end(), explicit)
    return None


def find_decisions(
    original: str, folded: str | None = None, language: list[tuple[int, int]] | None = None
) -> tuple[list[Decision], list[Escalation]]:
    """Decisions (with their rationale, if recorded) and escalations (with their outcome, if any).

    If `language` is given, the paragraphs with a sentence that holds decision language (its
    words, or opening with the decision: "Agreed to proceed.") are appended to it: the classifier
    reads those."""
    decisions: list[Decision] = []
    escalations: list[Escalation] = []
    blocks = paragraphs(original)
    block_sentences = [split_sentences(original, s, e) for s, e in blocks]
    text = folded if folded is not None else fold(original)
    for block_index, sentences in enumerate(block_sentences):
        classified = [_classify(text, s, e) for s, e in sentences]
        if language is not None and any(c is not None for c in classified):
            language.append(blocks[block_index])
        kinds = [
            found[0]
            if found is not None and (found[0] in _SELF_EVIDENT or _DECISION_VOICE.search(text, s, e))
            else None
            for found, (s, e) in zip(classified, sentences, strict=True)
        ]
        # After the first decision, a sentence that only mentions one ("...since the step-down")
        # is not a new decision: it needs a decision-maker's voice or to open with its cue.
        first = next((j for j, k in enumerate(kinds) if k is not None), None)
        for j, found in enumerate(classified):
            if first is not None and j > first and kinds[j] in _MENTIONED_IN_NARRATIVE and found is not None:
                opens = found[1].start() - sentences[j][0] < 25
                if not opens and not _DECISION_VOICE.search(text, *sentences[j]):
                    kinds[j] = None
        # In a short entry (up to four sentences) any sentence may give a decision its reason...
        short = len(sentences) <= 4
        seen_kinds: set[DecisionKind] = set()
        for index, (s, e) in enumerate(sentences):
            escalation = ESCALATION.search(text, s, e)
            if escalation is not None:
                outcome = _outcome_after(text, escalation.end(), blocks[-1][1])
                escalations.append(
                    Escalation(
                        s,
                        e,
                        escalation.start(),
                        escalation.end(),
                        (outcome.start(), outcome.end()) if outcome else None,
                    )
                )
            kind = kinds[index]
            if kind is None:
                continue
            if HISTORICAL_START.match(text, s, e) and not _DECISION_VOICE.search(text, s, e):
                continue  # "Step-down meeting held with Mum on 3.3.21": a record of what happened
            cue_start = classified[index][1].start()  # type: ignore[index]
            if _REPORTED.search(text, s, cue_start) and not _DECIDED.search(text, s, e):
                continue  # "Mum said she wants the case to close": a wish, not a decision
            earlier_decision = bool(seen_kinds)
            # "Extension agreed. Timescale extended to 8.3.21." is one decision told twice; and a
            # record of a meeting that carried a decision out ("Step-down meeting held") is history.
            if kind in seen_kinds:
                continue
            seen_kinds.add(kind)
            cue = classified[index][1]  # type: ignore[index]
            # The reason sits in the decision sentence or the sentences after it, up to the next
            # decision; a paragraph's first decision may also be explained by what comes before it
            # in the paragraph, or, if it opens the paragraph ("Decision: close."), in the one before.
            scope = [(s, e)]
            for offset, later in enumerate(sentences[index + 1 :], start=index + 1):
                if kinds[offset] is not None:
                    break
                scope.append(later)
            if short:
                # ...except a sentence that records another decision: its reason is its own.
                scope = [(s, e)] + [span for j, span in enumerate(sentences) if j != index and kinds[j] is None]
                if index == 0 and block_index > 0:
                    scope += block_sentences[block_index - 1]
            elif not earlier_decision:
                scope += sentences[:index]
                if index == 0 and block_index > 0:
                    scope += block_sentences[block_index - 1]
            else:
                # What was said just before it, since the previous decision, may be its reason.
                previous = max(j for j in range(index) if kinds[j] is not None)
                scope += sentences[max(previous + 1, index - 2) : index]
            rationale = None
            for span_start, span_end in scope:
                rationale = _rationale_in(text, span_start, span_end, (cue.start(), cue.end()))
                if rationale is not None:
                    break
            decisions.append(Decision(kind, s, e, cue.start(), cue.end(), rationale))
    return decisions, escalations

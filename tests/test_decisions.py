"""Decisions (with their rationale) and escalations (with their outcome) in management,
supervision and review records.

What inspectors look for (ILACS 2020 paras 3, 23, 46): when a timescale is extended, or a case is
closed, stepped down, a plan ended, a letter before proceedings not issued or section 20 not
offered, the record says why; an escalation records what came of it. A reason may be explicit
("because", "due to", "as the police were unavailable") or a stated circumstance next to the
decision ("Assessment extended by 2 weeks. Social worker has been off sick."). Naming who agreed
it, or that it was discussed, is not a reason.
"""

from __future__ import annotations

import pytest

from auditor.decisions import DecisionKind, find_decisions

EXPLICIT, IMPLICIT, NONE = "explicit", "implicit", None

K = DecisionKind

DECISION_CASES = [
    # Extensions.
    pytest.param(
        "Assessment timescale extended to 12.3.21 due to Mum being in hospital.",
        K.extension,
        EXPLICIT,
        id="extension-due-to",
    ),
    pytest.param(
        "Strategy discussion postponed to 5.3.21 as the police were unavailable.",
        K.extension,
        EXPLICIT,
        id="postponed-as-police-unavailable",
    ),
    pytest.param(
        "Assessment extended by 2 weeks. Social worker has been off sick.",
        K.extension,
        IMPLICIT,
        id="extension-implicit-off-sick",
    ),
    pytest.param("Assessment extended by 2 weeks.", K.extension, NONE, id="extension-no-reason"),
    pytest.param(
        "TM agreed extension of S47 enquiry to 5.3.21.",
        K.extension,
        NONE,
        id="tm-agreed-extension-no-reason",
    ),
    pytest.param(
        "ICPC rescheduled to w/c 15 March. No reason recorded.",
        K.extension,
        NONE,
        id="rescheduled-no-reason-recorded",
    ),
    # What happens next is not why: a follow-up task does not explain the extension.
    pytest.param(
        "Extension agreed until 12.3.21. SW to complete the assessment.",
        K.extension,
        NONE,
        id="extension-then-task",
    ),
    # "As discussed" says it was talked about, not why.
    pytest.param(
        "Assessment extended to 12.3.21 as discussed in supervision.",
        K.extension,
        NONE,
        id="as-discussed-is-not-a-reason",
    ),
    # Close.
    pytest.param(
        "Decision: case to close. Rationale: all actions on the CIN plan have been completed and school report no concerns.",
        K.close,
        EXPLICIT,
        id="close-rationale-label",
    ),
    pytest.param("Case to close as Mum has moved out of the area.", K.close, EXPLICIT, id="case-to-close-as"),
    pytest.param(
        "Case to close. Child A is now settled at home and there are no further concerns.",
        K.close,
        IMPLICIT,
        id="case-to-close-implicit",
    ),
    pytest.param("TM decision: case to close.", K.close, NONE, id="close-no-reason"),
    # No further action.
    pytest.param(
        "NFA as the bruise has a plausible accidental explanation confirmed by the GP.",
        K.no_further_action,
        EXPLICIT,
        id="nfa-as",
    ),
    pytest.param("Strategy discussion held. Decision: NFA.", K.no_further_action, NONE, id="nfa-no-reason"),
    # Step down.
    pytest.param(
        "Step down to early help because Mum has engaged well and the home conditions have improved.",
        K.step_down,
        EXPLICIT,
        id="step-down-because",
    ),
    pytest.param("Step down to early help.", K.step_down, NONE, id="step-down-no-reason"),
    # End plan.
    pytest.param(
        "End CP plan. Risks have reduced: Dad has completed the Caring Dads programme and Mum has ended the relationship.",
        K.end_plan,
        IMPLICIT,
        id="end-cp-plan-implicit",
    ),
    pytest.param("Conference decision: CP plan to end.", K.end_plan, NONE, id="end-cp-plan-no-reason"),
    # Letter before proceedings.
    pytest.param(
        "Decision not to issue LBP because Mum has moved into the refuge and Dad has no contact.",
        K.no_lbp,
        EXPLICIT,
        id="no-lbp-because",
    ),
    pytest.param("Decision not to issue LBP at this time.", K.no_lbp, NONE, id="no-lbp-no-reason"),
    # Section 20.
    pytest.param(
        "Decision: not to offer S20 accommodation as the maternal aunt can care for Child A.",
        K.no_s20,
        EXPLICIT,
        id="no-s20-as",
    ),
    pytest.param("Section 20 accommodation will not be offered.", K.no_s20, NONE, id="no-s20-no-reason"),
]


@pytest.mark.parametrize(("text", "kind", "rationale"), DECISION_CASES)
def test_decision_and_rationale(text: str, kind: DecisionKind, rationale: str | None) -> None:
    decisions, _escalations = find_decisions(text)
    assert [d.kind for d in decisions] == [kind], [(d.kind.value, text[d.cue_start : d.cue_end]) for d in decisions]
    found = decisions[0].rationale
    if rationale is None:
        assert found is None, f"reason found: {text[found.start : found.end]!r}"
    else:
        assert found is not None, "no reason found"
        assert found.explicit is (rationale == EXPLICIT), text[found.start : found.end]
        assert 0 <= found.start < found.end <= len(text)


def test_each_decision_gets_its_own_reason() -> None:
    # The reason for the extension does not explain keeping the CIN plan.
    text = "Assessment extended to 12.3.21 because Dad has not yet been seen. TM agreed that Child A will remain on a CIN plan."
    decisions, _ = find_decisions(text)
    assert [d.kind for d in decisions] == [K.extension, K.continue_plan]
    assert decisions[0].rationale is not None and decisions[0].rationale.explicit
    assert decisions[1].rationale is None


def test_one_decision_told_twice_is_one_decision() -> None:
    decisions, _ = find_decisions("Assessment extended. Extension agreed by TM.")
    assert [d.kind for d in decisions] == [K.extension]
    # The decision's own words ("Extension agreed by TM") are not its reason.
    assert decisions[0].rationale is None


@pytest.mark.parametrize(
    "text",
    [
        # A parent's wish is not a management decision.
        pytest.param("Mum said she wants the case to close.", id="mums-wish"),
        # A meeting that carried out an earlier decision is history, not a new decision.
        pytest.param(
            "Step-down meeting held with Mum and the early help worker on 3.3.21.",
            id="step-down-meeting-held",
        ),
    ],
)
def test_not_a_decision(text: str) -> None:
    decisions, _ = find_decisions(text)
    assert decisions == [], [(d.kind.value, text[d.cue_start : d.cue_end]) for d in decisions]


# ---------------------------------------------------------------------------------------------
# Escalations.

ESCALATION_CASES = [
    pytest.param(
        "IRO escalated the delay in the PEP to the TM. Outcome: PEP meeting held on 12.3.21.",
        True,
        id="outcome-recorded",
    ),
    pytest.param(
        "Escalated to the service manager via dispute resolution stage 1. SM responded on 5.3.21 and a new SW was allocated.",
        True,
        id="responded-and-allocated",
    ),
    pytest.param(
        "IRO escalated to the TM that the PEP is out of date. TM agreed to convene a PEP meeting by 19.3.21.",
        True,
        id="tm-agreed-to-convene",
    ),
    pytest.param("IRO escalated the delay in the PEP to the team manager.", False, id="no-outcome"),
    pytest.param(
        "Concerns raised with the service manager about drift in the care plan.",
        False,
        id="raised-with-sm-no-outcome",
    ),
    pytest.param(
        "IRO formal challenge issued re drift in permanence planning.",
        False,
        id="formal-challenge-no-outcome",
    ),
    # Waiting for a response is the absence of an outcome.
    pytest.param(
        "IRO escalated concerns about drift to the TM. Awaiting response.",
        False,
        id="awaiting-response",
    ),
    pytest.param(
        "IRO raised concerns with the team manager about the delay in the PEP. No response received to date.",
        False,
        id="no-response-received",
    ),
]


@pytest.mark.parametrize(("text", "has_outcome"), ESCALATION_CASES)
def test_escalation_outcome(text: str, has_outcome: bool) -> None:
    _decisions, escalations = find_decisions(text)
    assert len(escalations) == 1
    outcome = escalations[0].outcome
    if has_outcome:
        assert outcome is not None
    else:
        assert outcome is None, f"outcome found: {text[outcome[0] : outcome[1]]!r}"

"""Vague actions: no observable behaviour and no measurable outcome.

A practitioner (and an inspector) cannot tell whether "Mum to engage with services", "continue to
monitor", "support Mum" or "address concerns" has been done. An action stops being vague once it
says what someone will observably do ("attend all 12 sessions", "phone Mum every Friday") or how
success is measured ("95% attendance").

`find_vagueness` works on the record's case-folded text (auditor.casefold.fold keeps every offset;
the pipeline passes it that way); spans are read back from the original text.
"""

from __future__ import annotations

import pytest

from auditor.casefold import fold
from auditor.vagueness import find_vagueness


def _is_vague(text: str, start: int = 0, end: int | None = None) -> bool:
    end = len(text) if end is None else end
    result = find_vagueness(fold(text), start, end)
    return result is not None and result.is_vague


VAGUE_CASES = [
    pytest.param("Mum to engage with services.", id="engage-with-services"),
    pytest.param("SW to continue to monitor.", id="continue-to-monitor"),
    pytest.param("FSW to support Mum.", id="support-mum"),
    pytest.param("Parents to address concerns.", id="address-concerns"),
    pytest.param("Mum to work with professionals.", id="work-with-professionals"),
    pytest.param("Dad to demonstrate insight.", id="demonstrate-insight"),
    pytest.param("Mum to make positive changes.", id="make-positive-changes"),
    pytest.param("Parents to ensure Child A is safe.", id="ensure-safe"),
    pytest.param("Parents to meet Child A's needs.", id="meet-needs"),
    pytest.param("Parents to cooperate with the plan.", id="cooperate"),
    pytest.param("Dad to take responsibility for his drinking.", id="take-responsibility"),
    pytest.param("Continue to support the family.", id="continue-to-support-the-family"),
    pytest.param("Nan to be aware of the safety plan.", id="be-aware-of"),
    pytest.param("FSW to offer support.", id="offer-support"),
    # "Consider a referral" commits nobody to making one: the referral is what is considered.
    pytest.param("Mum to consider a referral to Talking Therapies.", id="consider-a-referral"),
]


@pytest.mark.parametrize("text", VAGUE_CASES)
def test_vague(text: str) -> None:
    assert _is_vague(text)


SPECIFIC_CASES = [
    pytest.param("Mum to attend all 12 sessions of the Freedom Programme.", id="attend-all-12-sessions"),
    pytest.param(
        "FSW to support Mum to attend the GP appointment on 12.3.21.",
        id="support-redeemed-by-attend",
    ),
    pytest.param("SW to phone Mum every Friday.", id="phone-every-friday"),
    pytest.param("School to report attendance to the SW; target 95%.", id="target-95-percent"),
    pytest.param("Mum to engage with the Freedom Programme and attend all 12 sessions.", id="engage-redeemed"),
    pytest.param("HV to weigh Child A fortnightly.", id="weigh-fortnightly"),
    pytest.param("Dad to complete a hair strand test by 31.3.21.", id="hair-strand-test"),
    pytest.param("Mum to have Child A in bed by 7.30pm each night.", id="bedtime"),
    pytest.param("Parents to buy a baby monitor.", id="baby-monitor-is-a-thing"),
    pytest.param("Support worker to visit Mum weekly.", id="support-worker-is-a-role"),
    pytest.param(
        "Dad to attend the Caring Dads programme to address his use of violence.",
        id="address-redeemed-by-attend",
    ),
    pytest.param("Mum to maintain 95% school attendance for Child A.", id="maintain-95-percent"),
    pytest.param("School to monitor attendance and report to the SW weekly.", id="monitor-and-report"),
    # "Address" the noun: handing over an address is an observable act.
    pytest.param("Mum to provide her new address to the SW.", id="address-the-noun-provide"),
    pytest.param("Mum to give the SW her new address.", id="address-the-noun-give"),
]


@pytest.mark.parametrize("text", SPECIFIC_CASES)
def test_not_vague(text: str) -> None:
    assert not _is_vague(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Mum to engage with services.", "engage with services"),
        ("SW to continue to monitor.", "continue to monitor"),
        ("Parents to address concerns.", "address concerns"),
        ("Dad to demonstrate insight.", "demonstrate insight"),
    ],
)
def test_vague_span_is_the_vague_words(text: str, words: str) -> None:
    result = find_vagueness(fold(text), 0, len(text))
    assert result is not None
    assert text[result.start : result.end] == words


def test_only_the_given_span_is_read() -> None:
    text = "Mum to engage with services. SW to phone Mum every Friday."
    first_end = text.index(".") + 1
    # The first action is vague; the second action's "phone ... every Friday" does not redeem it.
    assert _is_vague(text, 0, first_end)
    result = find_vagueness(fold(text), 0, first_end)
    assert result is not None and 0 <= result.start < result.end <= first_end
    # The second action, read on its own, is not vague at all.
    assert find_vagueness(fold(text), first_end + 1, len(text)) is None

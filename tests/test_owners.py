"""Owners: who is responsible for an action, or why nobody is.

A practitioner reads "Mum to attend", "SW will visit", "I will", "Child A to", "[NAME] to",
"XXX to", a table's who column, a "(SW)" tag, "Lead: HV" or "by the HV" as naming who will do it;
"Referral to be made" (agentless passive), "Attend all appointments" (bare imperative) and
"Parenting assessment." (noun phrase) name nobody.

`find_owner` works on the record's case-folded text (auditor.casefold.fold keeps every offset;
the pipeline passes it that way); spans are read back from the original text.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from auditor.casefold import fold
from auditor.owners import OwnerReason, find_owner
from auditor.segment import segment


def _owner(text: str) -> tuple[OwnerReason, str]:
    units = segment(text).units
    assert len(units) == 1, [u.text for u in units]
    result = find_owner(fold(text), units[0])
    assert units[0].start <= result.start <= result.end <= units[0].end
    return result.reason, text[result.start : result.end]


def _bare(words: str) -> str:
    """'The health visitor' and 'health visitor' name the same owner."""
    return re.sub(r"^the\s+", "", words.strip(), flags=re.I)


# ---------------------------------------------------------------------------------------------
# Owner named.

NAMED_CASES = [
    pytest.param("Mum to attend all contact sessions.", OwnerReason.subject, "Mum", id="mum-to"),
    pytest.param("SW will visit Child A weekly.", OwnerReason.subject, "SW", id="sw-will"),
    pytest.param("I will complete the referral to CAMHS by Friday.", OwnerReason.subject, "I", id="i-will"),
    pytest.param("We will review the plan at the next core group.", OwnerReason.subject, "We", id="we-will"),
    pytest.param("Child A to attend school every day.", OwnerReason.subject, "Child A", id="child-a-to"),
    pytest.param(
        "[NAME] to attend the parenting course.",
        OwnerReason.subject,
        "[NAME]",
        id="name-placeholder-to",
    ),
    pytest.param("XXX to attend the GP appointment on 12.3.21.", OwnerReason.subject, "XXX", id="xxx-to"),
    pytest.param(
        "Dad and his partner to attend the Caring Dads programme.",
        OwnerReason.subject,
        "Dad and his partner",
        id="two-owners",
    ),
    pytest.param(
        "The health visitor will weigh Baby B fortnightly.",
        OwnerReason.subject,
        "health visitor",
        id="the-health-visitor-will",
    ),
    pytest.param(
        "Mum's partner to attend the drug and alcohol service.",
        OwnerReason.subject,
        "Mum's partner",
        id="mums-partner",
    ),
    pytest.param(
        "Maternal grandmother to provide respite every other weekend.",
        OwnerReason.subject,
        "Maternal grandmother",
        id="maternal-grandmother",
    ),
    pytest.param("Mum has agreed to attend counselling.", OwnerReason.subject, "Mum", id="has-agreed-to"),
    pytest.param(
        "Action | Who | When\nRefer Child A to CAMHS | SW | 31.3.21",
        OwnerReason.who_column,
        "SW",
        id="table-who-column",
    ),
    pytest.param(
        "Who | What | By when\nFSW | Book the boiler repair | w/c 12 April",
        OwnerReason.who_column,
        "FSW",
        id="table-who-column-first",
    ),
    pytest.param("Complete the referral to CAMHS (SW)", OwnerReason.tag, "SW", id="tag-in-brackets"),
    pytest.param("- Book the boiler repair by 12.3.21 - FSW", OwnerReason.tag, "FSW", id="tag-after-dash"),
    pytest.param("- Chase the hair strand results [SW]", OwnerReason.tag, "SW", id="tag-in-square-brackets"),
    pytest.param("Weigh Baby B fortnightly, lead: HV", OwnerReason.label, "HV", id="lead-label"),
    pytest.param("HV: weigh Baby B fortnightly", OwnerReason.label, "HV", id="owner-label-first"),
    pytest.param("Referral to CAMHS to be made by the HV.", OwnerReason.agent, "HV", id="passive-by-the-hv"),
    pytest.param(
        "The parenting assessment will be completed by the SW by 31.3.21.",
        OwnerReason.agent,
        "SW",
        id="passive-by-sw-then-date",
    ),
    pytest.param(
        "Mum to be referred to the Freedom Programme by the SW.",
        OwnerReason.agent,
        "SW",
        id="mum-passive-by-sw",
    ),
]


@pytest.mark.parametrize(("text", "reason", "owner"), NAMED_CASES)
def test_owner_named(text: str, reason: OwnerReason, owner: str) -> None:
    found_reason, words = _owner(text)
    assert found_reason is reason, (found_reason, words)
    assert found_reason.found
    assert _bare(words) == _bare(owner)


# ---------------------------------------------------------------------------------------------
# Nobody named.

UNNAMED_CASES = [
    pytest.param("Referral to be made to CAMHS.", OwnerReason.passive, id="referral-to-be-made"),
    # "by 12.3.21" is a deadline, not an agent.
    pytest.param("Referral to be made by 12.3.21.", OwnerReason.passive, id="passive-by-a-date"),
    pytest.param(
        "The home conditions will be checked at each visit.",
        OwnerReason.passive,
        id="will-be-checked",
    ),
    pytest.param(
        "A strategy discussion is to be held within 24 hours.",
        OwnerReason.passive,
        id="is-to-be-held",
    ),
    # Mum receives the offer: nobody is named to make it.
    pytest.param("Mum will be offered a parenting course.", OwnerReason.passive, id="mum-will-be-offered"),
    # Child A is seen; nobody is named to see Child A.
    pytest.param("Child A to be seen alone at every visit.", OwnerReason.passive, id="child-to-be-seen"),
    # "by post" is how, not who.
    pytest.param("Letter to be sent by post.", OwnerReason.passive, id="sent-by-post"),
    pytest.param("Attend all appointments.", OwnerReason.imperative, id="attend-all-appointments"),
    pytest.param("Refer to CAMHS.", OwnerReason.imperative, id="refer-to-camhs"),
    pytest.param("Keep the home clean and tidy.", OwnerReason.imperative, id="keep-the-home-clean"),
    # Mum attends, but nobody is named to do the supporting.
    pytest.param("Support Mum to attend the GP.", OwnerReason.imperative, id="support-mum-to-attend"),
    pytest.param("Parenting assessment.", OwnerReason.noun_phrase, id="parenting-assessment"),
    pytest.param("Referral to CAMHS.", OwnerReason.noun_phrase, id="referral-to-camhs"),
    pytest.param("Hair strand test for Dad.", OwnerReason.noun_phrase, id="hair-strand-test-for-dad"),
]


@pytest.mark.parametrize(("text", "reason"), UNNAMED_CASES)
def test_nobody_named(text: str, reason: OwnerReason) -> None:
    found_reason, words = _owner(text)
    assert found_reason is reason, (found_reason, words)
    assert not found_reason.found


def test_owner_after_a_preposition_is_not_the_owner() -> None:
    # Mum and Dad are the objects of the contact, not the people who will arrange it.
    reason, _words = _owner("Contact with Mum and Dad to continue weekly.")
    assert not reason.found


def test_empty_who_column_falls_back_to_the_action() -> None:
    reason, words = _owner("Action | Who | When\nReferral to CAMHS to be made by the SW | | 31.3.21")
    assert reason is OwnerReason.agent
    assert _bare(words) == "SW"


# ---------------------------------------------------------------------------------------------
# Through the pipeline, as the engine runs it (built once for this module).


@pytest.fixture(scope="module")
def nlp():  # type: ignore[no-untyped-def]
    from auditor.pipeline import build

    return build()


def test_pipeline_owners(nlp) -> None:  # type: ignore[no-untyped-def]
    from auditor.pipeline import make_doc
    from auditor.records import Record

    text = (
        "Actions\n"
        "1. SW to visit Child A fortnightly and see her alone.\n"
        "2. Referral to be made to the Freedom Programme.\n"
        "3. Attend all health appointments.\n"
        "4. Parenting assessment.\n"
        "5. Hair strand test to be arranged by the FSW by 31.3.21.\n"
    )
    doc = make_doc(nlp, Record(id="t1", record_type="plan", text=text, recorded_at=date(2021, 3, 1)))
    owners = [(u.text, u.owner.reason if u.owner else None) for u in doc._.units]
    assert owners == [
        ("SW to visit Child A fortnightly and see her alone.", OwnerReason.subject),
        ("Referral to be made to the Freedom Programme.", OwnerReason.passive),
        ("Attend all health appointments.", OwnerReason.imperative),
        ("Parenting assessment.", OwnerReason.noun_phrase),
        ("Hair strand test to be arranged by the FSW by 31.3.21.", OwnerReason.agent),
    ]
    first = doc._.units[0].owner
    assert text[first.start : first.end] == "SW"

"""Personal data left in text that should be anonymised: NHS numbers (with a valid modulus 11 check
digit), National Insurance numbers, postcodes, UK phone numbers, emails, dates of birth, street
addresses and names. Anonymised placeholders ("Child A", "[NAME]", "XXX") and family roles ("Mum")
are what a clean export contains and are never reported.

NHS check digits worked by hand (weights 10..2 over the first nine digits, 11 - sum mod 11,
11 -> 0, 10 -> invalid):
- 943 476 591|9: 90+36+24+28+42+30+20+27+2 = 299; 299 mod 11 = 2; 11-2 = 9 -> valid.
- 401 023 213|7: 40+0+8+0+12+15+8+3+6 = 92; 92 mod 11 = 4; 11-4 = 7 -> valid.
- 943 476 590|0: ... +0 = 297; 297 mod 11 = 0; 11-0 = 11 -> 0 -> valid.
- 123 456 789|x: 210; 210 mod 11 = 1; 11-1 = 10 -> no valid check digit.
"""

from __future__ import annotations

from itertools import pairwise

import pytest

from auditor.personal_data import PersonalDataKind, find_personal_data, nhs_number_is_valid

P = PersonalDataKind


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        pytest.param("9434765919", True, id="943-476-5919-valid"),
        pytest.param("9434765918", False, id="943-476-5918-wrong-check-digit"),
        pytest.param("4010232137", True, id="401-023-2137-valid"),
        pytest.param("9434765900", True, id="check-digit-11-becomes-0"),
        pytest.param("1234567890", False, id="check-digit-would-be-10"),
        pytest.param("0000000000", False, id="all-zeros"),
        pytest.param("943476591", False, id="nine-digits"),
    ],
)
def test_nhs_number_check_digit(digits: str, valid: bool) -> None:
    assert nhs_number_is_valid(digits) is valid


def _found(text: str) -> list[tuple[PersonalDataKind, str]]:
    return [(p.kind, text[p.start : p.end]) for p in find_personal_data(text)]


FOUND_CASES = [
    pytest.param("NHS number 943 476 5919.", P.nhs_number, "943 476 5919", id="nhs-number-spaced"),
    pytest.param("NHS no: 9434765919", P.nhs_number, "9434765919", id="nhs-number-unspaced"),
    pytest.param("Mum's NI number is AB 12 34 56 C.", P.ni_number, "AB 12 34 56 C", id="ni-number-spaced"),
    pytest.param("NI: JG103759A", P.ni_number, "JG103759A", id="ni-number-unspaced"),
    pytest.param("Mum has moved to TF3 4NT.", P.postcode, "TF3 4NT", id="postcode"),
    pytest.param("Postcode: SW1A 1AA", P.postcode, "SW1A 1AA", id="postcode-london"),
    # Typed in lower case it is still a postcode.
    pytest.param(
        "Mum's new address is 14 Meadow Road, tf3 4nt.",
        P.postcode,
        "tf3 4nt",
        id="postcode-lower-case",
    ),
    pytest.param("Mum's mobile is 07700 900123.", P.phone, "07700 900123", id="mobile"),
    pytest.param("Call Dad on 01952 123456.", P.phone, "01952 123456", id="landline"),
    pytest.param("Nan's number: +44 7700 900123", P.phone, "+44 7700 900123", id="mobile-international"),
    pytest.param(
        "Call the school on (01952) 123456.",
        P.phone,
        "(01952) 123456",
        id="landline-area-code-in-brackets",
    ),
    pytest.param(
        "Email mum at sarah.smith@gmail.com for updates.",
        P.email,
        "sarah.smith@gmail.com",
        id="email",
    ),
    pytest.param("DOB 03/04/2012", P.date_of_birth, "03/04/2012", id="dob"),
    pytest.param(
        "Date of birth: 3rd April 2012",
        P.date_of_birth,
        "3rd April 2012",
        id="date-of-birth-worded",
    ),
    pytest.param("Child A was born on 03.04.12.", P.date_of_birth, "03.04.12", id="born-on"),
    pytest.param("Mum has moved to 14 Meadow Road.", P.address, "14 Meadow Road", id="street-address-road"),
    pytest.param(
        "Family moved to 7 Willow Close last month.",
        P.address,
        "7 Willow Close",
        id="street-address-close",
    ),
    pytest.param("Mrs Smith attended the core group.", P.name, "Smith", id="title-and-surname"),
    pytest.param("Mum (Sarah) attended the core group.", P.name, "Sarah", id="role-and-name"),
    pytest.param("Mum's partner, Jason, has a history of domestic abuse.", P.name, "Jason", id="partner-name"),
]


@pytest.mark.parametrize(("text", "kind", "words"), FOUND_CASES)
def test_personal_data_found(text: str, kind: PersonalDataKind, words: str) -> None:
    found = find_personal_data(text)
    # The finding is of the right kind and covers the personal data (it may include its label).
    words = words.lstrip("(")  # a phone finding may leave out the opening bracket
    start = text.index(words)
    covering = [p for p in found if p.kind is kind and p.start <= start and start + len(words) <= p.end]
    assert covering, _found(text)


NOT_FOUND_CASES = [
    pytest.param("NHS number 943 476 5918.", id="nhs-invalid-check-digit"),
    pytest.param("Child A to attend school every day.", id="child-a"),
    pytest.param("[NAME] to attend the parenting course.", id="name-placeholder"),
    pytest.param("XXX to attend the GP appointment on 12.3.21.", id="xxx"),
    pytest.param("Mum to attend all appointments with Child A and Baby B.", id="mum-child-a-baby-b"),
    pytest.param("Present: Mum, Dad, Nan, Child A, SW, HV and FSW.", id="attendance-list-of-roles"),
    pytest.param("Dad (XXX) did not attend.", id="role-with-redacted-name"),
    pytest.param("Mum (Child A's mother) attended.", id="role-with-placeholder"),
    # A date is only a date of birth when it says so.
    pytest.param("Referral received 03/04/2021 from school.", id="date-not-dob"),
    pytest.param("SDQ score 18/40. SW to visit within 10 working days.", id="scores-and-timescales"),
    # Capitalised words in brackets after a role are not always names.
    pytest.param("Contact with Dad (Saturdays, supervised) to continue.", id="role-then-day-of-week"),
    pytest.param("Referral for Mum (Freedom Programme) to be made by the SW.", id="role-then-programme"),
]


@pytest.mark.parametrize("text", NOT_FOUND_CASES)
def test_nothing_found(text: str) -> None:
    assert _found(text) == []


def test_no_overlaps_and_sorted() -> None:
    text = (
        "Mum (Sarah), DOB 03/04/1990, of 14 Meadow Road, TF3 4NT, tel 07700 900123, NHS 943 476 5919, NI AB 12 34 56 C."
    )
    found = find_personal_data(text)
    kinds = {p.kind for p in found}
    assert {
        P.name,
        P.date_of_birth,
        P.address,
        P.postcode,
        P.phone,
        P.nhs_number,
        P.ni_number,
    } <= kinds
    for first, second in pairwise(found):
        assert first.end <= second.start

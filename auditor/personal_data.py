"""Personal data left in text that should be anonymised: names, addresses, postcodes, phone numbers,
emails, dates of birth, NHS numbers (with their check digit) and National Insurance numbers.

Anonymised placeholders ("Child A", "[NAME]", "XXX") are what clean exports contain and are never
reported. Names are the hardest: without a trained recogniser we look for a title or a family
role followed by a capitalised name ("Mrs Smith", "Mum (Sarah)"), and a short list of common
first names written as names. A pretrained pipeline, if configured, adds its PERSON entities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from auditor.dates import MONTH_NAME, MONTHS
from auditor.timescales import WEEKDAYS

_I = re.IGNORECASE


class PersonalDataKind(StrEnum):
    nhs_number = "nhs_number"
    ni_number = "ni_number"
    postcode = "postcode"
    phone = "phone"
    email = "email"
    date_of_birth = "date_of_birth"
    address = "address"
    name = "name"


@dataclass(frozen=True, slots=True)
class PersonalData:
    kind: PersonalDataKind
    start: int
    end: int


_NHS = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d-])")
# HMRC's format: two prefix letters (not D, F, I, Q, U, V; second not O), six digits, suffix A-D.
_NINO = re.compile(r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")
# Lower-case postcodes ("tf3 4nt") only in full, with the space, to keep ordinary words out.
_POSTCODE_LOWER = re.compile(r"\b[a-pr-uwyz](?:\d[a-hjkps-uw\d]?|[a-hk-y]\d[abehmnprv-y\d]?)\s\d[abd-hjlnp-uw-z]{2}\b")
_POSTCODE = re.compile(
    r"\b(?:GIR\s?0AA|[A-PR-UWYZ](?:\d[A-HJKPS-UW\d]?|[A-HK-Y]\d[ABEHMNPRV-Y\d]?)\s?\d[ABD-HJLNP-UW-Z]{2})\b"
)
_PHONE = re.compile(
    r"\(0\d{3,4}\)\s?\d{3}\s?\d{3,4}(?!\d)|(?<![\w+])(?:(?:\+44\s?\(?0?\)?\s?|0)(?:7\d{3}\s?\d{3}\s?\d{3}|7\d{3}\s?\d{6}|1\d{2,4}\s?\d{3}\s?\d{3,4}|2\d\s?\d{4}\s?\d{4}|3\d{2}\s?\d{3}\s?\d{4}|8\d{2}\s?\d{3}\s?\d{4}))(?!\d)"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_DATE = rf"(?:\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH_NAME}\.?,?\s+\d{{2,4}})"
_DOB = re.compile(rf"\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-]?\s*(?P<date>{_DATE})", _I)
_STREET = r"(?:road|rd|street|st|avenue|ave|lane|ln|close|drive|dr|way|court|ct|crescent|cres|grove|place|gardens|gdns|terrace|walk|row|square|sq|hill|rise|mews|park|view|croft|meadow|green)"
_ADDRESS = re.compile(rf"\b\d{{1,4}}[A-Za-z]?,?\s+(?:[A-Z][a-z]+\s+){{1,3}}(?i:{_STREET})\b\.?")
_TITLE_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+(?P<name>[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?)\b")
# A name set off after a family role: "Mum (Sarah)", "Dad, Wayne, said", "a friend called Jade".
# The patterns start at the bracket, comma or verb (cheap to find); the role before is checked after.
_NAME = r"(?P<name>[A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)"
_SET_OFF_NAME = re.compile(
    rf"\(\s*{_NAME}\s*\)|,\s*{_NAME.replace('name', 'name2')}\s*,|\b(?:called|named)\s+{_NAME.replace('name', 'name3')}\b(?!\s+(?:[A-Z]\b|said|says))"
)
_ROLE_BEFORE = re.compile(
    r"\b(?:[Mm]um|[Mm]other|[Dd]ad|[Ff]ather|[Nn]an|[Gg]randma|[Gg]randad|[Pp]artner|[Ss]ister|[Bb]rother|[Cc]arer|[Cc]hild|[Bb]aby|[Ss]on|[Dd]aughter)\s*$"
)
# Common first names of the children and parents in UK records, that are not also ordinary words
# or field terms ("Grace", "Will" and "May" would be noisy). Matched only where written as a name.
FIRST_NAMES = frozenset(
    [
        "Aaron",
        "Abigail",
        "Adam",
        "Aiden",
        "Aisha",
        "Alex",
        "Alfie",
        "Alice",
        "Amelia",
        "Amy",
        "Andrew",
        "Anthony",
        "Archie",
        "Ava",
        "Ayesha",
        "Ben",
        "Bethany",
        "Billy",
        "Bradley",
        "Brandon",
        "Callum",
        "Charlie",
        "Charlotte",
        "Chelsea",
        "Chloe",
        "Ciara",
        "Connor",
        "Courtney",
        "Craig",
        "Daisy",
        "Daniel",
        "Danielle",
        "David",
        "Dean",
        "Demi",
        "Dylan",
        "Ellie",
        "Emily",
        "Emma",
        "Ethan",
        "Evie",
        "Faith",
        "Freddie",
        "Freya",
        "Gary",
        "George",
        "Georgia",
        "Hannah",
        "Harley",
        "Harry",
        "Harvey",
        "Hayley",
        "Isaac",
        "Isabella",
        "Isla",
        "Jack",
        "Jacob",
        "Jade",
        "James",
        "Jamie",
        "Jasmine",
        "Jason",
        "Jayden",
        "Jessica",
        "Joanne",
        "John",
        "Joseph",
        "Joshua",
        "Kayden",
        "Kayleigh",
        "Kelly",
        "Kieran",
        "Kyle",
        "Laura",
        "Lauren",
        "Leah",
        "Lee",
        "Leon",
        "Lewis",
        "Liam",
        "Lily",
        "Logan",
        "Louise",
        "Lucy",
        "Luke",
        "Mason",
        "Matthew",
        "Megan",
        "Mia",
        "Michael",
        "Michelle",
        "Mohammed",
        "Muhammad",
        "Nathan",
        "Nicola",
        "Niamh",
        "Noah",
        "Oliver",
        "Olivia",
        "Oscar",
        "Paige",
        "Paul",
        "Poppy",
        "Rachel",
        "Rebecca",
        "Reece",
        "Rhys",
        "Riley",
        "Robert",
        "Ruby",
        "Ryan",
        "Sam",
        "Samantha",
        "Samuel",
        "Sarah",
        "Scarlett",
        "Sean",
        "Shannon",
        "Sienna",
        "Sophia",
        "Sophie",
        "Stacey",
        "Stephen",
        "Steven",
        "Tanya",
        "Theo",
        "Thomas",
        "Tia",
        "Tyler",
        "Tommy",
        "Victoria",
        "Wayne",
        "William",
        "Zara",
        "Zoe",
    ]
)
# Capitalised words, checked against FIRST_NAMES in Python: one cheap scan instead of a
# 150-way alternation tried at every character.
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_SURNAME = re.compile(r"\s+[A-Z][a-z]{2,}\b")


# Capitalised words that follow a role in records but are not names ("Dad (Dad states ...)").
_NOT_NAMES = frozenset(
    [
        "mum",
        "mummy",
        "mother",
        "dad",
        "daddy",
        "father",
        "nan",
        "nana",
        "grandma",
        "grandad",
        "parent",
        "parents",
        "carer",
        "carers",
        "child",
        "children",
        "baby",
        "brother",
        "sister",
        "son",
        "daughter",
        "partner",
        "the",
        "this",
        "that",
        "she",
        "he",
        "they",
        "school",
        "college",
        "nursery",
        "health",
        "police",
        "social",
        "worker",
        "manager",
        "team",
        "family",
        "aged",
        "age",
        "year",
        "years",
        "months",
        "weeks",
        "not",
        "see",
        "note",
        "freedom",
        "programme",
        *WEEKDAYS,
        *(f"{day}s" for day in WEEKDAYS),
        *(month for month in MONTHS if len(month) > 3 or month == "may"),  # full names, and "sept"
    ]
)


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number's modulus 11 check digit (NHS Data Dictionary)."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


# Cheap tests that rule a pattern out before it scans the whole text.
_DIGIT_RUN = re.compile(r"\d[\d ]{4,}\d")
_DOB_WORDS = ("dob", "d.o.b", "birth", "born")
# An outward code's last character, a space and an inward code ("1 9ZZ", "a 1aa"): ordinals
# and times ("14th", "9am") never have the space.
_INWARD_CODE = re.compile(r"[A-Za-z\d]\s\d[A-Za-z]{2}\b")
# A house number before a capitalised word ("14 Oak Tree Road").
_NUMBERED_NAME = re.compile(r"\d[A-Za-z]?,?\s+[A-Z][a-z]")
_STREET_WORDS = tuple(_STREET[3:-1].split("|"))
_TITLES = ("Mr", "Ms", "Miss", "Mx", "Dr")


def find_personal_data(text: str, folded: str | None = None) -> list[PersonalData]:
    """Every piece of personal data in text, without overlaps, sorted by position. Pass `folded`
    (`casefold.fold(text)`) if the caller already has it."""
    found: list[PersonalData] = []
    patterns: list[tuple[re.Pattern[str], PersonalDataKind]] = []
    lowered = folded if folded is not None else text.lower()
    if _INWARD_CODE.search(text):  # a postcode ends in digit, letter, letter ("9ZZ")
        patterns += [(_POSTCODE, PersonalDataKind.postcode), (_POSTCODE_LOWER, PersonalDataKind.postcode)]
    if _NUMBERED_NAME.search(text) and any(word in lowered for word in _STREET_WORDS):
        patterns.append((_ADDRESS, PersonalDataKind.address))
    if _DIGIT_RUN.search(text):
        for match in _NHS.finditer(text):
            if nhs_number_is_valid("".join(match.groups())):
                found.append(PersonalData(PersonalDataKind.nhs_number, match.start(), match.end()))
        patterns += [(_NINO, PersonalDataKind.ni_number), (_PHONE, PersonalDataKind.phone)]
    if "@" in text:
        patterns.append((_EMAIL, PersonalDataKind.email))
    if any(word in lowered for word in _DOB_WORDS):
        patterns.append((_DOB, PersonalDataKind.date_of_birth))
    for pattern, kind in patterns:
        for match in pattern.finditer(text):
            found.append(PersonalData(kind, match.start(), match.end()))
    for match in _TITLE_NAME.finditer(text) if any(title in text for title in _TITLES) else ():
        if match["name"].lower() not in _NOT_NAMES:
            found.append(PersonalData(PersonalDataKind.name, match.start("name"), match.end()))
    for match in _SET_OFF_NAME.finditer(text):
        group = next(g for g in ("name", "name2", "name3") if match[g])
        if match[group].split()[0].lower() in _NOT_NAMES:
            continue
        if group != "name3" and not _ROLE_BEFORE.search(text, max(0, match.start() - 12), match.start()):
            continue
        found.append(PersonalData(PersonalDataKind.name, match.start(group), match.end(group)))
    for match in _CAPITALISED.finditer(text):
        if match.group() in FIRST_NAMES:
            surname = _SURNAME.match(text, match.end())
            end = surname.end() if surname and surname.group().strip().lower() not in _NOT_NAMES else match.end()
            found.append(PersonalData(PersonalDataKind.name, match.start(), end))
    found.sort(key=lambda p: (p.start, -(p.end - p.start)))
    kept: list[PersonalData] = []
    for item in found:
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return kept

"""Column-mapping profiles (issue 6): the shipped ones load and describe real export headers, a
header row's problems are named by file, row and column, and loading is strict and kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.profiles import Profile, ProfileError, load_profile, normalise, shipped_profiles
from auditor.records import PlanType, Record, RecordType

# Headers as SSD names them for child protection plans (ssd_cp_plans), plus the narrative column
# an audit export adds, and Annex A's own.
SSD_CP_PLANS = [
    "cppl_cp_plan_id",
    "cppl_referral_id",
    "cppl_icpc_id",
    "cppl_person_id",
    "cppl_cp_plan_start_date",
    "cppl_cp_plan_end_date",
    "cppl_cp_plan_ola",
    "cppl_cp_plan_initial_category",
    "cppl_cp_plan_latest_category",
    "cppl_plan_type",
    "cppl_record_type",
    "cppl_cp_plan_narrative",
]
ANNEX_A = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Allocated Team", "Allocated Worker"]


def test_the_shipped_profiles_load_and_every_exact_pattern_names_its_own_field() -> None:
    assert shipped_profiles() == ["annex-a", "generic"]
    for name in shipped_profiles():
        profile = load_profile(name)
        assert profile.name == name
        for field, patterns in profile.columns.items():
            for pattern in patterns:
                if "*" not in pattern:
                    assert profile.classify(pattern) == ("field", field), (name, pattern)
        for pattern in profile.ignore:
            if "*" not in pattern:
                assert profile.classify(pattern) == ("ignored", None), (name, pattern)


def test_headers_are_compared_without_case_spaces_or_punctuation() -> None:
    generic = load_profile("generic")
    for header in ("Case Note ID", "case_note_id", "CASENOTEID", " case-note id "):
        assert generic.classify(header) == ("field", "id")
    assert normalise("Date of Event (dd/mm/yy)") == "dateofeventddmmyy"


def test_an_ssd_export_with_its_narrative_maps_completely() -> None:
    columns = load_profile("annex-a").map_columns(SSD_CP_PLANS, "cp_plans.csv")
    assert columns.problems == []
    by_header = {SSD_CP_PLANS[i]: field for field, i in columns.fields.items()}
    assert by_header == {
        "cppl_cp_plan_id": "id",
        "cppl_person_id": "child_id",
        "cppl_cp_plan_start_date": "plan_start_date",
        "cppl_plan_type": "plan_type",
        "cppl_record_type": "record_type",
        "cppl_cp_plan_narrative": "text",
    }
    assert "cppl_cp_plan_end_date" in columns.ignored and "cppl_cp_plan_initial_category" in columns.ignored


def test_annex_a_personal_details_are_ignored_never_read() -> None:
    annex = load_profile("annex-a")
    assert [annex.classify(h)[0] for h in ("Gender", "Ethnicity", "Date of Birth", "pers_dob")] == ["ignored"] * 4
    # The generic profile does not know them: an export carrying them is reported, not read.
    generic = load_profile("generic")
    assert generic.classify("Date of Birth") == ("unknown", None)
    assert generic.classify("Date") == ("field", "recorded_at")


def test_a_header_rows_problems_name_the_file_the_row_and_the_column() -> None:
    headers = ["Record ID", "Type", "Shoe size", "Notes", "Note", "Team"]
    columns = load_profile("generic").map_columns(headers, "export.csv")
    problems = [str(p) for p in columns.problems]
    assert problems == [
        "export.csv, row 1, column 3: unknown column (map it or ignore it in the profile)",
        "export.csv, row 1, column 5 ('Note'): a second column for 'text' (first: column 4)",
    ]
    missing = load_profile("generic").map_columns(["Record ID", "Team"], "export.csv")
    assert [p.problem for p in missing.problems] == [
        "no column for required field 'record_type'",
        "no column for required field 'text'",
    ]


def test_a_header_claimed_by_two_fields_wildcards_is_reported_and_an_exact_pattern_wins() -> None:
    profile = Profile.model_validate(
        {
            "name": "clash",
            "description": "Two wildcards that can claim one header.",
            "columns": {"id": ["*id"], "child_id": ["child*", "child id"], "record_type": ["type"], "text": ["text"]},
        }
    )
    assert profile.classify("child ref id") == ("ambiguous", "child_id, id")
    assert profile.classify("Child ID") == ("field", "child_id")  # exact beats both wildcards
    problems = profile.map_columns(["child ref id", "type", "text", "record id"], "x.csv").problems
    assert [(p.column, p.problem) for p in problems] == [(1, "matches the patterns of child_id, id")]


def test_a_row_becomes_a_record_with_synonyms_and_defaults() -> None:
    profile = Profile.model_validate(
        {
            "name": "visits",
            "description": "A visits export with no type column.",
            "columns": {"id": ["visit id"], "text": ["notes"], "plan_type": ["plan"], "team": ["team"]},
            "values": {"plan_type": {"Child Protection Plan": "cp"}},
            "defaults": {"record_type": "plan"},
        }
    )
    columns = profile.map_columns(["Visit ID", "Notes", "Plan", "Team"], "visits.xlsx")
    assert columns.problems == []
    raw = profile.raw_record(["V-1", "SW to visit weekly.", "child protection plan", "  "], columns)
    record = Record.model_validate(raw)
    assert (record.record_type, record.plan_type, record.team) == (RecordType.plan, PlanType.cp, None)
    short = profile.raw_record(["V-2", "Text"], columns)  # a short row: the missing cells are empty
    assert short == {"record_type": "plan", "id": "V-2", "text": "Text"}


@pytest.mark.parametrize(
    ("content", "key", "message"),
    [
        ("name: x\ndescription: a profile here\ncolumns: {}\nsheet: 1\n", "sheet", "is not a profile key"),
        ("name: x\ndescription: a profile here\ncolumns: {shoe: [a]}\n", "columns.shoe.[key]", "must be one of"),
        (
            "name: x\ndescription: a profile here\ncolumns: {id: [a], record_type: [b], text: [c]}\n"
            "values: {record_type: {memo: note}}\n",
            None,
            "note is not one of",
        ),
        ("name: x\ndescription: a profile here\ncolumns: {id: [a]}\n", None, "required field(s): record_type, text"),
        (
            "name: x\ndescription: a profile here\ncolumns: {id: ['*'], record_type: [b], text: [c]}\n",
            "columns",
            "each pattern needs letters or digits",
        ),
        ("- just\n- a list\n", None, "must be a mapping"),
        ("name: [unclosed\n", None, "cannot be read as YAML"),
    ],
)
def test_loading_is_strict_and_names_the_file_and_key(
    tmp_path: Path, content: str, key: str | None, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    assert raised.value.file == str(path) and raised.value.key == key and message in raised.value.message


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match="annex-a, generic"):
        load_profile("mosaic-2019")

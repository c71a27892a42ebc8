"""The command line, run as a user runs it: exit codes, the JSONL contract, atomic output,
errors without tracebacks or record text, and the rule catalogue."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
SECRET = "Mum disclosed that her partner hit Child A"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor.cli", *args], capture_output=True, text=True, timeout=120)


def _write(tmp_path: Path, name: str, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_contract_in_input_order() -> None:
    result = run("check", str(SAMPLES), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [json.loads(line)["id"] for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [line["id"] for line in lines] == ids
    for line in lines:
        assert list(line) == ["id", "score", "grade", "findings"]
        assert 0 <= line["score"] <= 100
        assert line["grade"] in ("outstanding", "good", "requires improvement", "inadequate")
        for finding in line["findings"]:
            assert list(finding) == ["rule_id", "category", "severity", "start", "end", "text", "message", "suggestion"]


def test_findings_point_at_their_words(tmp_path: Path) -> None:
    text = "1. Mum to engage with services.\n2. Referral to be made to CAMHS."
    path = _write(tmp_path, "one.jsonl", [{"id": "P1", "record_type": "plan", "text": text}])
    [line] = [json.loads(x) for x in run("check", str(path), "--format", "jsonl").stdout.splitlines()]
    rules = {f["rule_id"] for f in line["findings"]}
    assert {"TS001", "VA001", "OW001"} <= rules
    for finding in line["findings"]:
        assert text[finding["start"] : finding["end"]] == finding["text"]


def test_personal_data_is_masked_unless_asked(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "pii.jsonl", [{"id": "N1", "record_type": "case_note", "text": "Mum's mobile is 07700 900123."}]
    )
    masked = run("check", str(path), "--format", "jsonl").stdout
    assert "07700 900123" not in masked and "***** ******" in masked
    shown = run("check", str(path), "--format", "jsonl", "--show-personal-data").stdout
    assert "07700 900123" in shown


def test_bad_input_exits_2_names_file_and_row_and_writes_nothing(tmp_path: Path) -> None:
    good = {"id": "A", "record_type": "plan", "text": "SW to visit weekly."}
    bad = {"id": "B", "record_type": "plan", "text": SECRET, "recorded_at": "31/02/2021"}
    path = _write(tmp_path, "batch.jsonl", [good, bad])
    output = tmp_path / "out.jsonl"
    output.write_text("previous results\n")
    result = run("check", str(path), "--format", "jsonl", "--output", str(output))
    assert result.returncode == 2
    assert "batch.jsonl" in result.stderr and "row 2" in result.stderr and "'B'" in result.stderr
    assert "recorded_at" in result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout
    assert output.read_text() == "previous results\n"  # the earlier file is untouched
    assert not list(tmp_path.glob("*.partial"))


def test_missing_file_and_duplicate_ids(tmp_path: Path) -> None:
    missing = run("check", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and "not found" in missing.stderr
    row = {"id": "A", "record_type": "plan", "text": "x"}
    path = _write(tmp_path, "dupes.jsonl", [row, row])
    duplicate = run("check", str(path))
    assert duplicate.returncode == 2 and "duplicate id" in duplicate.stderr and "Traceback" not in duplicate.stderr


def test_output_file_is_written_whole(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = run("check", str(SAMPLES), "--format", "json", "--output", str(output))
    assert result.returncode == 0 and result.stdout == ""
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["summary"]["records"] == len(document["records"]) > 30
    assert sum(document["summary"]["grades"].values()) == len(document["records"])
    first = next(f for r in document["records"] for f in r["findings"])
    assert first["citation"] and first["source"].startswith("rule:")


def test_csv_neutralises_formulas(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "f.jsonl", [{"id": "=HYPERLINK(1)", "record_type": "plan", "text": "- Attend the parenting course"}]
    )
    result = run("check", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(row["id"] == "'=HYPERLINK(1)" for row in rows)
    assert {row["rule_id"] for row in rows} >= {"OW002", "TS001"}


def test_table_has_a_summary_line() -> None:
    result = run("check", str(SAMPLES))
    assert result.returncode == 0
    assert result.stdout.rstrip().splitlines()[-1].startswith("36 records:")


def test_rules_catalogue() -> None:
    result = run("rules", "--format", "json")
    catalogue = json.loads(result.stdout)
    ids = [rule["id"] for rule in catalogue["rules"]]
    assert "TS001" in ids and "PD001" in ids and len(ids) == len(set(ids))
    assert all(rule["citation"]["words"] for rule in catalogue["rules"])
    table = run("rules")
    assert table.returncode == 0 and "action-without-timescale" in table.stdout


@pytest.mark.parametrize("bad", [["check"], ["check", "x.jsonl", "--format", "xml"], ["frobnicate"]])
def test_usage_errors_exit_2_without_traceback(bad: list[str]) -> None:
    result = run(*bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr

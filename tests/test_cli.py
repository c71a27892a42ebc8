"""The command line, run as a user runs it: exit codes, the JSONL contract, atomic output,
errors without tracebacks or record text, and the rule catalogue."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor import classifier, engine
from auditor.cli import app

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


# ---------------------------------------------------------------------------------------------
# What errors, Ctrl-C and a closed pipe say was written, and that they never show record text


def _many(tmp_path: Path, count: int, secret_at: int | None = None) -> Path:
    """`count` plan records; the one at index `secret_at` (if any) holds SECRET."""
    rows = [
        {"id": f"R{i}", "record_type": "plan", "text": SECRET if i == secret_at else f"SW to visit weekly. Item {i}."}
        for i in range(count)
    ]
    return _write(tmp_path, "many.jsonl", rows)


def _fail_on_secret(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make scoring raise `error` for any batch holding the record whose text is SECRET."""
    original = engine.Auditor.audit_batch

    def audit_batch(self: engine.Auditor, records: Sequence[object]) -> list[object]:
        if any(getattr(r, "text", None) == SECRET for r in records):
            raise error
        return original(self, records)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.Auditor, "audit_batch", audit_batch)


@pytest.mark.parametrize("error", [RuntimeError(SECRET), KeyboardInterrupt()], ids=["bug", "ctrl-c"])
def test_streaming_failure_says_how_many_records_were_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    path = _many(tmp_path, 100, secret_at=70)  # the second batch of 64 fails
    _fail_on_secret(monkeypatch, error)
    result = CliRunner().invoke(app, ["check", str(path), "--format", "jsonl", "--no-model"])
    assert result.exit_code == (130 if isinstance(error, KeyboardInterrupt) else 3)
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [f"R{i}" for i in range(64)]
    assert "the first 64 records were already written to standard output" in result.stderr
    assert "nothing was written" not in result.stderr
    if not isinstance(error, KeyboardInterrupt):
        assert "row 71" in result.stderr and "'R70'" in result.stderr
    assert SECRET not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("error", [RuntimeError(SECRET), KeyboardInterrupt()], ids=["bug", "ctrl-c"])
@pytest.mark.parametrize("secret_at", [0, 70])
def test_failure_with_nothing_written_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException, secret_at: int
) -> None:
    path = _many(tmp_path, 100, secret_at=secret_at)
    _fail_on_secret(monkeypatch, error)
    output = tmp_path / "out.jsonl"
    output.write_text("previous results\n")
    runner = CliRunner()
    to_file = runner.invoke(app, ["check", str(path), "--format", "jsonl", "--output", str(output), "--no-model"])
    buffered = runner.invoke(app, ["check", str(path), "--format", "json", "--no-model"])
    streamed = runner.invoke(app, ["check", str(path), "--format", "jsonl", "--no-model"])
    for result in (to_file, buffered) + ((streamed,) if secret_at == 0 else ()):
        assert result.exit_code == (130 if isinstance(error, KeyboardInterrupt) else 3)
        assert "nothing was written" in result.stderr and result.stdout == ""
        assert SECRET not in result.stderr and "Traceback" not in result.stderr
    assert output.read_text() == "previous results\n" and not list(tmp_path.glob("*.partial"))


def test_ctrl_c_while_streaming_says_how_many_records_were_written(tmp_path: Path) -> None:
    """A real SIGINT, at whatever moment it lands: the count is of complete lines written; at most
    one more record (the one in hand) may also be on standard output, as the message says."""
    path = _many(tmp_path, 1000, secret_at=500)
    child = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); from auditor.cli import main; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child, "check", str(path), "--format", "jsonl", "--no-model"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    written = b""
    while b"\n" not in written:
        chunk = os.read(process.stdout.fileno(), 65536)
        assert chunk, process.stderr.read().decode()
        written += chunk
    process.send_signal(signal.SIGINT)
    while chunk := os.read(process.stdout.fileno(), 65536):
        written += chunk
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 130, stderr
    said = re.search(
        r"interrupted; (?:the first (\d+) records? (?:was|were) already written to standard output"
        r"|no record had been completely written to standard output)",
        stderr,
    )
    assert said, stderr
    told, lines = int(said.group(1) or 0), written.count(b"\n")
    assert told <= lines <= told + 1 and "may be partly written" in stderr
    assert SECRET not in stderr and "Traceback" not in stderr


def test_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    path = _many(tmp_path, 1000)
    process = subprocess.Popen(
        [sys.executable, "-m", "auditor.cli", "check", str(path), "--format", "jsonl", "--no-model"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `| head -1` does
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert stderr == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("output_format", ["jsonl", "json"])
def test_unwritable_standard_output_is_named(output_format: str) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "auditor.cli", "check", str(SAMPLES), "--format", output_format, "--no-model"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2
    assert "standard output: cannot write" in result.stderr and "None" not in result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr


def test_a_spacy_pipeline_that_will_not_load_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "one.jsonl", [{"id": "A", "record_type": "plan", "text": SECRET}])
    env = dict(os.environ, AUDITOR_SPACY_MODEL="en_no_such_pipeline")
    result = subprocess.run(
        [sys.executable, "-m", "auditor.cli", "check", str(path)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "AUDITOR_SPACY_MODEL" in result.stderr and "en_no_such_pipeline" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert SECRET not in result.stderr


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"model.json": "{not json"}, ""),
        ({"model.json": json.dumps({"version": classifier.MODEL_VERSION, "combinations": {}})}, "actions.skops"),
        ({"model.json": '{"version": "1.0", "combinations": {}}'}, "model.json"),
    ],
    ids=["corrupt metadata", "missing model file", "another model version"],
)
def test_a_model_that_will_not_load_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], named: str
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name, text in files.items():
        (models / name).write_text(text)
    monkeypatch.delenv("AUDITOR_MODEL", raising=False)
    monkeypatch.setattr(classifier, "models_dir", lambda: models)
    if hasattr(engine, "models_dir"):  # imported by name there, in some versions
        monkeypatch.setattr(engine, "models_dir", lambda: models)
    path = _write(tmp_path, "one.jsonl", [{"id": "A", "record_type": "plan", "text": SECRET}])
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert str(models / named) in result.stderr and "--no-model" in result.stderr
    assert "internal error" not in result.stderr and SECRET not in result.stderr
    assert CliRunner().invoke(app, ["check", str(path), "--no-model"]).exit_code == 0

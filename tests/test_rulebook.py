"""Meta-tests over the whole rule registry, and strict loading of rule files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from auditor.checks import CHECKS
from auditor.findings import RECORD_LEVEL_CATEGORIES, Category
from auditor.rulebook import RuleBook, RuleFileError, default_rules_dir, load_rule

RULES = RuleBook.load()
DOMAIN = Path(__file__).resolve().parents[2] / "shared" / "DOMAIN.md"
CONTRACT = Path(__file__).resolve().parent / "data" / "categories.txt"


def test_every_record_level_category_is_covered() -> None:
    assert {rule.category for rule in RULES} == set(RECORD_LEVEL_CATEGORIES)


def test_personal_data_rules_cover_every_kind() -> None:
    names = {rule.name for rule in RULES if rule.category is Category.possible_personal_data}
    for kind in ("nhs-number", "national-insurance", "postcode", "phone", "email", "date-of-birth", "address", "name"):
        assert any(kind in name for name in names), kind


def _contract() -> list[str]:
    lines = CONTRACT.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_categories_match_the_checked_in_contract() -> None:
    # Runs everywhere, CI included: the contract is copied into tests/data from shared/DOMAIN.md.
    assert [c.value for c in Category] == _contract()


@pytest.mark.skipif(not DOMAIN.exists(), reason="shared/DOMAIN.md is not beside this checkout")
def test_the_checked_in_contract_matches_the_domain() -> None:
    text = DOMAIN.read_text(encoding="utf-8")
    section = text.split("## Finding categories", 1)[1].split("## Words of the field", 1)[0]
    named = re.findall(r"^- `([a-z_]+)`", section, re.MULTILINE)
    assert named == _contract(), "tests/data/categories.txt is out of date with shared/DOMAIN.md"


def test_ids_unique_match_files_and_each_has_a_check() -> None:
    files = sorted(p.stem for p in default_rules_dir().glob("*.yaml"))
    assert files == [r.id for r in RULES]
    assert set(CHECKS) == set(files), "a registered check without a rule file, or the reverse"


def test_every_rule_has_examples_and_a_citation() -> None:
    for rule in RULES:
        assert rule.examples.fires and rule.examples.does_not_fire
        assert rule.citation.words and rule.citation.paragraph


def _copy_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def _mutate(path: Path, change: dict[str, object]) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(change)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"severity": "critical"}, "severity", "high"),
        ({"category": "vague_actions"}, "category", "missing_timescale"),
        ({"colour": "red"}, "colour", "not a known key"),
        ({"id": "TS1"}, "id", "must match"),
        ({"examples": {"fires": [], "does_not_fire": [{"text": "x"}]}}, "examples.fires", "at least one"),
        ({"category": "drift"}, None, "case level"),
    ],
)
def test_malformed_rule_names_file_and_key(
    tmp_path: Path, change: dict[str, object], key: str | None, words: str
) -> None:
    folder = _copy_rules(tmp_path)
    _mutate(folder / "TS001.yaml", change)
    with pytest.raises(RuleFileError) as caught:
        RuleBook.load(folder)
    assert caught.value.file == "TS001.yaml"
    if key is not None:
        assert caught.value.key == key
    assert words in str(caught.value)


def test_rule_file_named_differently_from_its_id(tmp_path: Path) -> None:
    folder = _copy_rules(tmp_path)
    (folder / "TS001.yaml").rename(folder / "TS009.yaml")
    with pytest.raises(RuleFileError, match="must equal the file name"):
        RuleBook.load(folder)


def test_rule_without_a_registered_check(tmp_path: Path) -> None:
    folder = _copy_rules(tmp_path)
    data = yaml.safe_load((folder / "TS001.yaml").read_text())
    data["id"] = "ZZ999"
    data["name"] = "no-such-check"
    (folder / "ZZ999.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(RuleFileError, match="no check is registered"):
        RuleBook.load(folder)


def test_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "TS001.yaml"
    path.write_text("id: [unclosed")
    with pytest.raises(RuleFileError, match="not valid YAML"):
        load_rule(path)

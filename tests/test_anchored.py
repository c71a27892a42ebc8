"""Anchored patterns (tried only where one of their first words starts) must find exactly what
the same pattern finds with a plain search. A first word missing from a pattern's list would
show here as a difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor import checks, context, timescales
from auditor.casefold import Anchored, WordIndex, fold

SAMPLES = Path(__file__).resolve().parent.parent / "sample_records" / "records.jsonl"
TEXTS = [json.loads(line)["text"] for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
CRAFTED = [
    "Dad won't stop. Mum can't cope; she isn't sleeping and doesn't eat. [NAME] said she wants to go home.",
    "If Mum does not attend, PLO. Provided Dad stays sober, contact increases. As long as the plan holds.",
    "XXX told the SW 'I want Mum'. I'm scared. Child A's views were sought. In her own words: no.",
    "What needs to change: so that Child A is safe; we will know when school report it. Bottom line: no DV.",
    "It is hoped Mum may need support; possibly a referral. Previously, last week, since the last review.",
    "Weigh Baby B. 7 days later, SW to review. By 3rd March, within 10 working days, twice weekly, 14th May.",
    "Before the RCPC; at the next LAC review; ASAP; ongoing; by the end of the spring term; w/c 12 April.",
]
PATTERNS: dict[str, Anchored] = {
    **{f"context.{name}": anchored for name, anchored in context.TRIGGERS.items()},
    **{f"timescales.{name}": anchored for name, anchored in timescales.ANCHORED.items()},
    "checks._VOICE": checks._VOICE,
    "checks._CHANGE": checks._CHANGE,
}


def _indexes(text: str) -> list[WordIndex]:
    return [WordIndex.from_text(fold(text))]


def _same(anchored: Anchored, text: str) -> None:
    folded = fold(text)
    expected = anchored.pattern.search(folded)
    for index in _indexes(text):
        found = anchored.search(folded, index)
        assert (found is None) == (expected is None), (anchored.pattern.pattern[:60], text[:80])
        if found is not None and expected is not None:
            assert found.span() == expected.span(), (anchored.pattern.pattern[:60], text[:80])


@pytest.mark.parametrize("name", list(PATTERNS))
def test_anchored_equals_plain_search_on_samples(name: str) -> None:
    for text in TEXTS + CRAFTED:
        _same(PATTERNS[name], text)
        # and on every sentence-sized window, where first matches differ more often
        for start in range(0, len(text), 97):
            _same(PATTERNS[name], text[start : start + 160])


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(" ".join(CRAFTED + TEXTS[:5]).split())
        | st.sampled_from(["[NAME]", "won't", "I'm", "(SW)", "-", ","]),
        max_size=25,
    ).map(" ".join)
)
def test_anchored_equals_plain_search_on_shuffled_words(text: str) -> None:
    for anchored in PATTERNS.values():
        _same(anchored, text)

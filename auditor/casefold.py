"""Case-insensitive matching, fast: fold the text once, match lower-case patterns against it.

Python's `re.IGNORECASE` folds every character at every attempt, which made the engine's
keyword patterns two to three times slower (measured on the sample corpus). Instead each record's
text is folded once, keeping every character's offset, and patterns are compiled in lower case.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable
from typing import Any


def fold(text: str) -> str:
    """Lower-case text with the same length, so every offset still points at the same character."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case to two ('İ' -> 'i̇'); leave those as they are.
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def _lower_pattern(pattern: str) -> str:
    out: list[str] = []
    escaped = False
    for ch in pattern:
        if escaped:
            out.append(ch)  # \S, \W, \D, \B, \A, \Z keep their meaning
            escaped = False
        elif ch == "\\":
            out.append(ch)
            escaped = True
        else:
            out.append(ch.lower())
    # Named groups keep their syntax: "(?P<name>" and "(?P=name)".
    return "".join(out).replace("(?p<", "(?P<").replace("(?p=", "(?P=")


def ci(pattern: str, *flags: Any) -> re.Pattern[str]:
    """Compile a case-insensitive pattern for use on `fold`ed text (an IGNORECASE flag is dropped)."""
    combined = 0
    for flag in flags:
        combined |= int(flag)
    return re.compile(_lower_pattern(pattern), combined & ~re.IGNORECASE)


_WORD = re.compile(r"\[?[a-z]+|\d+")

# Every word an anchored pattern may begin with; the index keeps only these.
VOCABULARY: set[str] = set()


def register(words: Iterable[str]) -> frozenset[str]:
    """Declare words that anchored patterns begin with; returns them as a frozenset."""
    found = frozenset(words)
    VOCABULARY.update(found)
    return found


class WordIndex:
    """Where each word of a folded text starts: built once, shared by every anchored pattern.

    A keyword pattern run with `search` tries every character of the text; anchored at the
    starts of its possible first words it tries a handful (measured: the engine's slowest
    whole-text scans became its cheapest)."""

    def __init__(self, positions: dict[str, list[int]], numbers: list[int]) -> None:
        self.positions = positions
        self.numbers = numbers
        self._merged: dict[tuple[frozenset[str], bool], list[int]] = {}

    @classmethod
    def from_text(cls, folded: str) -> WordIndex:
        """By one regular-expression pass over the folded text, keeping only VOCABULARY words.
        (Built from the spaCy Doc's token arrays instead, it measured half as fast again.)"""
        positions: dict[str, list[int]] = {}
        numbers: list[int] = []
        for match in _WORD.finditer(folded):
            word = match.group()
            if word[0].isdigit():
                numbers.append(match.start())
            elif word in VOCABULARY:
                found = positions.get(word)
                if found is None:
                    positions[word] = [match.start()]
                else:
                    found.append(match.start())
        return cls(positions, numbers)

    def starts(self, words: frozenset[str], numbers: bool = False) -> list[int]:
        """Sorted start offsets of any of `words` (and of every number, if asked)."""
        key = (words, numbers)
        merged = self._merged.get(key)
        if merged is None:
            positions = self.positions
            lists = [positions[w] for w in positions.keys() & words]  # a set intersection, in C
            if numbers:
                lists.append(self.numbers)
            merged = sorted(itertools.chain.from_iterable(lists)) if len(lists) != 1 else lists[0]
            self._merged[key] = merged
        return merged


class Anchored:
    """A case-insensitive pattern tried only where one of its possible first words starts.

    `first_words` must hold every word a match can begin with (a test checks each anchored
    pattern against its plain `search` over the sample records and random text)."""

    def __init__(self, pattern: str | re.Pattern[str], first_words: str | Iterable[str], numbers: bool = False) -> None:
        """`pattern` is a case-insensitive pattern, or one already compiled with `ci`;
        `first_words` a space-separated string or a collection of words."""
        self.pattern = pattern if isinstance(pattern, re.Pattern) else ci(pattern)
        self.first_words = register(first_words.split() if isinstance(first_words, str) else first_words)
        self.numbers = numbers

    def finditer(self, text: str, index: WordIndex) -> list[re.Match[str]]:
        """Every match, in order of start (matches may overlap)."""
        found = []
        for position in index.starts(self.first_words, self.numbers):
            match = self.pattern.match(text, position)
            if match is not None:
                found.append(match)
        return found

    def search(self, text: str, index: WordIndex, start: int = 0, end: int | None = None) -> re.Match[str] | None:
        """The first match that starts and ends within text[start:end]."""
        stop = len(text) if end is None else end
        starts = index.starts(self.first_words, self.numbers)
        for cursor in range(bisect.bisect_left(starts, start), len(starts)):  # no slice: no copy
            position = starts[cursor]
            if position >= stop:
                return None
            match = self.pattern.match(text, position, stop)
            if match is not None:
                return match
        return None

"""The classifier's features, computed from spaCy tokens rather than from raw strings.

scikit-learn's text vectorizers rebuild every character n-gram of every text in Python, which
cost the full audit more than the rules did. Here each distinct word is analysed once: its
character n-grams and its hash are cached by spaCy's lower-case hash, so a text's features are
a few dictionary lookups per token plus vectorised arithmetic for the word pairs. The engine
passes the tokens of its own Doc (`Words.from_doc`), so no text is tokenized twice.

Features are hashed into a fixed number of columns (murmurhash3, seed 0, stable across runs and
machines); TF-IDF weighting and normalisation stay in scikit-learn (`TfidfTransformer`) inside
the same pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import murmurhash3_32
from spacy.attrs import IDX, LOWER
from spacy.strings import StringStore
from spacy.tokens import Doc

# The multiplier that mixes two word hashes into the hash of the pair (odd, so it is invertible
# modulo 2**64; the golden-ratio constant spreads nearby values apart).
_PAIR = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Words:
    """A text as its tokens' lower-case hashes, with the strings that name them."""

    ids: np.ndarray  # uint64, one per token
    strings: StringStore

    def text(self, key: int) -> str:
        return str(self.strings[key])

    @classmethod
    def from_text(cls, text: str) -> Words:
        doc = _tokenizer()(text)
        return cls(doc.to_array(LOWER), doc.vocab.strings)

    @classmethod
    def from_doc(cls, doc: Doc, spans: Sequence[tuple[int, int]]) -> list[Words]:
        """The tokens starting inside each character span of the Doc."""
        table = doc.to_array([LOWER, IDX])
        lower, starts = table[:, 0], table[:, 1].astype(np.int64)
        if not len(starts):
            return [cls(lower[:0], doc.vocab.strings) for _ in spans]
        bounds = np.searchsorted(starts, np.asarray(spans, dtype=np.int64).reshape(-1, 2))
        return [cls(lower[a:b], doc.vocab.strings) for a, b in bounds.tolist()]


def keys_touching(doc: Doc, spans: Sequence[tuple[int, int]]) -> frozenset[int]:
    """The lower-case keys of every token that overlaps one of the character spans (a token that
    starts before a span but runs into it included), e.g. the tokens of personal data."""
    if not spans or not len(doc):
        return frozenset()
    table = doc.to_array([LOWER, IDX])
    starts = table[:, 1].astype(np.int64)
    keys: set[int] = set()
    for start, end in spans:
        first = max(int(np.searchsorted(starts, start, side="right")) - 1, 0)
        last = int(np.searchsorted(starts, end, side="left"))
        keys.update(table[first:last, 0].tolist())
    return frozenset(keys)


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import spacy

    return spacy.blank("en").tokenizer


def as_words(items: Iterable[str | Words]) -> list[Words]:
    return [item if isinstance(item, Words) else Words.from_text(item) for item in items]


def _hash(feature: str) -> int:
    """A stable 32-bit hash (murmurhash3, seed 0): the same in every process and machine."""
    return int(murmurhash3_32(feature, seed=0, positive=True))


def _is_word(text: str) -> bool:
    return not text.isspace()


def _shape(text: str) -> str | None:
    """A number's shape ("dd.dd.dd" for 31.12.20), so that unseen dates look like seen ones."""
    if not any(c.isdigit() for c in text):
        return None
    return "#" + "".join("d" if c.isdigit() else "x" if c.isalpha() else c for c in text)


# Per-process caches, keyed by spaCy's lower-case hash (the same for a word in every Doc).
# word -> (hash of the word or -1 for whitespace, hash of its number shape or -1)
_LEXEME: dict[int, tuple[int, int]] = {}
# (low, high, n_features) -> word -> its character n-grams' columns
_CHAR_COLUMNS: dict[tuple[int, int, int], dict[int, np.ndarray]] = {}
# (low, high, n_features) -> word -> {column: index of its first n-gram}, for explanations
_CHAR_INDEX: dict[tuple[int, int, int], dict[int, dict[int, int]]] = {}
_MASK = (1 << 64) - 1


class _Batch:
    """The tokens of a batch of texts, flattened, with each distinct word looked up once."""

    def __init__(self, items: Iterable[str | Words]) -> None:
        words = as_words(items)
        self.size = len(words)
        lengths = np.fromiter((len(w.ids) for w in words), dtype=np.int64, count=len(words))
        ids = np.concatenate([w.ids for w in words]) if words else np.zeros(0, dtype=np.uint64)
        self.row = np.repeat(np.arange(len(words)), lengths)  # each token's text
        self.unique, self.inverse = np.unique(ids, return_inverse=True)
        self._stores = list({id(w.strings): w.strings for w in words}.values())

    def text(self, key: int) -> str:
        for strings in self._stores[:-1]:
            try:
                return str(strings[key])
            except KeyError:
                continue
        return str(self._stores[-1][key])  # every id came from one of the stores

    def lexemes(self) -> tuple[np.ndarray, np.ndarray]:
        """Each token's word hash and shape hash (-1 where there is none)."""
        found = [_lexeme_of(key, self.text) for key in self.unique.tolist()]
        table = np.asarray(found, dtype=np.int64).reshape(-1, 2)
        return table[self.inverse, 0], table[self.inverse, 1]


def _lexeme_of(key: int, text: Callable[[int], str]) -> tuple[int, int]:
    """A word's hash and its number shape's hash (-1 where there is none), cached by its key."""
    value = _LEXEME.get(key)
    if value is None:
        word = text(key)
        shape = _shape(word)
        value = _LEXEME[key] = (_hash(word) if _is_word(word) else -1, _hash(shape) if shape else -1)
    return value


def _pair(first: int, second: int) -> int:
    """The hash of a word pair from its words' hashes, as WordHasher.transform computes it."""
    return ((first * int(_PAIR)) & _MASK) ^ second


class WordHasher(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Counts of word 1-grams, adjacent word 2-grams and the shapes of numbers, hashed into
    `n_features` columns. Punctuation counts as a word ("|" and "-" mark table rows); whitespace
    does not."""

    def __init__(self, n_features: int = 1 << 18, shapes: bool = True) -> None:
        self.n_features = n_features
        self.shapes = shapes

    def fit(self, X: Any, y: Any = None) -> WordHasher:
        return self

    def transform(self, X: Iterable[str | Words]) -> sp.csr_matrix:
        return self.counts(X)

    def counts(self, X: Iterable[str | Words]) -> sp.csr_matrix:
        """`transform`, without the output wrapper scikit-learn puts around every `transform`
        (a tenth of a millisecond a call, which a single-record request pays several times)."""
        batch = _Batch(X)
        word, shape = batch.lexemes()
        kept = word >= 0
        h, row = word[kept].astype(np.uint64), batch.row[kept]
        same = row[:-1] == row[1:]
        with np.errstate(over="ignore"):
            pairs = (h[:-1][same] * _PAIR) ^ h[1:][same]
        rows = [row, row[:-1][same]]
        columns = [h, pairs]
        if self.shapes:
            has_shape = shape >= 0
            rows.append(batch.row[has_shape])
            columns.append(shape[has_shape].astype(np.uint64))
        n = np.uint64(self.n_features)
        return _counts(np.concatenate(rows), np.concatenate(columns) % n, batch.size, self.n_features)

    def names(self, words: Words, wanted: set[int], hidden: frozenset[int] = frozenset()) -> dict[int, str]:
        """Readable names for those of the `wanted` columns that these words produce, never
        naming a column by a `hidden` word (a number is named by its shape)."""
        n = self.n_features
        keys = [key for key in words.ids.tolist() if _lexeme_of(key, words.text)[0] >= 0]
        out: dict[int, str] = {}
        for i, key in enumerate(keys):
            word, shape = _LEXEME[key]
            if self.shapes and shape >= 0 and shape % n in wanted and shape % n not in out:
                out[shape % n] = str(_shape(words.text(key)))[1:]
            if key in hidden:
                continue
            if word % n in wanted and word % n not in out:
                out[word % n] = words.text(key)
            if i + 1 < len(keys) and keys[i + 1] not in hidden:
                pair = _pair(word, _LEXEME[keys[i + 1]][0]) % n
                if pair in wanted and pair not in out:
                    out[pair] = f"{words.text(key)} {words.text(keys[i + 1])}"
        return out


class CharHasher(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Counts of character n-grams inside word boundaries (each word padded with a space on each
    side, as scikit-learn's `char_wb`), hashed into `n_features` columns."""

    def __init__(self, low: int = 2, high: int = 4, n_features: int = 1 << 18) -> None:
        self.low = low
        self.high = high
        self.n_features = n_features

    def fit(self, X: Any, y: Any = None) -> CharHasher:
        return self

    def _grams(self, text: str) -> list[str]:
        if not _is_word(text):
            return []
        padded = f" {text} "
        return [padded[i : i + n] for n in range(self.low, self.high + 1) for i in range(len(padded) - n + 1)]

    def transform(self, X: Iterable[str | Words]) -> sp.csr_matrix:
        return self.counts(X)

    def counts(self, X: Iterable[str | Words]) -> sp.csr_matrix:
        """`transform`, without scikit-learn's output wrapper (see `WordHasher.counts`)."""
        batch = _Batch(X)
        per_word = [self._word_columns(key, batch.text) for key in batch.unique.tolist()]
        if not per_word:
            return _counts(batch.row[:0], batch.row[:0], batch.size, self.n_features)
        # Every token's n-gram columns, gathered from its word's cached columns in one step.
        lengths = np.fromiter((len(c) for c in per_word), dtype=np.int64, count=len(per_word))
        starts = np.zeros(len(per_word), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        flat = np.concatenate(per_word)
        inverse = batch.inverse.ravel()
        token_lengths = lengths[inverse]
        total = int(token_lengths.sum())
        token_ends = np.cumsum(token_lengths)
        offsets = np.repeat(starts[inverse] - (token_ends - token_lengths), token_lengths)
        columns = flat[offsets + np.arange(total, dtype=np.int64)]
        return _counts(np.repeat(batch.row, token_lengths), columns, batch.size, self.n_features)

    def _word_columns(self, key: int, text: Callable[[int], str]) -> np.ndarray:
        cache = _CHAR_COLUMNS.setdefault((self.low, self.high, self.n_features), {})
        columns = cache.get(key)
        if columns is None:
            grams = self._grams(text(key))
            columns = cache[key] = np.asarray([_hash(g) % self.n_features for g in grams], dtype=np.int64)
        return columns

    def names(self, words: Words, wanted: set[int], hidden: frozenset[int] = frozenset()) -> dict[int, str]:
        """Readable names for those of the `wanted` columns that these words produce, never
        naming a column by a `hidden` word."""
        index = _CHAR_INDEX.setdefault((self.low, self.high, self.n_features), {})
        out: dict[int, str] = {}
        for key in dict.fromkeys(words.ids.tolist()):
            if key in hidden:
                continue
            where = index.get(key)
            if where is None:
                columns = self._word_columns(key, words.text).tolist()
                # Each column's first n-gram in the word (reversed, so that the first one stays).
                where = index[key] = dict(zip(reversed(columns), range(len(columns) - 1, -1, -1), strict=True))
            for column in wanted & where.keys():
                if column not in out:
                    out[column] = self._gram(words.text(key), where[column])
        return out

    def _gram(self, text: str, index: int) -> str:
        """`self._grams(text)[index]`, without building the list."""
        padded = f" {text} "
        for n in range(self.low, self.high + 1):
            count = len(padded) - n + 1
            if index < count:
                return padded[index : index + n]
            index -= count
        raise IndexError(index)


def _counts(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_features: int) -> sp.csr_matrix:
    """A CSR matrix counting each (row, column) pair, its columns sorted within each row. Built
    directly (one sort of the pairs) rather than through scipy's COO conversion and duplicate
    summing, whose fixed costs dominated a single record's features."""
    keys = rows.astype(np.int64) * n_features + columns.astype(np.int64)
    unique, counts = np.unique(keys, return_counts=True)
    row_of = unique // n_features
    index = np.int32 if max(len(unique), n_features) < 2**31 else np.int64
    indptr = np.searchsorted(row_of, np.arange(n_rows + 1, dtype=np.int64))
    return sp.csr_matrix(
        (counts.astype(np.float64), (unique % n_features).astype(index), indptr.astype(index)),
        shape=(n_rows, n_features),
    )

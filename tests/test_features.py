"""The classifier's features (auditor.features): counts over spaCy's tokens, the same whether a
text comes as a string or as a span of the engine's Doc, and alone or in a batch."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils import murmurhash3_32

from auditor.bench import sample_corpus
from auditor.classifier import Scorer, load
from auditor.engine import Auditor
from auditor.features import CharHasher, WordHasher, Words
from auditor.pipeline import facts

TEXTS = [
    "SW to visit by 31.12.20 | weekly",
    "Parents to demonstrate that they can meet the children's needs",
    "",
    "   ",
    "Mum   to attend\n\nevery Tuesday",
    "FSW/TM to review ASAP!",
]


def test_word_features_count_words_pairs_and_number_shapes() -> None:
    row = WordHasher().transform(["SW to visit by 31.12.20 | weekly"])
    # 7 tokens (the bar counts, as it marks a table row), 6 adjacent pairs, 1 number shape.
    assert row.sum() == 7 + 6 + 1
    assert row[0, murmurhash3_32("weekly", seed=0, positive=True) % (1 << 18)] == 1
    assert row[0, murmurhash3_32("#dd.dd.dd", seed=0, positive=True) % (1 << 18)] == 1


def test_whitespace_is_not_a_word() -> None:
    assert WordHasher().transform(["   ", ""]).nnz == 0
    assert CharHasher().transform(["\n\n"]).nnz == 0


def test_character_features_match_scikit_learns_char_wb_on_plain_words() -> None:
    text = "mum will attend every session of the parenting course"
    reference = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit([text])
    counts = reference.transform([text]).toarray()[0]
    expected = np.zeros(1 << 18)
    for gram, count in zip(reference.get_feature_names_out(), counts, strict=True):
        expected[murmurhash3_32(str(gram), seed=0, positive=True) % (1 << 18)] += count
    assert np.array_equal(CharHasher().transform([text]).toarray()[0], expected)


@pytest.mark.parametrize("hasher", [WordHasher(), CharHasher()], ids=["words", "chars"])
def test_a_text_has_the_same_features_alone_and_in_a_batch(hasher) -> None:  # type: ignore[no-untyped-def]
    together = hasher.transform(TEXTS).toarray()
    for i, text in enumerate(TEXTS):
        assert np.array_equal(hasher.transform([text]).toarray()[0], together[i])


def test_spans_of_the_engines_doc_have_the_tokens_of_the_text_alone() -> None:
    auditor = Auditor(models=None)
    compared = 0
    for record in sample_corpus():
        doc = auditor.parse(record)
        if not facts(doc).units:
            continue
        spans = [(u.start, u.end) for u in facts(doc).units]
        for (start, end), words in zip(spans, Words.from_doc(doc, spans), strict=True):
            assert np.array_equal(words.ids, Words.from_text(record.text[start:end]).ids)
            compared += 1
    assert compared > 300


def test_an_empty_doc_gives_empty_spans() -> None:
    doc = Auditor(models=None).nlp.make_doc("")
    assert [len(w.ids) for w in Words.from_doc(doc, [(0, 0), (0, 5)])] == [0, 0]


def test_explanations_name_words_and_sequences_of_the_text_itself() -> None:
    models = load()
    text = "Parents to demonstrate that they can meet the children's needs"
    lowered = text.lower()
    for target in range(4):
        pushed = Scorer.of(models.actions).explain(text, target)
        assert pushed
        for name in pushed:
            shown = name.strip("…").replace(" 's", "'s")
            assert shown in lowered, name


def test_hidden_words_are_never_named_in_an_explanation() -> None:
    from auditor.features import keys_touching
    from auditor.records import Record

    text = "Actions\n- Mum to phone Mrs Kayleigh on 07700 900123 and meet the children's needs."
    doc = Auditor(models=None).parse(Record(id="p", record_type="plan", plan_type="cin", text=text))
    hidden = keys_touching(doc, [(p.start, p.end) for p in facts(doc).personal_data])
    assert {doc.vocab.strings[k] for k in hidden} == {"kayleigh", "07700", "900123"}
    words = Words.from_doc(doc, [(10, len(text))])[0]
    models = load()
    everything = Scorer.of(models.actions).explain(words, 0, top=500)
    shown = Scorer.of(models.actions).explain(words, 0, top=500, hidden=hidden)
    others = "mum to phone mrs on and meet the children 's needs ."
    leaked = [n for n in everything if n.strip("…") not in others and not set(n.strip("…")) <= set("d ")]
    assert leaked  # without `hidden`, fragments of the name and number are named...
    assert not [n for n in shown if n.strip("…") not in others and not set(n.strip("…")) <= set("d ")]

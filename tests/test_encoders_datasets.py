import numpy as np
import pytest

from dcai_lab import datasets, encoders


def test_tokenizer_drops_html_breaks_and_keeps_contractions():
    assert encoders.tokenize("Great<br /><br />film, DON'T miss it!") == ["great", "film", "don't", "miss", "it"]


def test_vocabulary_is_deterministic_and_encodes_sorted_unique_indices():
    texts = ["b a c", "a b", "a d", "c c c"]
    enc = encoders.Vocabulary(k=3).fit(texts)
    assert enc.words_ == ["c", "a", "b"]  # by count, ties alphabetical
    assert enc.encode_one("b b a zzz") == [1, 2]
    assert enc.encode_one("nothing known") == []
    assert [x.tolist() for x in enc.transform(["c a", "d"])] == [[0, 1], []]
    again = encoders.Vocabulary.from_json(enc.to_json())
    assert again.words_ == enc.words_ and again.encode_one("a c") == [0, 1]


def test_vocabulary_refuses_empty_training_text():
    with pytest.raises(ValueError, match="no words"):
        encoders.Vocabulary().fit(["", "!!"])


def test_median_binarizer():
    X = np.array([[1, 10], [2, 20], [3, 30]])
    enc = encoders.MedianBinarizer().fit(X)
    assert enc.encode_one([3, 5]) == [0]
    assert [r.tolist() for r in enc.transform(X)] == [[], [], [0, 1]]


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert datasets.data_dir() == tmp_path
    assert not datasets.has("imdb")
    with pytest.raises(datasets.DatasetNotFound, match=r"imdb/train.parquet"):
        datasets.load("imdb")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(datasets.DatasetNotFound, match="is not a directory"):
        datasets.data_dir()


def test_data_dir_defaults_to_the_checkout(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    assert datasets.data_dir() == datasets.REPO_DATA


@pytest.mark.skipif(not datasets.has("imdb", "test"), reason="IMDB not in the data directory (CI sets it)")
def test_imdb_loads_with_the_hub_schema():
    test = datasets.load("imdb", "test")
    assert test.num_rows == 25_000 and set(test.column_names) == {"text", "label"}
    assert sorted(set(test["label"])) == [0, 1]

import json
import shutil

import numpy as np
import pytest

from dcai_lab import datasets, encoders


# -- encoders -------------------------------------------------------------------------------------
def test_tokenizer_drops_html_breaks_and_keeps_contractions():
    assert encoders.tokenize("Great<br /><br />film, DON'T miss it!") == ["great", "film", "don't", "miss", "it"]
    assert encoders.ngrams(["a", "b", "c"], (1, 2)) == ["a", "b", "c", "a b", "b c"]


def test_vocabulary_is_deterministic_and_encodes_sorted_indices():
    texts = ["b a c", "a b", "a d", "c c c"]
    enc = encoders.Vocabulary(k=3).fit(texts)
    assert enc.words_ == ["c", "a", "b"]  # by count, ties alphabetical
    assert enc.encode_one("b b a zzz") == [1, 2]
    assert enc.encode_one("nothing known") == []
    assert [x.tolist() for x in enc.transform(["c a", "d"])] == [[0, 1], []]
    counts = encoders.Vocabulary(k=3, binary=False).fit(texts)
    assert counts.encode_one("b b a c") == [0, 1, 2, 2]  # repeated by count: Naive Bayes input
    pairs = encoders.Vocabulary(k=10, ngram_range=(1, 2)).fit(["good film", "good film", "bad film"])
    assert "good film" in pairs.words_ and pairs.encode_one("a good film")[:2] == [0, 1]


def test_vocabulary_refuses_empty_training_text():
    with pytest.raises(ValueError, match="no words"):
        encoders.Vocabulary().fit(["", "!!"])


def test_hashing_uses_unsigned_murmurhash3():
    enc = encoders.Hashing(n_features=2**20).fit()
    # MurmurHash3_x86_32("film", seed 0) = 0x... computed independently below
    assert enc.encode_one("film") == [_murmur3_32(b"film") % 2**20]
    assert enc.encode_one("film film") == enc.encode_one("film")
    assert encoders.Hashing(n_features=7, binary=False).encode_one("a a") == [_murmur3_32(b"a") % 7] * 2


def _murmur3_32(data: bytes, seed: int = 0) -> int:
    """Reference MurmurHash3 x86_32, written from the algorithm's description."""
    c1, c2, h = 0xCC9E2D51, 0x1B873593, seed
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF  # noqa: E731
    for i in range(0, len(data) // 4 * 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = rotl((k * c1) & 0xFFFFFFFF, 15) * c2 & 0xFFFFFFFF
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & 0xFFFFFFFF
    tail, k = data[len(data) // 4 * 4:], 0
    for j, b in enumerate(tail):
        k |= b << (8 * j)
    if tail:
        h ^= rotl((k * c1) & 0xFFFFFFFF, 15) * c2 & 0xFFFFFFFF
    h ^= len(data)
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def test_tabular_binarizer():
    rows = [{"age": 10.0, "sex": "f", "flag": 1}, {"age": 20.0, "sex": "m", "flag": 1},
            {"age": 30.0, "sex": "f", "flag": 0}, {"age": None, "sex": None, "flag": 1}]
    enc = encoders.TabularBinarizer(numeric=("age", "flag"), categorical=("sex",)).fit(rows)
    assert enc.feature_names_ == ["age>20", "flag>=1", "sex=f", "sex=m"]
    assert [x.tolist() for x in enc.transform(rows)] == [[1, 2], [1, 3], [0, 2], [1]]
    assert enc.encode_one({"age": 25, "sex": "x", "flag": 0}) == [0]  # unseen category sets nothing


def test_fixed_point_encoder():
    enc = encoders.FixedPoint(max_abs=3_000_000).fit([[1.0, 10.0], [3.0, 30.0], [2.0, 20.0]])
    assert enc.transform([[2.0, 20.0]]).tolist() == [[0, 0]]
    assert enc.encode_one([3.0, 30.0]) == [1_224_745, 1_224_745]
    assert enc.transform([[100.0, -100.0]]).tolist() == [[3_000_000, -3_000_000]]
    assert encoders.FixedPoint(norm="l2").fit([[3.0, 4.0]]).encode_one([3.0, 4.0]) == [600_000, 800_000]
    table = encoders.FixedPoint(columns=("a",)).fit([{"a": 1.0}, {"a": 3.0}])
    assert table.encode_one({"a": 3.0}) == [1_000_000]


@pytest.mark.parametrize("enc, sample", [
    (encoders.Vocabulary(k=5, binary=False, ngram_range=(1, 2)).fit(["a b c", "a b"]), "a b c d"),
    (encoders.Hashing(n_features=50, ngram_range=(1, 3)).fit(), "a b c d"),
    (encoders.TabularBinarizer(numeric=("x",), categorical=("c",)).fit([{"x": 1, "c": "u"}, {"x": 5, "c": "v"}]),
     {"x": 4, "c": "v"}),
    (encoders.FixedPoint().fit([[1.0, 2.0], [3.0, 5.0]]), [2.0, 2.0]),
])
def test_every_encoder_round_trips_through_json(enc, sample):
    back = encoders.from_json(enc.to_json())
    assert type(back) is type(enc) and back.encode_one(sample) == enc.encode_one(sample)
    assert json.loads(back.to_json()) == json.loads(enc.to_json())


def test_unknown_encoder_json():
    with pytest.raises(ValueError, match="unknown encoder type"):
        encoders.from_json('{"type": "Mystery"}')


# -- datasets -------------------------------------------------------------------------------------
def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    assert datasets.data_dir() == tmp_path
    assert not datasets.has("imdb")
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(datasets.DatasetNotFound, match="is not a directory"):
        datasets.data_dir()


def test_data_dir_defaults_to_the_checkout(monkeypatch):
    monkeypatch.delenv(datasets.ENV_VAR, raising=False)
    assert datasets.data_dir() == datasets.REPO_DATA


def test_offline_and_missing_fails_fast_naming_both_places(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def asked(*args):
        raise AssertionError("offline, yet the hub was asked")
    monkeypatch.setattr(datasets, "_load_from_hub", asked)
    monkeypatch.setattr(datasets, "_hub_reachable", asked)
    with pytest.raises(datasets.DatasetNotFound) as info:
        datasets.load("imdb", "test")
    message = str(info.value)
    assert str(tmp_path / "imdb" / "test.parquet") in message and "stanfordnlp/imdb" in message
    assert datasets.ENV_VAR in message


def test_hub_failure_names_both_places(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(var, raising=False)

    def unreachable(hub, split, streaming):
        raise ConnectionError(f"cannot reach the hub for {hub}")
    monkeypatch.setattr(datasets, "_hub_reachable", lambda: True)  # it answers, then the download fails
    monkeypatch.setattr(datasets, "_load_from_hub", unreachable)
    with pytest.raises(datasets.DatasetNotFound, match=r"sms_spam/train.parquet.*ucirvine/sms_spam.*ConnectionError"):
        datasets.load("sms_spam")
    with pytest.raises(datasets.DatasetNotFound, match="no hub copy"):
        datasets.load("titanic")


def test_unknown_dataset_and_split():
    with pytest.raises(ValueError, match="choose one of"):
        datasets.load("mnist-fashion")
    with pytest.raises(ValueError, match="not 'validation'"):
        datasets.load("breast_cancer", "validation")


def test_bundled_and_generated_datasets_need_no_files(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))
    for name, classes in [("breast_cancer", 2), ("digits", 10), ("wine", 3), ("fitness_synthetic", 2)]:
        train, test = datasets.load(name, "train"), datasets.load(name, "test")
        assert sorted(set(train["label"])) == list(range(classes))
        assert train.num_rows > 3 * test.num_rows > 0
    assert "SYNTHETIC" in datasets.task("fitness_synthetic").description


def test_hold_out_is_seeded_and_disjoint():
    a, b = datasets.load("wine", "test", seed=1), datasets.load("wine", "test", seed=1)
    assert a["alcohol"] == b["alcohol"]
    train = datasets.load("wine", "train", seed=1)
    rows = lambda ds: {tuple(r.values()) for r in ds.to_list()}  # noqa: E731
    assert not rows(a) & rows(train) and len(rows(a)) + len(rows(train)) == 178
    assert datasets.load("wine", "test", seed=2)["alcohol"] != a["alcohol"]


def test_streaming_gives_an_iterable_dataset():
    import datasets as hf

    ds = datasets.load("wine", "train", streaming=True)
    assert isinstance(ds, hf.IterableDataset) and "label" in next(iter(ds))


def test_provenance_mismatch_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "wine_copy"
    folder.mkdir()
    datasets.load("wine").to_parquet(folder / "train.parquet")
    entry = {"file": "wine_copy/train.parquet", "bytes": (folder / "train.parquet").stat().st_size, "sha256": "0" * 64}
    (tmp_path / "PROVENANCE.json").write_text(json.dumps({"files": [entry]}))
    datasets._provenance.cache_clear()
    with pytest.raises(datasets.DatasetIntegrityError, match="sha256"):
        datasets.verify(folder / "train.parquet")
    entry["bytes"] += 1
    (tmp_path / "PROVENANCE.json").write_text(json.dumps({"files": [entry]}))
    datasets._provenance.cache_clear()
    with pytest.raises(datasets.DatasetIntegrityError, match="bytes"):
        datasets.verify(folder / "train.parquet")
    datasets._provenance.cache_clear()


def test_every_task_has_a_card():
    for name in datasets.TASKS:
        card = datasets.REPO_DATA / f"{name}.md"
        assert card.is_file(), f"data/{name}.md is missing"
        text = card.read_text()
        for heading in ("Source", "Licence and citation", "Task", "Splits", "Encoder defaults"):
            assert f"## {heading}" in text, f"{card.name} lacks '## {heading}'"


@pytest.mark.skipif(not datasets.has("imdb", "test"), reason="IMDB not in the data directory (CI sets it)")
def test_imdb_loads_with_the_hub_schema_and_verified_files():
    test = datasets.load("imdb", "test")
    assert test.num_rows == 25_000 and set(test.column_names) == {"text", "label"}
    assert sorted(set(test["label"])) == [0, 1]
    assert datasets.verify(datasets.data_dir() / "imdb" / "test.parquet") is not None

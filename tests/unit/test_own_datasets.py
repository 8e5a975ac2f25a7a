"""Your own data: datasets.register and a config's [dataset] table. Every mistake is refused at registration
with the column or value named; a registered name works wherever a built-in's does."""
import hashlib

import numpy as np
import pandas as pd
import pytest

from dcai_lab import datasets, encoded, encoders
from dcai_lab.experiments import ExperimentConfig

from helpers import sms_frame, table_frame


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    """Each test registers into an empty registry and caches under its own folder."""
    monkeypatch.setattr(datasets, "REGISTERED", {})
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def sms_csv(tmp_path):
    path = tmp_path / "sms.csv"
    sms_frame().to_csv(path, index=False)
    return path


def register_sms(path, **changes):
    settings = {"text_column": "message", "label_column": "kind", "labels": ["ham", "spam"], **changes}
    return datasets.register("mysms", path, **settings)


# -- a registered name works where a built-in's does ------------------------------------------------------
def test_a_csv_text_dataset_loads_like_a_built_in(sms_csv):
    task = register_sms(sms_csv)
    assert datasets.task("mysms") is task and task.kind == "text" and task.labels == ("ham", "spam")
    assert datasets.has("mysms") and datasets.has("mysms", "test")
    train, test = datasets.load("mysms", "train"), datasets.load("mysms", "test")
    assert (train.num_rows, test.num_rows) == (96, 24)  # the built-ins' seeded 20% hold-out
    assert set(train["id"]).isdisjoint(test["id"]) and len(set(train["id"]) | set(test["id"])) == 120
    assert train["id"] != datasets.load("mysms", "train", seed=1)["id"] and train["id"] == datasets.load("mysms")["id"]
    for row in train:  # ham is class 0, spam class 1, as stated; the text is where a built-in's is
        assert row["label"] == ["ham", "spam"].index(row["kind"]) and row["text"] == row["message"]
    assert datasets.file_hashes("mysms") == {"sms.csv": hashlib.sha256(sms_csv.read_bytes()).hexdigest()}
    encoder = encoders.for_task(task, train)
    assert isinstance(encoder, encoders.Vocabulary) and "prize" in encoder.words_
    X, y = encoded.encode(task, encoder, test)
    assert len(X) == 24 and list(y) == test["label"]
    assert next(iter(datasets.load("mysms", "test", streaming=True)))["label"] in (0, 1)


def test_string_labels_take_the_stated_order(sms_csv):
    register_sms(sms_csv, labels=["spam", "ham"])
    rows = datasets.load("mysms").to_pandas()
    assert (rows["label"] == (rows["kind"] == "ham").astype(int)).all()
    assert datasets.task("mysms").labels == ("spam", "ham")


def test_integer_labels_need_no_labels_and_others_are_mapped(tmp_path):
    frame = sms_frame().assign(kind=lambda f: (f["kind"] == "spam").astype(int))
    frame.to_csv(tmp_path / "ints.csv", index=False)
    task = datasets.register("ints", tmp_path / "ints.csv", text_column="message", label_column="kind")
    assert task.labels == ("0", "1")
    rows = datasets.load("ints").to_pandas()
    assert (rows["label"] == rows["kind"]).all()
    frame.assign(kind=frame["kind"] + 1).to_csv(tmp_path / "ones.csv", index=False)
    with pytest.raises(datasets.DatasetError, match=r"holds the integers 1, 2.*labels=\[1, 2\]"):
        datasets.register("ones", tmp_path / "ones.csv", text_column="message", label_column="kind")
    datasets.register("ones", tmp_path / "ones.csv", text_column="message", label_column="kind", labels=[2, 1])
    rows = datasets.load("ones").to_pandas()
    assert (rows["label"] == (rows["kind"] == 1).astype(int)).all()  # 2 is class 0, 1 class 1


def test_a_test_file_is_the_test_split(tmp_path, sms_csv):
    sms_frame(30).assign(id=lambda f: f["id"] + 1000).to_csv(tmp_path / "sms_test.csv", index=False)
    task = register_sms(sms_csv, test=tmp_path / "sms_test.csv")
    assert not task.held_out
    assert datasets.load("mysms", "train").num_rows == 120
    assert sorted(datasets.load("mysms", "test")["id"]) == list(range(1000, 1030))
    assert set(datasets.file_hashes("mysms")) == {"sms.csv", "sms_test.csv"}


def test_a_tabular_dataframe_with_numeric_and_categorical_features():
    frame = table_frame()
    task = datasets.register("people", frame, label_column="outcome")
    assert task.kind == "tabular" and task.numeric == ("height", "weight") and task.categorical == ("colour",)
    frame.loc[:, "height"] = 0.0  # the registration copied the frame
    train = datasets.load("people")
    assert min(train["height"]) > 100 and train["label"] == train["outcome"]
    assert list(datasets.file_hashes("people")) == ["train (DataFrame)"]
    encoder = encoders.for_task(task, train)
    assert isinstance(encoder, encoders.TabularBinarizer) and encoder.n_features == 4  # 2 above-median + 2 colours
    listed = datasets.register("people", table_frame(), label_column="outcome", numeric="rest", categorical=["colour"])
    assert listed.numeric == ("height", "weight") and listed.categorical == ("colour",)
    only = datasets.register("people", table_frame(), label_column="outcome", numeric=["weight"])
    assert only.numeric == ("weight",) and only.categorical == ()


def test_parquet_and_tsv_files_register_like_csv(tmp_path):
    frame = table_frame(60)
    frame.to_parquet(tmp_path / "people.parquet")
    frame.to_csv(tmp_path / "people.tsv", sep="\t", index=False)
    for path in (tmp_path / "people.parquet", tmp_path / "people.tsv"):
        task = datasets.register(path.suffix[1:], path, label_column="outcome")
        assert task.numeric == ("height", "weight") and task.categorical == ("colour",)
        assert datasets.file_hashes(task.name) == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
        rows = pd.concat([datasets.load(task.name, split).to_pandas() for split in ("train", "test")])
        assert len(rows) == 60 and (rows["label"] == rows["outcome"]).all()


def test_a_dense_model_takes_a_numeric_table_and_refuses_categories():
    from dcai_lab.models import registry

    datasets.register("numbers", table_frame().drop(columns="colour"), label_column="outcome")
    encoder, X, y, X_test, y_test = encoded.encoded_splits("numbers", model="dense-perceptron")
    assert isinstance(encoder, encoders.FixedPoint) and len(X[0]) == 2
    datasets.register("mixed", table_frame(), label_column="outcome")
    with pytest.raises(ValueError, match="categorical columns \\(colour\\)"):
        registry.entry("dense-perceptron").check_task("mixed")


# -- every mistake refused at registration, naming the column or value ------------------------------------
def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("changes, error, message", [
    ({"text_column": "msg"}, datasets.DatasetError,
     r"no column 'msg' for the text.*did you mean 'message'.*its columns: 'id', 'message', 'kind'"),
    ({"label_column": "class"}, datasets.DatasetError, r"no column 'class' for the labels.*its columns: 'id', 'message'"),
    ({"labels": ["ham", "spa"]}, datasets.DatasetError, r"label 'spam' \(column 'kind', row 1\) is not one of the labels "
                                                       r"\['ham', 'spa'\]"),
    ({"labels": None}, datasets.DatasetError, r"holds text \('ham', 'spam'\).*labels=\['ham', 'spam'\] makes 'ham' class 0"),
    ({"labels": ["ham"]}, datasets.DatasetError, "at least two"),
    ({"labels": ["ham", "spam", "ham"]}, datasets.DatasetError, "names a class twice"),
    ({"kind": "image"}, datasets.DatasetError, "kind must be one of"),
    ({"numeric": ["id"]}, datasets.DatasetError, "a text dataset has no numeric"),
])
def test_a_wrong_setting_is_refused_by_name(sms_csv, changes, error, message):
    with pytest.raises(error, match=message):
        register_sms(sms_csv, **changes)
    assert "mysms" not in datasets.REGISTERED


def test_a_missing_or_unsupported_file_is_refused(tmp_path, sms_csv):
    with pytest.raises(datasets.DatasetNotFound, match=f"{tmp_path / 'smss.csv'} does not exist; {tmp_path} holds sms.csv"):
        register_sms(tmp_path / "smss.csv")
    write(tmp_path, "sms.xlsx", "x")
    with pytest.raises(datasets.DatasetError, match=r"unsupported file type '.xlsx'.*\.csv, \.tsv or \.parquet"):
        register_sms(tmp_path / "sms.xlsx")
    with pytest.raises(datasets.DatasetNotFound, match="nor does its folder"):
        register_sms(tmp_path / "nowhere" / "sms.csv")
    with pytest.raises(datasets.DatasetError, match="path of a CSV or Parquet file or a pandas DataFrame, got dict"):
        datasets.register("x", {"a": [1]})


@pytest.mark.parametrize("source", ["", "id,message,kind\n"], ids=["zero bytes", "header only"])
def test_an_empty_file_is_refused(tmp_path, source):
    with pytest.raises(datasets.DatasetError, match="is empty"):
        register_sms(write(tmp_path, "empty.csv", source))


def test_an_empty_frame_and_a_single_class_are_refused():
    with pytest.raises(datasets.DatasetError, match="the train DataFrame is empty"):
        datasets.register("none", table_frame().iloc[:0], label_column="outcome")
    with pytest.raises(datasets.DatasetError, match=r"only one class \('ham'\).*all 60 rows.*at least two"):
        datasets.register("hams", sms_frame()[lambda f: f["kind"] == "ham"], text_column="message", label_column="kind",
                          labels=["ham", "spam"])


def test_a_built_in_or_unusable_name_is_refused(sms_csv):
    with pytest.raises(datasets.DatasetError, match="'imdb' is a built-in dataset's: choose another name"):
        datasets.register("imdb", sms_csv, text_column="message", label_column="kind", labels=["ham", "spam"])
    with pytest.raises(datasets.DatasetError, match="dataset name 'my/sms'"):
        datasets.register("my/sms", sms_csv, text_column="message", label_column="kind", labels=["ham", "spam"])


def test_feature_mistakes_are_refused_by_column():
    frame = table_frame().assign(note="n/a")
    with pytest.raises(datasets.DatasetError, match=r"numeric feature column 'note' holds 'n/a' in row 0, not a number"):
        datasets.register("t", frame, label_column="outcome", numeric=["height", "note"])
    with pytest.raises(datasets.DatasetError, match="numeric feature column 'colour'"):
        datasets.register("t", frame, label_column="outcome", numeric="rest", categorical=["note"])
    with pytest.raises(datasets.DatasetError, match=r"no column 'hieght' for a numeric feature.*did you mean 'height'"):
        datasets.register("t", frame, label_column="outcome", numeric=["hieght"])
    with pytest.raises(datasets.DatasetError, match="'outcome' cannot be a numeric feature: it is the label column"):
        datasets.register("t", frame, label_column="outcome", numeric=["outcome"])
    with pytest.raises(datasets.DatasetError, match="'height' listed as both numeric and categorical"):
        datasets.register("t", frame, label_column="outcome", numeric=["height"], categorical=["height", "colour"])
    with pytest.raises(datasets.DatasetError, match="no feature columns"):
        datasets.register("t", frame[["outcome"]], label_column="outcome")
    with pytest.raises(datasets.DatasetError, match="column 'label' besides label_column 'outcome'"):
        datasets.register("t", frame.assign(label=1), label_column="outcome")


def test_the_test_split_is_checked_like_the_training_split(tmp_path, sms_csv):
    sms_frame(10).assign(kind="eggs").to_csv(tmp_path / "bad_labels.csv", index=False)
    with pytest.raises(datasets.DatasetError, match=r"bad_labels.csv: label 'eggs'.*not one of the labels \['ham', 'spam'\]"):
        register_sms(sms_csv, test=tmp_path / "bad_labels.csv")
    sms_frame(10).drop(columns="message").to_csv(tmp_path / "no_text.csv", index=False)
    with pytest.raises(datasets.DatasetError, match="no_text.csv has no column 'message'"):
        register_sms(sms_csv, test=tmp_path / "no_text.csv")
    frame = table_frame()
    with pytest.raises(datasets.DatasetError, match="test DataFrame has no column 'weight' for a feature"):
        datasets.register("t", frame, label_column="outcome", test=frame.drop(columns="weight"))


def test_missing_labels_and_texts_are_refused_with_their_rows(tmp_path):
    frame = sms_frame()
    frame.loc[[3, 7], "kind"] = None
    with pytest.raises(datasets.DatasetError, match=r"label column 'kind' is empty in 2 rows \(the first is row 3\)"):
        datasets.register("t", frame, text_column="message", label_column="kind", labels=["ham", "spam"])
    with pytest.raises(datasets.DatasetError, match=r"text column 'id' holds 0 in row 0, not text"):
        datasets.register("t", sms_frame(), text_column="id", label_column="kind", labels=["ham", "spam"])


# -- caches key on the content --------------------------------------------------------------------------
def test_re_registering_other_data_under_a_name_never_hits_a_stale_cache(tmp_path, sms_csv):
    register_sms(sms_csv)
    first = encoded.encoded_splits("mysms")
    assert len(list((tmp_path / "cache" / "encoded").glob("mysms-*.npz"))) == 1
    again = encoded.encoded_splits("mysms")  # the same data: from the cache
    assert again[0].to_json() == first[0].to_json() and np.array_equal(again[2], first[2])
    register_sms(sms_csv, labels=["spam", "ham"])  # the same file, the other class order
    flipped = encoded.encoded_splits("mysms")
    assert np.array_equal(flipped[2], 1 - first[2])
    sms_frame(60).to_csv(sms_csv, index=False)  # other content in the same file
    register_sms(sms_csv)
    smaller = encoded.encoded_splits("mysms")
    assert len(smaller[2]) == 48 and len(list((tmp_path / "cache" / "encoded").glob("mysms-*.npz"))) == 3


def test_registering_the_same_unchanged_file_again_reads_nothing(sms_csv, monkeypatch):
    first = register_sms(sms_csv)
    def read(*args, **kwargs):
        raise RuntimeError("read again")
    monkeypatch.setattr(datasets.own_data, "read", read)
    assert register_sms(sms_csv) is first
    with pytest.raises(RuntimeError, match="read again"):
        register_sms(sms_csv, labels=["spam", "ham"])


# -- configs ---------------------------------------------------------------------------------------------
def test_a_config_table_registers_a_file_relative_to_the_config(tmp_path, monkeypatch):
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    sms_frame().to_csv(folder / "data" / "messages.csv", index=False)
    (folder / "run.toml").write_text('name = "mine"\nmodel = "nb"\n\n[dataset]\npath = "data/messages.csv"\n'
                                     'text_column = "message"\nlabel_column = "kind"\nlabels = ["ham", "spam"]\n')
    monkeypatch.chdir(tmp_path)  # not the config's folder
    config = ExperimentConfig.from_toml(folder / "run.toml")
    assert config.dataset == "messages" and datasets.task("messages").labels == ("ham", "spam")
    assert config.dataset_source["path"] == str(folder / "data" / "messages.csv")
    monkeypatch.setattr(datasets, "REGISTERED", {})  # a fresh process (a sweep's worker) gets the config
    rebuilt = ExperimentConfig.from_dict({k: v for k, v in vars(config).items()})
    assert rebuilt.dataset == "messages" and datasets.load("messages").num_rows == 96


def test_a_config_table_with_a_mistake_is_refused(tmp_path, sms_csv):
    base = {"path": str(sms_csv), "text_column": "message", "label_column": "kind"}
    with pytest.raises(ValueError, match=r"holds text.*labels = \[...\] in a config's \[dataset\] table"):
        ExperimentConfig.from_dict({"dataset": base})
    with pytest.raises(ValueError, match=r"\[dataset\] has no setting 'label'; it takes name, path"):
        ExperimentConfig.from_dict({"dataset": {**base, "label": "kind"}})
    with pytest.raises(ValueError, match=r"\[dataset\] needs path"):
        ExperimentConfig.from_dict({"dataset": {"text_column": "message"}})
    with pytest.raises(ValueError, match="unknown dataset 'mysms'.*register your own"):
        ExperimentConfig.from_dict({"dataset": "mysms"})

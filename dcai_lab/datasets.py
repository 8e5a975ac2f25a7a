"""Datasets and their tasks: loading from the data directory, scikit-learn or the Hugging Face hub.

The data directory is ``$DCAI_LAB_DATA_DIR`` if set, otherwise ``data/`` of the checkout. It holds
Parquet files laid out as ``<folder>/<split>.parquet`` (see ``data/README.md``), checked against the
directory's ``PROVENANCE.json`` (size and sha256) when it has one. Every dataset is turned into a task:
a ``label`` column (0 .. n_classes-1) and, for text, a ``text`` column; the other columns are kept.
Datasets shipped with a single split get a seeded hold-out ``test`` split.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from . import settings

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
ENV_VAR = settings.DATA_DIR
HOLD_OUT = 0.2


class DatasetNotFound(FileNotFoundError):
    pass


class DatasetIntegrityError(ValueError):
    pass


@dataclass(frozen=True)
class Task:
    """How a dataset becomes a classification task."""

    name: str
    description: str
    kind: str  # "text" or "tabular"
    labels: tuple[str, ...]
    folder: str | None = None  # in the data directory
    hub: str | None = None  # Hugging Face hub name with the same schema
    splits: tuple[str, ...] = ("train", "test")  # what the source ships; a missing test is held out
    text_column: str | None = None
    label_column: str = "label"
    label_map: dict | None = None  # source label -> task label
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    synthetic: bool = False
    citation: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def held_out(self) -> bool:
        return "test" not in self.splits


TASKS = {t.name: t for t in [
    Task("imdb", "IMDB movie reviews: sentiment (Maas et al., ACL 2011)", "text", ("negative", "positive"),
         folder="imdb", hub="stanfordnlp/imdb", text_column="text"),
    Task("offensive", "Offensive tweets: hate speech or offensive (1) vs neither (0), as in earlier work "
         "(Davidson et al., ICWSM 2017)", "text", ("neither", "offensive"), folder="hate_speech_offensive",
         hub="tdavidson/hate_speech_offensive", splits=("train",), text_column="tweet", label_column="class",
         label_map={0: 1, 1: 1, 2: 0}),
    Task("fake_news", "LIAR political statements as the fake-news task: false, barely-true and pants-fire are "
         "unreliable (1); half-true, mostly-true and true are reliable (0) (Wang, ACL 2017)", "text",
         ("reliable", "unreliable"), folder="liar", hub="liar", splits=("train", "validation", "test"),
         text_column="statement", label_map={0: 1, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1}),
    Task("sms_spam", "SMS Spam Collection: spam (1) vs ham (0) (Almeida et al., 2011)", "text", ("ham", "spam"),
         folder="sms_spam", hub="ucirvine/sms_spam", splits=("train",), text_column="sms"),
    Task("rotten_tomatoes", "Rotten Tomatoes snippets: sentiment (Pang & Lee, ACL 2005)", "text",
         ("negative", "positive"), folder="rotten_tomatoes_polarity", hub="cornell-movie-review-data/rotten_tomatoes",
         splits=("train", "validation", "test"), text_column="text"),
    Task("sentiment_sentences", "UCI Sentiment Labelled Sentences (Amazon, IMDB, Yelp): sentiment "
         "(Kotzias et al., KDD 2015)", "text", ("negative", "positive"), folder="sentiment_labelled_sentences",
         splits=("train",), text_column="sentence"),
    Task("titanic", "Kaggle Titanic: survival", "tabular", ("died", "survived"), folder="titanic", splits=("train",),
         label_column="Survived", numeric=("Age", "SibSp", "Parch", "Fare"),
         categorical=("Pclass", "Sex", "Embarked")),
    Task("tic_tac_toe", "UCI Tic-Tac-Toe Endgame: x wins (1) or not (0)", "tabular", ("x does not win", "x wins"),
         folder="tic_tac_toe", splits=("train",),
         categorical=tuple(f"{r}_{c}_square" for r in ("top", "middle", "bottom") for c in ("left", "middle", "right"))),
    Task("spambase", "UCI Spambase: spam e-mail (1) from word and character frequencies", "tabular",
         ("not spam", "spam"), folder="spambase", splits=("train",), extra={"numeric": "all"}),
    Task("breast_cancer", "Wisconsin diagnostic breast cancer (scikit-learn bundled): benign (1) vs malignant (0)",
         "tabular", ("malignant", "benign"), splits=("train",), extra={"sklearn": "load_breast_cancer", "numeric": "all"}),
    Task("digits", "Handwritten digits 8x8 (scikit-learn bundled): ten classes", "tabular",
         tuple(str(d) for d in range(10)), splits=("train",), extra={"sklearn": "load_digits", "numeric": "all"}),
    Task("wine", "Wine recognition (scikit-learn bundled): three cultivars", "tabular", ("class 0", "class 1", "class 2"),
         splits=("train",), extra={"sklearn": "load_wine", "numeric": "all"}),
    Task("fitness_synthetic", "SYNTHETIC stand-in for the Endomondo fitness task: bike (1) vs run (0) from 9 "
         "binary heart-rate and speed summaries. Generated by dcai-lab, not real data.", "tabular", ("run", "bike"),
         splits=("train",), synthetic=True, extra={"numeric": "all"}),
]}


def data_dir() -> Path:
    """The configured data directory (it need not contain every dataset)."""
    configured = settings.data_dir()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise DatasetNotFound(f"{ENV_VAR}={configured} is not a directory: point it at the folder "
                                  "holding <dataset>/<split>.parquet, or unset it to use data/")
        return path
    return REPO_DATA


def task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(TASKS)}") from None


def has(name: str, split: str = "train") -> bool:
    """Whether ``name`` can be loaded without a network: bundled, generated, or in the data directory.
    A misconfigured data directory still raises."""
    t = task(name) if name in TASKS else Task(name, "", "text", (), folder=name)
    if t.folder is None:
        return True
    source = "train" if split not in t.splits else split
    return (data_dir() / t.folder / f"{source}.parquet").is_file()


def load(name: str, split: str = "train", streaming: bool = False, seed: int = 0, progress: bool = False):
    """The ``split`` of dataset ``name`` as a Hugging Face ``Dataset`` (``IterableDataset`` if streaming).

    Sources, in order: the data directory, scikit-learn's bundled data or the generator, the Hugging
    Face hub. Datasets with a single split are divided into ``train`` and a seeded ``test`` hold-out
    (20%), the same for the same ``seed``. The result has the task's ``label`` (and ``text``) columns.
    """
    import datasets as hf

    t = task(name)
    if split not in set(t.splits) | {"train", "test"}:
        raise ValueError(f"{name} has splits {', '.join(sorted(set(t.splits) | {'test'}))}, not {split!r}")
    was_enabled = hf.is_progress_bar_enabled()
    if not progress:
        hf.disable_progress_bars()
    try:
        source_split = split if split in t.splits else "train"
        ds = _source(t, source_split, streaming and not t.held_out)
        if t.held_out:
            parts = ds.train_test_split(test_size=HOLD_OUT, seed=seed)
            ds = parts["test" if split == "test" else "train"]
        ds = _as_task(t, ds)
        return ds.to_iterable_dataset() if streaming and not isinstance(ds, hf.IterableDataset) else ds
    finally:
        if was_enabled:
            hf.enable_progress_bars()


def _source(t: Task, split: str, streaming: bool):
    import datasets as hf

    if "sklearn" in t.extra:
        return hf.Dataset.from_pandas(_sklearn_frame(t), preserve_index=False)
    if t.synthetic:
        return hf.Dataset.from_pandas(fitness_synthetic(), preserve_index=False)
    path = data_dir() / t.folder / f"{split}.parquet"
    if path.is_file():
        verify(path)
        if streaming:
            return hf.load_dataset("parquet", data_files=str(path), split="train", streaming=True)
        return hf.Dataset.from_parquet(str(path))
    return _from_hub(t, split, streaming, path)


def _from_hub(t: Task, split: str, streaming: bool, tried: Path):
    fix = f"set {ENV_VAR} to a folder holding {t.folder}/{split}.parquet (for example ../shared/data)"
    if t.hub is None:
        raise DatasetNotFound(f"{t.name}: not found at {tried}, and it has no hub copy: {fix}")
    offline = settings.hub_offline()
    if offline:
        raise DatasetNotFound(f"{t.name}: not found at {tried}, and the Hugging Face hub ({t.hub}) is off "
                              f"(HF_HUB_OFFLINE/HF_DATASETS_OFFLINE): {fix}, or go online")
    try:
        return _load_from_hub(t.hub, split, streaming)
    except Exception as exc:  # any failure of the hub path ends in the same advice
        raise DatasetNotFound(f"{t.name}: not found at {tried}, and loading {t.hub} from the Hugging Face hub "
                              f"failed ({type(exc).__name__}: {exc}): {fix}, or check the connection") from exc


def _load_from_hub(hub: str, split: str, streaming: bool):
    import datasets as hf

    return hf.load_dataset(hub, split=split, streaming=streaming)


def _as_task(t: Task, ds):
    """Add the task's integer ``label`` (and ``text``) columns, keeping the source columns."""
    def convert(batch):
        out = {}
        source = batch[t.label_column]
        out["label"] = [int(t.label_map[v]) if t.label_map else int(v) for v in source]
        if t.text_column and t.text_column != "text":
            out["text"] = batch[t.text_column]
        return out

    if t.label_column == "label" and not t.label_map and t.text_column in (None, "text"):
        return ds
    return ds.map(convert, batched=True)


def _sklearn_frame(t: Task):
    import pandas as pd
    import sklearn.datasets as skd

    bunch = getattr(skd, t.extra["sklearn"])()
    frame = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
    frame["label"] = bunch.target.astype(np.int64)
    return frame


def feature_columns(t: Task, column_names) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numeric, categorical) input columns of a tabular task."""
    if t.extra.get("numeric") == "all":
        return tuple(c for c in column_names if c != "label"), ()
    return t.numeric, t.categorical


def fitness_synthetic(n: int = 10_000, seed: int = 20190729):
    """SYNTHETIC data in the shape of the Endomondo bike-vs-run task: 9 binary features summarising
    heart rate and speed. Generated from two simple latent profiles; it is a stand-in, not real data."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    bike = rng.random(n) < 0.5
    speed = np.where(bike, rng.normal(24, 6, n), rng.normal(11, 2.5, n))  # km/h
    heart = np.where(bike, rng.normal(135, 15, n), rng.normal(150, 13, n))  # beats per minute
    variability = np.where(bike, rng.normal(9, 3, n), rng.normal(6, 2, n))
    duration = np.where(bike, rng.normal(95, 35, n), rng.normal(50, 20, n))  # minutes
    frame = pd.DataFrame({
        "speed_mean_above_15": speed > 15, "speed_mean_above_20": speed > 20, "speed_max_above_30": speed + rng.normal(8, 3, n) > 30,
        "heart_mean_above_140": heart > 140, "heart_max_above_170": heart + rng.normal(22, 6, n) > 170,
        "heart_variability_high": variability > 7.5, "duration_above_60": duration > 60,
        "duration_above_120": duration > 120, "speed_variability_high": rng.random(n) < np.where(bike, 0.6, 0.35),
    }).astype(np.int64)
    frame["label"] = bike.astype(np.int64)
    return frame


# -- integrity -------------------------------------------------------------------------------------
@cache
def _provenance(directory: Path) -> dict:
    path = directory / "PROVENANCE.json"
    if not path.is_file():
        return {}
    return {f["file"]: f for f in json.loads(path.read_text()).get("files", [])}


@cache
def _sha256(path: Path, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path) -> str | None:
    """Check a data file against its directory's PROVENANCE.json; return its sha256 when listed."""
    root = path.parent.parent
    entry = _provenance(root).get(f"{path.parent.name}/{path.name}")
    if entry is None:
        return None
    stat = path.stat()
    if stat.st_size != entry["bytes"]:
        raise DatasetIntegrityError(f"{path} has {stat.st_size} bytes, PROVENANCE.json says {entry['bytes']}: "
                                    "the file is truncated or replaced; copy it again")
    digest = _sha256(path, stat.st_size, stat.st_mtime)
    if digest != entry["sha256"]:
        raise DatasetIntegrityError(f"{path} has sha256 {digest}, PROVENANCE.json says {entry['sha256']}: "
                                    "the file was changed; copy it again")
    return digest


def file_hashes(name: str) -> dict[str, str]:
    """sha256 of the data-directory files behind ``name`` (for results manifests)."""
    t = task(name)
    if t.folder is None:
        return {}
    folder = data_dir() / t.folder
    return {p.name: _sha256(p, p.stat().st_size, p.stat().st_mtime) for p in sorted(folder.glob("*.parquet"))}

"""Datasets and their tasks: loading from the data directory, scikit-learn or the Hugging Face hub, and
your own data registered by name (:func:`register`, or a config's ``[dataset]`` table).

The data directory is ``$DCAI_LAB_DATA_DIR`` if set, otherwise ``data/`` of a checkout, or for an installed
copy a per-user folder (:func:`default_data_dir`). It holds Parquet files laid out as
``<folder>/<split>.parquet`` (see ``data/README.md``), checked against the directory's ``PROVENANCE.json``
(size and sha256) when it has one. Every dataset is turned into a task: a ``label`` column
(0 .. n_classes-1) and, for text, a ``text`` column; the other columns are kept. Datasets shipped with a
single split get a seeded hold-out ``test`` split.
"""
from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from . import files, own_data, settings
from .own_data import DatasetError, DatasetNotFound  # noqa: F401  (the errors a dataset's user catches)

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
ENV_VAR = settings.DATA_DIR
HOLD_OUT = 0.2
#: Seconds the hub has to accept a connection before a missing dataset is refused as "hub unreachable".
HUB_TIMEOUT = 3.0
#: The keys of a config's ``[dataset]`` table (see :func:`register_table`).
TABLE_KEYS = ("name", "path", "test_path", "kind", "text_column", "label_column", "labels", "numeric", "categorical",
              "description")


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
    own: own_data.OwnData | None = field(default=None, compare=False, repr=False)  # a registered dataset's rows

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
#: Datasets registered in this process (:func:`register`), by name.
REGISTERED: dict[str, Task] = {}


def data_dir() -> Path:
    """The configured data directory (it need not contain every dataset)."""
    configured = settings.data_dir()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise DatasetNotFound(f"{ENV_VAR}={configured} is not a directory: point it at the folder "
                                  f"holding <dataset>/<split>.parquet, or unset it to use {default_data_dir()}")
        return path
    return default_data_dir()


def default_data_dir() -> Path:
    """The data directory when ``$DCAI_LAB_DATA_DIR`` is not set: ``data/`` of a checkout (recognised by its
    ``data/README.md``), otherwise, for an installed copy, a per-user folder (``~/.local/share/dcai-lab`` on
    Linux, ``~/Library/Application Support/dcai-lab`` on macOS, ``%LOCALAPPDATA%\\dcai-lab`` on Windows)."""
    if (REPO_DATA / "README.md").is_file():
        return REPO_DATA
    import platformdirs

    return Path(platformdirs.user_data_dir("dcai-lab", appauthor=False))


def _data_dir_named() -> str:
    """The data directory and why it is that one, for messages."""
    if settings.data_dir():
        return f"{data_dir()} (from ${ENV_VAR})"
    where = "data/ of this checkout" if default_data_dir() == REPO_DATA else "the per-user folder of an installed copy"
    return f"{data_dir()} (the default: {where}; ${ENV_VAR} is not set)"


def task(name: str) -> Task:
    """The task of a built-in or registered dataset."""
    found = TASKS.get(name) or REGISTERED.get(name)
    if found is None:
        registered = f"; registered: {', '.join(REGISTERED)}" if REGISTERED else ""
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(TASKS)}{registered}; or register your "
                         "own: dcai_lab.datasets.register(name, \"file.csv\", ...) in Python, a [dataset] table with "
                         "path = \"file.csv\" in a config")
    return found


def has(name: str, split: str = "train") -> bool:
    """Whether ``name`` can be loaded without a network: bundled, generated, registered, or in the data
    directory. A misconfigured data directory still raises."""
    t = task(name) if name in TASKS or name in REGISTERED else Task(name, "", "text", (), folder=name)
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

    if t.own is not None:
        return t.own.splits[split]
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
    missing = f"{t.name}: not found at {tried}; the data directory is {_data_dir_named()}"
    fix = (f"put {t.folder}/{split}.parquet there, or set {ENV_VAR} to a folder holding it "
           f"(export {ENV_VAR}=/path/to/data)")
    if t.hub is None:
        raise DatasetNotFound(f"{missing}. It has no hub copy: {fix}")
    if settings.hub_offline():
        raise DatasetNotFound(f"{missing}. The Hugging Face hub ({t.hub}) is off (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE): "
                              f"{fix}, or go online")
    address = hub_address()
    if not _hub_reachable():
        raise DatasetNotFound(f"{missing}. The Hugging Face hub ({address[0]}:{address[1]}) cannot be reached (no "
                              f"connection within {HUB_TIMEOUT:g} s), so {t.hub} cannot be downloaded: {fix}, or go online "
                              "(HF_HUB_OFFLINE=1 says so at once)")
    try:
        return _load_from_hub(t.hub, split, streaming)
    except Exception as exc:  # any failure of the hub path ends in the same advice
        raise DatasetNotFound(f"{missing}. Loading {t.hub} from the Hugging Face hub failed "
                              f"({type(exc).__name__}: {exc}): {fix}, or check the connection") from exc


def hub_address() -> tuple[str, int]:
    """Where a connection to the hub goes: ``$HF_ENDPOINT`` (default huggingface.co), or the proxy that
    requests to it go through."""
    endpoint = settings.hub_endpoint()
    endpoint = endpoint if "://" in endpoint else f"https://{endpoint}"
    url = urlsplit(settings.proxy_for(endpoint) or endpoint)
    return url.hostname or "", url.port or (80 if url.scheme == "http" else 443)


def _hub_reachable() -> bool:
    return reachable(*hub_address(), HUB_TIMEOUT)


@cache
def reachable(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` accepts a TCP connection within ``timeout`` seconds, name resolution included;
    asked once per process (a dead network fails at once the next time)."""
    answered = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            answered.append(True)
        except OSError:
            pass
    attempt = threading.Thread(target=connect, daemon=True)  # daemon: a resolver that hangs keeps nothing alive
    attempt.start()
    attempt.join(timeout)
    return bool(answered)


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


def register(name: str, source, *, text_column: str | None = None, label_column: str = "label", labels=None,
             numeric=None, categorical=None, test=None, kind: str | None = None, description: str | None = None,
             base: Path | None = None) -> Task:
    """Register your own dataset under ``name``; it then works wherever a built-in's name does
    (:func:`load`, :func:`has`, the encoders' defaults, :func:`dcai_lab.encoded.encoded_splits`, experiment
    configs, :func:`dcai_lab.experiments.run`) in this process. Returns its :class:`Task`.

    ``source`` (and ``test``) is the path of a .csv, .tsv or .parquet file (relative to ``base``, default the
    working directory) or a pandas DataFrame (copied). A text dataset names its ``text_column``; a tabular
    one (``kind="tabular"``, the default without a ``text_column``) lists its ``numeric`` and ``categorical``
    feature columns, either may be ``"rest"`` (every other column), and both left out take every column but
    the label: numbers and booleans numeric, anything else categorical. ``label_column`` holds the labels:
    ``labels`` lists its values in class order (``labels=["ham", "spam"]``: ham is class 0, spam class 1);
    integer labels 0 .. k-1 need no ``labels``, and text labels are refused without them (the message gives
    the sorted values to copy). Without ``test`` the seeded 20% hold-out of the built-ins is the test split.

    Everything is checked now, and a mistake is refused with :class:`DatasetError` (a ValueError) naming the
    column or value and the fix: a missing column (listing those that exist), a label not in ``labels``,
    an empty table, a single class, a numeric feature holding text, a built-in's name, an unsupported file
    type; a missing file raises :class:`DatasetNotFound`. Registering a name again replaces it; caches of
    encoded data are keyed by the content (``file_hashes``) and this registration, never by the name alone.
    """
    own_data.check_name(name, TASKS)
    kind = kind or ("text" if text_column is not None else "tabular")
    if kind not in own_data.KINDS:
        raise DatasetError(f"kind must be one of {own_data.KINDS}, got {kind!r}")
    if kind == "tabular" and text_column is not None:
        raise DatasetError(f"a tabular dataset has no text_column (got {text_column!r}): leave it out, or say "
                           "kind=\"text\"")
    if kind == "text" and (numeric is not None or categorical is not None):
        raise DatasetError("a text dataset has no numeric or categorical columns: leave them out, or say "
                           "kind=\"tabular\" without a text_column")
    spec = {"source": _shown(source, base), "test": None if test is None else _shown(test, base), "kind": kind,
            "text_column": text_column, "label_column": label_column, "labels": own_data.plain(labels),
            "numeric": own_data.plain(numeric), "categorical": own_data.plain(categorical)}
    previous = REGISTERED.get(name)
    if previous is not None and previous.own.stamps and previous.own.spec["given"] == spec and \
            previous.own.stamps == tuple(_stamp(p) for p in (spec["source"], spec["test"]) if p):
        return previous  # the same files, unchanged, the same way: nothing to read again
    tables = {"train": own_data.read(source, "train", base)}
    if test is not None:
        tables["test"] = own_data.read(test, "test", base)
    train = tables["train"]
    text_column = (text_column or "text") if kind == "text" else None
    for table in tables.values():
        own_data.require(table, label_column, "the labels (label_column)")
        if text_column is not None:
            own_data.require(table, text_column, "the text (text_column)")
    own_data.check_reserved(train, label_column, text_column)
    order = own_data.classes(train, label_column, labels)
    if kind == "tabular":
        numeric, categorical = own_data.features(train, numeric, categorical, {label_column: "label column"})
    else:
        numeric, categorical = (), ()
    splits = {split: own_data.rows(table, split, label_column, order, text_column, numeric, categorical)
              for split, table in tables.items()}
    shown_by = {t.key: t for t in tables.values()}
    keys = {s: (t.key if len(shown_by) == len(tables) else t.shown) for s, t in tables.items()}
    own = own_data.OwnData(
        splits=splits, sha256={keys[s]: t.sha256 for s, t in tables.items()},
        spec={"given": spec, "classes": [own_data.as_text(v) for v in order], "numeric": list(numeric),
              "categorical": list(categorical)},
        stamps=tuple(t.stamp for t in tables.values()) if all(t.stamp for t in tables.values()) else None)
    registered = Task(name, description or f"your data: {train.shown}", kind,
                      tuple(own_data.as_text(v) for v in order), splits=tuple(splits),
                      text_column="text" if kind == "text" else None, numeric=numeric, categorical=categorical,
                      own=own)
    REGISTERED[name] = registered
    return registered


def register_table(table: dict, base: Path | None = None) -> Task:
    """Register the dataset a config's ``[dataset]`` table describes: ``path`` (and ``test_path``) relative
    to ``base`` (the config file's folder), ``name`` (default: the file's stem) and :func:`register`'s other
    settings under their names."""
    if not isinstance(table, dict):
        raise DatasetError(f"a [dataset] table is a table of settings, got {table!r}")
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        raise DatasetError(f"[dataset] has no setting {', '.join(map(repr, unknown))}; it takes {', '.join(TABLE_KEYS)}")
    if not isinstance(table.get("path"), str):
        raise DatasetError("[dataset] needs path = \"my.csv\": a .csv, .tsv or .parquet file, relative to the config "
                           f"file (got {table.get('path')!r})")
    settings_ = {k: v for k, v in table.items() if k not in ("name", "path", "test_path")}
    return register(table.get("name") or Path(table["path"]).stem, table["path"], test=table.get("test_path"),
                    base=base, **settings_)


def resolve_table(table, base: Path) -> dict:
    """A ``[dataset]`` table with its paths made absolute from ``base``; anything else unchanged."""
    if not isinstance(table, dict):
        return table
    return {k: str((Path(base) / Path(v).expanduser()).resolve()) if k in ("path", "test_path") and isinstance(v, str)
            else v for k, v in table.items()}


def identity(name: str):
    """What names the data behind ``name`` in cache keys: a built-in's name (its definition is code), or a
    registered dataset's name, content hashes and registration."""
    t = task(name)
    if t.own is None:
        return name
    return {"name": name, "sha256": t.own.sha256, "spec": t.own.spec}


def _shown(source, base: Path | None):
    if isinstance(source, (str, os.PathLike)):
        return str(((base or Path.cwd()) / Path(source).expanduser()).resolve())
    return f"<{type(source).__name__}>"


def _stamp(path: str):
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return (path, stat.st_size, stat.st_mtime_ns)


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
    digest = files.sha256(path)
    if digest != entry["sha256"]:
        raise DatasetIntegrityError(f"{path} has sha256 {digest}, PROVENANCE.json says {entry['sha256']}: "
                                    "the file was changed; copy it again")
    return digest


def file_hashes(name: str) -> dict[str, str]:
    """sha256 of the data-directory files behind ``name`` (for results manifests); for a registered dataset,
    of its files (or DataFrames' content)."""
    t = task(name)
    if t.own is not None:
        return dict(t.own.sha256)
    if t.folder is None:
        return {}
    folder = data_dir() / t.folder
    return {p.name: files.sha256(p) for p in sorted(folder.glob("*.parquet"))}

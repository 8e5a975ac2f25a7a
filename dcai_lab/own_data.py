"""Your own data: a table of labelled rows (a CSV, TSV or Parquet file, or a pandas DataFrame) read and
checked for :func:`dcai_lab.datasets.register`. Every mistake is refused here, at registration, naming the
column or value and the fix, so that nothing fails later in the middle of a run.

What a registration makes of a table: an integer ``label`` column (class 0 .. k-1, in the order of
``labels``), a ``text`` column for text, the feature columns for tables; the other columns are kept.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import files

SUFFIXES = (".csv", ".tsv", ".parquet")
KINDS = ("text", "tabular")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
REST = "rest"  # numeric = "rest" (or categorical = "rest"): every other column
SHOWN = 8  # values a message lists


class DatasetNotFound(FileNotFoundError):
    """A dataset or a file is not where it was looked for; the message names the place and the fix."""


class DatasetError(ValueError):
    """A dataset refused at registration; the message names the column or value and the fix."""


@dataclass(frozen=True)
class Table:
    """A table as read: its rows, the sha256 of its content, and how messages and manifests name it."""

    frame: object  # pandas DataFrame
    sha256: str
    shown: str  # in messages: the file's path, or "the train DataFrame"
    key: str  # in manifests: the file's name, or "train (DataFrame)"
    stamp: tuple | None = None  # a file's (path, size, mtime): unchanged means the same content


@dataclass(frozen=True)
class OwnData:
    """A registered dataset's rows and where they came from. ``splits`` holds ``train`` (and ``test``)
    as Hugging Face Datasets, converted once at registration; ``sha256`` names each source's content for
    manifests; ``spec`` is the registration as JSON-able values (sources, columns, class order), which
    with ``sha256`` keys every cache of the data."""

    splits: dict = field(repr=False)
    sha256: dict
    spec: dict
    stamps: tuple | None = None  # every source a file: their stamps at registration


def check_name(name, taken) -> None:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise DatasetError(f"dataset name {name!r}: use letters, digits, '_', '-' and '.', starting with a letter "
                           "or digit (it names cache files and results)")
    if name in taken:
        raise DatasetError(f"dataset name {name!r} is a built-in dataset's: choose another name (built-ins: "
                           f"{', '.join(taken)})")


def read(source, split: str, base: Path | None = None) -> Table:
    """Read one split's source: a pandas DataFrame (copied: later changes to it change nothing) or the
    path of a .csv, .tsv or .parquet file (relative to ``base`` if given)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = _named(source.copy())
        shown = f"the {split} DataFrame"
        _non_empty(frame, shown)
        return Table(frame, frame_sha256(frame), shown, f"{split} (DataFrame)")
    if not isinstance(source, (str, os.PathLike)):
        raise DatasetError(f"the {split} source must be the path of a CSV or Parquet file or a pandas DataFrame, "
                           f"got {type(source).__name__}")
    path = ((base or Path.cwd()) / Path(source).expanduser()).resolve()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DatasetError(f"{path}: unsupported file type {path.suffix or '(no extension)'!r}: register a "
                           f"{', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} file, or read it with pandas and register the "
                           "DataFrame")
    if not path.is_file():
        raise DatasetNotFound(f"the {split} file {path} does not exist{_folder_holds(path)}")
    try:
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path} is empty: a dataset needs a header and labelled rows") from None
    except Exception as exc:  # the reader's own words say what is wrong in the file
        raise DatasetError(f"{path} cannot be read as {suffix[1:]} ({type(exc).__name__}: {exc})") from exc
    frame = _named(frame)
    _non_empty(frame, str(path))
    stat = path.stat()
    return Table(frame, files.sha256(path), str(path), path.name, (str(path), stat.st_size, stat.st_mtime_ns))


def frame_sha256(frame) -> str:
    """sha256 of a DataFrame's content: column names, types and values (not its index)."""
    import pandas as pd

    digest = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    try:
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists): their text
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


def require(table: Table, column, role: str) -> None:
    """Refuse a column the table lacks, listing the columns it has (and the nearest name)."""
    columns = [str(c) for c in table.frame.columns]
    if column in columns:
        return
    near = difflib.get_close_matches(str(column), columns, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise DatasetError(f"{table.shown} has no column {column!r} for {role}{hint}; its columns: "
                       f"{', '.join(map(repr, columns))}")


def classes(table: Table, column: str, labels=None) -> list:
    """The label values in class order (class 0 first): ``labels`` as given, checked against the column,
    or for integer labels without ``labels`` 0 .. k-1 as they are. Text labels need ``labels``."""
    values = table.frame[column]
    _no_missing(table, column, "label column")
    present = values.drop_duplicates().tolist()
    if labels is not None:
        labels = list(labels) if isinstance(labels, (list, tuple)) else labels
        if not isinstance(labels, list) or len(labels) < 2:
            raise DatasetError(f"labels must list the label values in class order, at least two, got {labels!r}")
        if len({as_text(v) for v in labels}) < len(labels):
            raise DatasetError(f"labels {labels!r} names a class twice: list each label value once")
        index_of(table, column, labels, present)
        return labels
    if all(_integral(v) for v in present):
        numbers = sorted(int(v) for v in present)
        if numbers != list(range(len(numbers))):
            raise DatasetError(f"{table.shown}: label column {column!r} holds the integers {_list(numbers)}; integer "
                               f"labels without labels= must be 0 .. k-1: give labels={numbers!r} to make "
                               f"{numbers[0]!r} class 0, {numbers[1] if len(numbers) > 1 else numbers[0]!r} class 1 "
                               "and so on")
        return numbers
    order = sorted(present, key=as_text)
    raise DatasetError(f"{table.shown}: label column {column!r} holds text ({_list(order)}): say which value is which "
                       f"class, in order: labels={order[:SHOWN]!r} makes {order[0]!r} class 0 (register(..., "
                       "labels=[...]) in Python, labels = [...] in a config's [dataset] table)")


def index_of(table: Table, column: str, labels: list, present=None) -> dict:
    """Label value -> class index for every value in the column; a value not in ``labels`` is refused."""
    present = table.frame[column].drop_duplicates().tolist() if present is None else present
    exact, by_text = {}, {}
    for i, label in enumerate(labels):
        exact.setdefault(label, i)
        by_text.setdefault(as_text(label), i)
    mapping = {}
    for value in present:
        i = exact.get(value, by_text.get(as_text(value)))
        if i is None:
            row = int((table.frame[column] == value).to_numpy().nonzero()[0][0])
            raise DatasetError(f"{table.shown}: label {value!r} (column {column!r}, row {row}) is not one of the "
                               f"labels {labels!r}: add it to labels (labels list the values in class order), or "
                               "drop those rows")
        mapping[value] = i
    return mapping


def check_reserved(table: Table, label_column: str, text_column: str | None) -> None:
    """Refuse a column named ``label`` (or ``text`` in a text dataset) that is not the label (text) column:
    the task's integer labels (its texts) go there."""
    for reserved, role, taken in (("label", "label_column", label_column), ("text", "text_column", text_column)):
        if taken is not None and taken != reserved and reserved in table.frame.columns:
            raise DatasetError(f"{table.shown} has a column {reserved!r} besides {role} {taken!r}: the task's "
                               f"{reserved} goes there, so rename that column (or make it the {role})")


def rows(table: Table, split: str, label_column: str, order: list, text_column: str | None = None,
         numeric=(), categorical=()):
    """One split as the task's rows, a Hugging Face Dataset: each label as its class in an integer ``label``
    column and the text in ``text``, the source columns kept; checked first (a training split needs two
    classes, a test split only known labels)."""
    classes = index_of(table, label_column, order)
    present = sorted(set(classes.values()))
    if split == "train" and len(present) < 2:
        raise DatasetError(f"{table.shown}: only one class ({order[present[0]]!r}) in label column {label_column!r}, "
                           f"all {len(table.frame)} rows: a classifier needs at least two")
    columns = {"label": table.frame[label_column].map(classes).astype("int64")}
    if text_column is not None:
        check_text(table, text_column)
        columns["text"] = table.frame[text_column]
    for c in (*numeric, *categorical):
        require(table, c, "a feature")
    check_numeric(table, numeric)
    return to_hf(table, columns)


def check_text(table: Table, column: str) -> None:
    """Refuse a text column with empty cells or cells that are not text."""
    _no_missing(table, column, "text column")
    values = table.frame[column]
    not_text = ~values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
    if not_text.any():
        row = int(not_text.nonzero()[0][0])
        raise DatasetError(f"{table.shown}: text column {column!r} holds {_cell(values, row)!r} in row {row}, not text: "
                           "choose the column with the text as text_column, or register a tabular dataset")


def features(table: Table, numeric, categorical, exclude) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numeric, categorical) feature columns: as listed, ``"rest"`` for every other column, or when both
    are left out every column but ``exclude``: numbers (and booleans) numeric, anything else categorical."""
    frame = table.frame
    others = [c for c in frame.columns if c not in exclude]
    if numeric == REST and categorical == REST:
        raise DatasetError('numeric and categorical cannot both be "rest": list one of them')
    if numeric is None and categorical is None:
        numeric = [c for c in others if _is_numeric(frame[c])]
        categorical = [c for c in others if c not in numeric]
    else:
        numeric, categorical = _listed(numeric, "numeric"), _listed(categorical, "categorical")
        if numeric == REST:
            numeric = [c for c in others if c not in categorical]
        if categorical == REST:
            categorical = [c for c in others if c not in numeric]
    for role, columns in (("numeric", numeric), ("categorical", categorical)):
        for c in columns:
            require(table, c, f"a {role} feature")
            if c in exclude:
                raise DatasetError(f"{c!r} cannot be a {role} feature: it is the {exclude[c]}")
    twice = sorted(set(numeric) & set(categorical))
    if twice:
        raise DatasetError(f"{', '.join(map(repr, twice))} listed as both numeric and categorical: keep each in one")
    if not numeric and not categorical:
        raise DatasetError(f"{table.shown} has no feature columns besides {', '.join(map(repr, exclude))}: a tabular "
                           "dataset needs at least one (list them as numeric or categorical)")
    check_numeric(table, numeric)
    return tuple(numeric), tuple(categorical)


def check_numeric(table: Table, columns) -> None:
    """Refuse a numeric feature column holding anything but numbers, naming the first such value."""
    import pandas as pd

    for c in columns:
        values = table.frame[c]
        if _is_numeric(values):
            continue
        bad = (pd.to_numeric(values, errors="coerce").isna() & values.notna()).to_numpy().nonzero()[0]
        if not len(bad):  # numbers as text ("3.5"): read as numbers would do, but say so rather than guess
            bad = values.notna().to_numpy().nonzero()[0][:1]
        row = int(bad[0]) if len(bad) else 0
        raise DatasetError(f"{table.shown}: numeric feature column {c!r} holds {_cell(values, row)!r} in row {row}, "
                           f"not a number: list {c!r} as categorical, or convert it to numbers")


def to_hf(table: Table, columns: dict):
    """The table as a Hugging Face Dataset, with ``columns`` (name -> values) set; a column Arrow cannot
    store (mixed types) is refused by name."""
    import datasets as hf
    import pyarrow as pa

    frame = table.frame.assign(**columns)
    try:
        return hf.Dataset.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DatasetError(f"{table.shown} cannot be stored as a table ({exc}): give every cell of that column "
                           "one type (e.g. frame[column].astype(str))") from exc


def _named(frame):
    frame.columns = [str(c) for c in frame.columns]
    return frame.reset_index(drop=True)


def _non_empty(frame, shown: str) -> None:
    if len(frame) == 0 or len(frame.columns) == 0:
        raise DatasetError(f"{shown} is empty ({len(frame)} rows, {len(frame.columns)} columns): a dataset needs "
                           "labelled rows")


def _no_missing(table: Table, column: str, role: str) -> None:
    missing = table.frame[column].isna().to_numpy()
    if missing.any():
        raise DatasetError(f"{table.shown}: {role} {column!r} is empty in {int(missing.sum())} rows (the first is row "
                           f"{int(missing.nonzero()[0][0])}): fill those cells or drop those rows")


def _folder_holds(path: Path) -> str:
    if not path.parent.is_dir():
        return f" (nor does its folder {path.parent})"
    found = sorted(p.name for p in path.parent.iterdir() if p.suffix.lower() in SUFFIXES)
    more = ", ..." if len(found) > SHOWN else ""
    return f"; {path.parent} holds {', '.join(found[:SHOWN]) + more}" if found else \
        f"; {path.parent} holds no {', '.join(SUFFIXES)} file"


def _listed(columns, role: str):
    if columns is None:
        return []
    if columns == REST:
        return REST
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise DatasetError(f'{role} must be a list of column names or "rest", got {columns!r}')
    return list(columns)


def _cell(values, row: int):
    value = values.iloc[row]
    return value.item() if hasattr(value, "item") else value


def _is_numeric(values) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _integral(value) -> bool:
    return isinstance(value, (bool, int)) or (isinstance(value, float) and value.is_integer())


def plain(values):
    """Values as JSON takes them (NumPy scalars as Python's), a list; None stays None."""
    if values is None or isinstance(values, str):
        return values
    return [v.item() if hasattr(v, "item") else v for v in values]


def as_text(value) -> str:
    """A label value as text, integral floats as integers (a CSV's 1 and a Parquet file's 1.0 are one label)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _list(values) -> str:
    shown = ", ".join(map(repr, values[:SHOWN]))
    return shown + (f", ... ({len(values)} values)" if len(values) > SHOWN else "")

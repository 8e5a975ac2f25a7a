"""Encoders: raw samples to the integer features the contracts take, the same off chain and on chain.

Every encoder is a scikit-learn transformer (``fit``, ``transform``), encodes one sample with
``encode_one``, and serialises to JSON (``to_json``; ``encoders.from_json`` reads any of them back). The
keccak256 of that JSON is recorded in the deployed trainer (``encoderHash``), so anyone can check that
they encode a new sample the way the model was trained.

Sparse encoders output sorted feature indices: unique for binary presence, repeated by count otherwise
(the input Naive Bayes takes). Dense encoders output fixed-point vectors (1_000_000 = 1.0).
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import murmurhash3_32

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
TOKENIZER = "dcai_lab.encoders.tokenize v1"


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens: HTML line breaks removed, runs of ASCII letters and digits, with an
    apostrophe suffix kept (``don't``). Anything else separates tokens."""
    return _TOKEN.findall(_HTML_BREAK.sub(" ", text).lower())


def ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    """Word n-grams for n in ``ngram_range`` (inclusive), joined by single spaces."""
    lo, hi = ngram_range
    if lo == hi == 1:
        return tokens
    return [" ".join(tokens[i:i + n]) for n in range(lo, hi + 1) for i in range(len(tokens) - n + 1)]


def _indices(ids, binary: bool) -> list[int]:
    return sorted(set(ids)) if binary else sorted(ids)


class TextEncoder(TransformerMixin, BaseEstimator):
    """Base of the text encoders: tokenise, form n-grams, map terms to feature indices."""

    def _terms(self, text: str) -> list[str]:
        return ngrams(tokenize(text), tuple(self.ngram_range))

    def transform(self, texts) -> list[np.ndarray]:
        return [np.asarray(self.encode_one(t), dtype=np.int64) for t in texts]


class Vocabulary(TextEncoder):
    """The ``k`` most frequent terms of the training texts. A text becomes the sorted indices of the
    vocabulary terms it contains: each once (``binary=True``) or repeated by count.

    Ties in frequency are broken alphabetically so that the vocabulary is deterministic.

    Parameters
    ----------
    k : int
        Vocabulary size (1000 as in earlier IMDB work).
    binary : bool
        Presence (for perceptrons and nearest centroid) or counts (for Naive Bayes).
    ngram_range : (int, int)
        Word n-grams to count, e.g. (1, 2) for words and word pairs.
    """

    def __init__(self, k: int = 1000, binary: bool = True, ngram_range: tuple[int, int] = (1, 1)):
        self.k = k
        self.binary = binary
        self.ngram_range = ngram_range

    def fit(self, texts, y=None):
        counts = Counter()
        for text in texts:
            counts.update(self._terms(text))
        if not counts:
            raise ValueError("no words found in the training texts")
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: self.k]
        self.words_ = [w for w, _ in ranked]
        self.index_ = {w: i for i, w in enumerate(self.words_)}
        return self

    @property
    def n_features(self) -> int:
        return len(self.words_)

    def encode_one(self, text: str) -> list[int]:
        """Sorted vocabulary indices of the terms in ``text`` (may be empty)."""
        index = self.index_
        return _indices([index[t] for t in self._terms(text) if t in index], self.binary)

    def to_json(self) -> str:
        return json.dumps({"type": "Vocabulary", "tokenizer": TOKENIZER, "k": self.k, "binary": self.binary,
                           "ngram_range": list(self.ngram_range), "words": self.words_}, separators=(",", ":"))

    @classmethod
    def _from_spec(cls, spec: dict) -> "Vocabulary":
        enc = cls(k=spec["k"], binary=spec["binary"], ngram_range=tuple(spec["ngram_range"]))
        enc.words_ = list(spec["words"])
        enc.index_ = {w: i for i, w in enumerate(enc.words_)}
        return enc


class Hashing(TextEncoder):
    """Feature hashing: term -> MurmurHash3 (x86, 32-bit, seed 0, unsigned) of its UTF-8 bytes modulo
    ``n_features``. Needs no fitting beyond recording its parameters, so any party encodes the same way
    without a vocabulary; colliding terms share a feature.

    Parameters
    ----------
    n_features : int
    binary : bool
    ngram_range : (int, int)
    """

    def __init__(self, n_features: int = 1000, binary: bool = True, ngram_range: tuple[int, int] = (1, 1)):
        self.n_features = n_features
        self.binary = binary
        self.ngram_range = ngram_range

    def fit(self, texts=None, y=None):
        if self.n_features < 1:
            raise ValueError("n_features must be positive")
        return self

    def encode_one(self, text: str) -> list[int]:
        n = self.n_features
        return _indices([murmurhash3_32(t, seed=0, positive=True) % n for t in self._terms(text)], self.binary)

    def to_json(self) -> str:
        return json.dumps({"type": "Hashing", "tokenizer": TOKENIZER, "hash": "murmurhash3_x86_32 seed 0 unsigned",
                           "n_features": self.n_features, "binary": self.binary,
                           "ngram_range": list(self.ngram_range)}, separators=(",", ":"))

    @classmethod
    def _from_spec(cls, spec: dict) -> "Hashing":
        return cls(n_features=spec["n_features"], binary=spec["binary"], ngram_range=tuple(spec["ngram_range"]))


def _rows(X, columns) -> list[dict]:
    """Rows as dicts from a pandas DataFrame, a Hugging Face Dataset, a list of dicts or one dict."""
    if isinstance(X, dict):
        return [X]
    if hasattr(X, "to_dict") and hasattr(X, "columns"):  # pandas
        return X[list(columns)].to_dict("records")
    if hasattr(X, "column_names"):  # Hugging Face Dataset
        return X.select_columns(list(columns)).to_list()
    return list(X)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class TabularBinarizer(TransformerMixin, BaseEstimator):
    """Table rows to sorted indices of binary features: for each numeric column, "above its training
    median" (at or above when the median is the column's maximum, as for a mostly-1 binary column;
    missing counts as not above); for each categorical column, one feature per category seen
    in training (unseen and missing categories set none).

    Parameters
    ----------
    numeric : sequence of str
    categorical : sequence of str
    """

    def __init__(self, numeric=(), categorical=()):
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X, y=None):
        rows = _rows(X, [*self.numeric, *self.categorical])
        if not rows:
            raise ValueError("no rows to fit on")
        columns = {c: np.array([np.nan if _missing(r[c]) else float(r[c]) for r in rows]) for c in self.numeric}
        self.medians_ = {c: float(np.nanmedian(v)) for c, v in columns.items()}
        # A median at the column's maximum (a 0/1 column that is mostly 1) would make "above" impossible.
        self.inclusive_ = {c: bool(self.medians_[c] >= np.nanmax(v)) for c, v in columns.items()}
        self.categories_ = {c: sorted({str(r[c]) for r in rows if not _missing(r[c])}) for c in self.categorical}
        self._index()
        return self

    def _index(self):
        names = [f"{c}{'>=' if self.inclusive_[c] else '>'}{self.medians_[c]:g}" for c in self.numeric]
        names += [f"{c}={v}" for c in self.categorical for v in self.categories_[c]]
        self.feature_names_ = names
        offset, self.offsets_ = len(self.numeric), {}
        for c in self.categorical:
            self.offsets_[c] = {v: offset + i for i, v in enumerate(self.categories_[c])}
            offset += len(self.categories_[c])

    @property
    def n_features(self) -> int:
        return len(self.feature_names_)

    def encode_one(self, row: dict) -> list[int]:
        out = [i for i, c in enumerate(self.numeric) if not _missing(row[c]) and (
            float(row[c]) >= self.medians_[c] if self.inclusive_[c] else float(row[c]) > self.medians_[c])]
        for c in self.categorical:
            v = row[c]
            if not _missing(v) and str(v) in self.offsets_[c]:
                out.append(self.offsets_[c][str(v)])
        return sorted(out)

    def transform(self, X) -> list[np.ndarray]:
        return [np.asarray(self.encode_one(r), dtype=np.int64) for r in _rows(X, [*self.numeric, *self.categorical])]

    def to_json(self) -> str:
        return json.dumps({"type": "TabularBinarizer", "numeric": list(self.numeric), "medians": self.medians_,
                           "inclusive": self.inclusive_,
                           "categorical": list(self.categorical), "categories": self.categories_})

    @classmethod
    def _from_spec(cls, spec: dict) -> "TabularBinarizer":
        enc = cls(numeric=tuple(spec["numeric"]), categorical=tuple(spec["categorical"]))
        enc.medians_, enc.inclusive_ = dict(spec["medians"]), dict(spec["inclusive"])
        enc.categories_ = {k: list(v) for k, v in spec["categories"].items()}
        enc._index()
        return enc


class FixedPoint(TransformerMixin, BaseEstimator):
    """Numeric columns to the fixed-point vectors the dense contracts take (``1_000_000`` = 1.0).

    Standardises each column with the training set's mean and standard deviation (``norm="standard"``),
    or scales each sample to unit Euclidean length (``norm="l2"``), then rounds to fixed point and clips
    to ``±max_abs`` so that every sample is within the contracts' input range. Missing values become the
    training mean (0 after standardising).

    Parameters
    ----------
    columns : sequence of str, optional
        Columns to take from a table; without it, ``X`` is a numeric array.
    norm : {"standard", "l2"}
    max_abs : int
        Clip bound in fixed point (default 10.0).
    """

    ONE = 1_000_000

    def __init__(self, columns=None, norm: str = "standard", max_abs: int = 10 * 1_000_000):
        self.columns = columns
        self.norm = norm
        self.max_abs = max_abs

    def _matrix(self, X) -> np.ndarray:
        if self.columns is not None:
            X = [[np.nan if _missing(r[c]) else float(r[c]) for c in self.columns] for r in _rows(X, self.columns)]
        return np.asarray(X, dtype=float)

    def fit(self, X, y=None):
        X = self._matrix(X)
        if self.norm not in ("standard", "l2"):
            raise ValueError(f"norm must be 'standard' or 'l2', got {self.norm!r}")
        self.mean_ = np.nanmean(X, axis=0)
        std = np.nanstd(X, axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        X = self._matrix(X)
        X = np.where(np.isnan(X), self.mean_, X)
        if self.norm == "standard":
            X = (X - self.mean_) / self.scale_
        else:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            X = X / np.where(norms > 0, norms, 1.0)
        return np.clip(np.rint(X * self.ONE), -self.max_abs, self.max_abs).astype(np.int64)

    def encode_one(self, row) -> list[int]:
        return [int(v) for v in self.transform(row if self.columns is not None and isinstance(row, dict) else [row])[0]]

    def to_json(self) -> str:
        return json.dumps({"type": "FixedPoint", "columns": None if self.columns is None else list(self.columns),
                           "norm": self.norm, "max_abs": self.max_abs, "one": self.ONE,
                           "mean": [float(v) for v in self.mean_], "scale": [float(v) for v in self.scale_]})

    @classmethod
    def _from_spec(cls, spec: dict) -> "FixedPoint":
        enc = cls(columns=spec["columns"], norm=spec["norm"], max_abs=spec["max_abs"])
        enc.mean_, enc.scale_ = np.asarray(spec["mean"]), np.asarray(spec["scale"])
        enc.n_features = len(enc.mean_)
        return enc


ENCODERS = {cls.__name__: cls for cls in (Vocabulary, Hashing, TabularBinarizer, FixedPoint)}


def from_json(text: str):
    """Any encoder back from its ``to_json``."""
    spec = json.loads(text)
    kind = spec.get("type")
    if kind not in ENCODERS:
        raise ValueError(f"unknown encoder type {kind!r}; known: {', '.join(ENCODERS)}")
    return ENCODERS[kind]._from_spec(spec)


def for_task(task, train):
    """The default encoder of a task (see ``datasets.TASKS``), fitted on its training split."""
    from .datasets import feature_columns

    if task.kind == "text":
        return Vocabulary(k=1000).fit(train["text"])
    numeric, categorical = feature_columns(task, train.column_names)
    return TabularBinarizer(numeric=numeric, categorical=categorical).fit(train)

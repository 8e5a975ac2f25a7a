"""Encoders: raw samples to the integer features the contracts take, the same off chain and on chain."""
from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens: HTML line breaks removed, runs of letters and digits, with an
    apostrophe suffix kept (``don't``)."""
    return _TOKEN.findall(_HTML_BREAK.sub(" ", text).lower())


class Vocabulary(TransformerMixin, BaseEstimator):
    """The ``k`` most frequent words of the training texts; a text becomes the sorted indices of the
    vocabulary words it contains (binary presence), the input of the sparse contract models.

    Ties in frequency are broken alphabetically so that the vocabulary is deterministic.

    Parameters
    ----------
    k : int
        Vocabulary size (1000 as in earlier IMDB work).
    """

    def __init__(self, k: int = 1000):
        self.k = k

    def fit(self, texts, y=None):
        counts = Counter()
        for text in texts:
            counts.update(tokenize(text))
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
        """Sorted, unique vocabulary indices of the words in ``text`` (may be empty)."""
        index = self.index_
        return sorted({index[t] for t in tokenize(text) if t in index})

    def transform(self, texts) -> list[np.ndarray]:
        return [np.asarray(self.encode_one(t), dtype=np.int64) for t in texts]

    def to_json(self) -> str:
        """Everything needed to encode a sample again; its hash is recorded in the deployed trainer."""
        return json.dumps({"type": "Vocabulary", "tokenizer": "dcai_lab.encoders.tokenize v1",
                           "k": self.k, "words": self.words_}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Vocabulary":
        spec = json.loads(text)
        if spec.get("type") != "Vocabulary":
            raise ValueError(f"not a Vocabulary encoder: type {spec.get('type')!r}")
        enc = cls(k=spec["k"])
        enc.words_ = list(spec["words"])
        enc.index_ = {w: i for i, w in enumerate(enc.words_)}
        return enc


class MedianBinarizer(TransformerMixin, BaseEstimator):
    """Numeric columns to the sorted indices of the features above their training-set median."""

    def fit(self, X, y=None):
        self.medians_ = np.median(np.asarray(X, dtype=float), axis=0)
        return self

    @property
    def n_features(self) -> int:
        return len(self.medians_)

    def encode_one(self, row) -> list[int]:
        return [int(i) for i in np.flatnonzero(np.asarray(row, dtype=float) > self.medians_)]

    def transform(self, X) -> list[np.ndarray]:
        above = np.asarray(X, dtype=float) > self.medians_
        return [np.flatnonzero(r).astype(np.int64) for r in above]

    def to_json(self) -> str:
        return json.dumps({"type": "MedianBinarizer", "medians": [float(m) for m in self.medians_]})


class FixedPoint(TransformerMixin, BaseEstimator):
    """Numeric columns to the fixed-point vectors the dense contracts take (``1_000_000`` = 1.0).

    Standardises each column with the training set's mean and standard deviation (``norm="standard"``),
    or scales each sample to unit Euclidean length (``norm="l2"``), then rounds to fixed point and clips
    to ``±max_abs`` so that every sample is within the contracts' input range.

    Parameters
    ----------
    norm : {"standard", "l2"}
    max_abs : int
        Clip bound in fixed point (default 10.0).
    """

    ONE = 1_000_000

    def __init__(self, norm: str = "standard", max_abs: int = 10 * 1_000_000):
        self.norm = norm
        self.max_abs = max_abs

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        if self.norm not in ("standard", "l2"):
            raise ValueError(f"norm must be 'standard' or 'l2', got {self.norm!r}")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        self.n_features = X.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if self.norm == "standard":
            X = (X - self.mean_) / self.scale_
        else:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            X = X / np.where(norms > 0, norms, 1.0)
        return np.clip(np.rint(X * self.ONE), -self.max_abs, self.max_abs).astype(np.int64)

    def encode_one(self, row) -> list[int]:
        return [int(v) for v in self.transform([row])[0]]

    def to_json(self) -> str:
        return json.dumps({"type": "FixedPoint", "norm": self.norm, "max_abs": self.max_abs, "one": self.ONE,
                           "mean": [float(v) for v in self.mean_], "scale": [float(v) for v in self.scale_]})

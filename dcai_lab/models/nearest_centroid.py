"""Nearest centroid: twins of ``SparseNearestCentroid.sol`` and ``DenseNearestCentroid.sol``."""
from __future__ import annotations

import numpy as np

from ..errors import ParameterOverflow
from ._base import (ChainModel, check_labels, dense_rows, object_ints, pack_lanes, read_words, sparse_rows,
                    state_array, unpack_lanes)

SUM32_MAX = 2**32 - 1
SAMPLES_MAX = 2**32 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1


class _NearestCentroid(ChainModel):
    """Per class: feature sums S_c, sample count N_c and Q_c = |S_c|^2. The squared distance to the
    centroid S_c / N_c is |x|^2 - 2 x.S_c / N_c + Q_c / N_c^2; classes are ranked by
    (Q_c - 2 N_c x.S_c) / N_c^2, compared by cross-multiplying exactly as the contract does."""

    sum_bits: int

    def _init_state(self, sums=None, samples=None):
        V, C = self.n_features, self.n_classes
        self.classes_ = np.arange(C)
        self.sums_ = np.zeros((V, C), np.int64) if sums is None else np.asarray(sums, np.int64).reshape(V, C)
        self.class_count_ = np.zeros(C, np.int64) if samples is None else np.asarray(samples, np.int64)

    def set_state(self, sums=None, class_count=None):
        """Give the model these class sums and sample counts (zeros for what is not given).

        Parameters
        ----------
        sums : array-like of int, optional
            Feature sums S_c, shape (n_features, n_classes), or flat feature-major (f * n_classes + c)
            as in the chain parameters; uint32 for the sparse model, int64 (fixed point) for the dense one.
        class_count : sequence of int, optional
            Samples N_c per class, each below 2**32.

        Returns
        -------
        self
        """
        V, C = self.n_features, self.n_classes
        lo, _ = self._sum_range
        if sums is not None:
            sums = state_array(sums, (V, C), self.sum_bits, signed=lo < 0, what="sums")
        if class_count is not None:
            class_count = state_array(class_count, (C,), 32, signed=False, what="class_count")
        self._init_state(sums, class_count)
        return self

    @classmethod
    def from_chain_params(cls, params: dict, **estimator_params):
        cls._check_chain_params(params)
        model = cls(n_features=params["numFeatures"], n_classes=params["numClasses"],
                    **cls._settings_from_chain(params), **estimator_params)
        model.set_state(params["sums"], params["samples"])
        if [int(q) for q in params["squaredNorms"]] != model.squared_norm_:
            raise ValueError("the chain parameters' squaredNorms do not match their sums (squaredNorms[c] is the "
                             "sum of sums[f * numClasses + c] ** 2 over f)")
        return model

    @property
    def squared_norm_(self) -> list[int]:
        """Q_c = |S_c|^2, exact (Python ints)."""
        return [int(v) for v in (object_ints(self.sums_) ** 2).sum(axis=0)]

    @property
    def centroids_(self) -> np.ndarray:
        """Centroids in the inputs' units (float; NaN for classes without samples)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.sums_ / self.class_count_).T

    def fit(self, X, y):
        self._init_state()
        return self.partial_fit(X, y)

    def partial_fit(self, X, y, classes=None):
        """Add the samples to their classes' sums, as the contract does for each contribution."""
        if not hasattr(self, "sums_"):
            self._init_state()
        X, y = self._rows(X), check_labels(y, self.n_classes)
        onehot = np.zeros((len(y), self.n_classes), object)
        onehot[np.arange(len(y)), y] = 1
        start = object_ints(self.sums_)
        sums = start + self._transpose_times(X, onehot)
        samples = self.class_count_ + onehot.sum(axis=0).astype(np.int64)
        lo, hi = self._sum_range
        # Every partial sum lies within |start| + sum |x|: if that bound fits, no contribution overflows.
        reach = np.abs(start) + self._transpose_times(abs(X), onehot)
        if any(v > hi for v in reach.reshape(-1)) or samples.max(initial=0) > SAMPLES_MAX:
            if len(y) > 1:  # the contract checks each contribution: replay them one by one
                for i in range(len(y)):
                    self.partial_fit(X[i:i + 1], y[i:i + 1])
                return self
            if any(not lo <= v <= hi for v in sums.reshape(-1)) or samples.max() > SAMPLES_MAX:
                raise ParameterOverflow("SumOverflow", "SumOverflow: a class's sum or sample count would leave its range")
        self.sums_ = sums.astype(np.int64)
        self.class_count_ = samples
        return self

    def predict(self, X) -> np.ndarray:
        X = self._rows(X)
        dots = self._dots(X)  # Python ints, n x C
        Q = self.squared_norm_
        best = np.zeros(len(dots), np.int64)
        best_key = np.full(len(dots), None, object)
        best_n = np.zeros(len(dots), object)
        for c in range(self.n_classes):
            n = int(self.class_count_[c])
            if n == 0:
                continue
            key = Q[c] - 2 * n * dots[:, c]
            empty = np.array([k is None for k in best_key])
            closer = empty.copy()
            if (~empty).any():
                closer[~empty] = key[~empty] * (best_n[~empty] ** 2) < best_key[~empty] * (n * n)
            best[closer], best_key[closer], best_n[closer] = c, key[closer], n
        return best

    def words(self) -> list[int]:
        return pack_lanes(self.to_chain_params()["sums"], self.sum_bits, signed=self._sum_range[0] < 0)

    def _common_params(self) -> dict:
        if not hasattr(self, "sums_"):
            self._init_state()
        return {"numClasses": self.n_classes, "numFeatures": self.n_features,
                "samples": [int(v) for v in self.class_count_], "squaredNorms": self.squared_norm_,
                "sums": [int(v) for v in self.sums_.reshape(-1)]}  # feature-major: f * C + c

    @classmethod
    def _from_words(cls, contract, model, signed):
        f = contract.functions
        totals = [f.classTotals(c).call() for c in range(model.n_classes)]
        sums = unpack_lanes(read_words(contract), model.n_features * model.n_classes, cls.sum_bits, signed)
        model._init_state(sums, [s for s, _ in totals])
        if [q for _, q in totals] != model.squared_norm_:
            raise ValueError("the contract's squared norms do not match its sums")
        return model


class SparseNearestCentroid(_NearestCentroid):
    """Nearest centroid on binary features given as sorted, unique indices (any number of classes),
    with the contract's exact integer arithmetic; agrees with scikit-learn's ``NearestCentroid`` on the
    same binary data up to its floating-point ties. Sums are uint32 (eight per storage word).

    Parameters
    ----------
    n_features : int
    n_classes : int
    max_input_length : int, optional
        Most features per sample; default ``min(n_features, 1000)``.
    """

    contract_name = "SparseNearestCentroid"
    chain_param_keys = ("numClasses", "numFeatures", "samples", "squaredNorms", "sums", "maxInputLength")
    sum_bits = 32
    _sum_range = (0, SUM32_MAX)

    def __init__(self, *, n_features=1000, n_classes=2, max_input_length=None):
        self.n_features = n_features
        self.n_classes = n_classes
        self.max_input_length = max_input_length

    @property
    def max_length_(self) -> int:
        return self.max_input_length or min(self.n_features, 1000)

    def _rows(self, X):
        return sparse_rows(X, self.n_features, self.max_length_)

    @staticmethod
    def _transpose_times(X, onehot):
        return object_ints(np.asarray((X.T @ onehot.astype(np.int64))))

    def _dots(self, X):
        return object_ints(np.asarray(X @ self.sums_))  # int64 is exact here: sums < 2^32, <= 1000 features

    def to_chain_params(self) -> dict:
        return {**self._common_params(), "maxInputLength": self.max_length_}

    @staticmethod
    def _settings_from_chain(params: dict) -> dict:
        return {"max_input_length": params["maxInputLength"]}

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numClasses"], p["numFeatures"], p["maxInputLength"], p["samples"], p["squaredNorms"])

    @classmethod
    def from_chain(cls, contract, **params):
        f = contract.functions
        model = cls(n_features=f.numFeatures().call(), n_classes=f.numClasses().call(),
                    max_input_length=f.maxInputLength().call(), **params)
        return cls._from_words(contract, model, signed=False)


class DenseNearestCentroid(_NearestCentroid):
    """Nearest centroid on fixed-point vectors (``1_000_000`` = 1.0; normalise the data first), any
    number of classes, with the contract's exact integer arithmetic. Sums are int64 (four per word).

    Parameters
    ----------
    n_features : int
    n_classes : int
    max_abs_value : int
        Largest absolute input value the contract accepts (default 2**31 - 1).
    """

    contract_name = "DenseNearestCentroid"
    chain_param_keys = ("numClasses", "numFeatures", "samples", "squaredNorms", "sums", "maxAbsValue")
    sum_bits = 64
    _sum_range = (INT64_MIN, INT64_MAX)

    def __init__(self, *, n_features=9, n_classes=2, max_abs_value=INT32_MAX):
        self.n_features = n_features
        self.n_classes = n_classes
        self.max_abs_value = max_abs_value

    def _rows(self, X):
        return dense_rows(X, self.n_features, self.max_abs_value)

    @staticmethod
    def _transpose_times(X, onehot):
        return object_ints(X).T @ onehot

    def _dots(self, X):
        return object_ints(X) @ object_ints(self.sums_)  # exact: x * S can pass 2^63

    def to_chain_params(self) -> dict:
        return {**self._common_params(), "maxAbsValue": self.max_abs_value}

    @staticmethod
    def _settings_from_chain(params: dict) -> dict:
        return {"max_abs_value": params["maxAbsValue"]}

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numClasses"], p["numFeatures"], p["maxAbsValue"], p["samples"], p["squaredNorms"])

    @classmethod
    def from_chain(cls, contract, **params):
        f = contract.functions
        model = cls(n_features=f.numFeatures().call(), n_classes=f.numClasses().call(),
                    max_abs_value=f.maxAbsValue().call(), **params)
        return cls._from_words(contract, model, signed=True)

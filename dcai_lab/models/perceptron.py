"""Perceptrons: twins of ``SparsePerceptron.sol`` and ``DensePerceptron.sol``."""
from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..errors import ParameterOverflow
from ._base import (DENSE_ONE, ChainModel, check_labels, dense_rows, object_ints, pack_lanes, read_words,
                    sparse_rows, state_array, unpack_lanes)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX = 2**32 - 1


class _Perceptron(ChainModel):
    """Mistake-driven training shared by the sparse and dense perceptrons."""

    weight_bits: int

    def _init_state(self, coef=None, intercept=0, seen=0):
        if not 0 < self.learning_rate <= INT32_MAX:
            raise ValueError(f"learning_rate must be in [1, {INT32_MAX}], got {self.learning_rate}")
        if not (isinstance(self.step_decay, (int, np.integer)) and 0 <= self.step_decay <= UINT32_MAX):
            raise ValueError(f"step_decay must be an integer in [0, {UINT32_MAX}] (0: a constant step), "
                             f"got {self.step_decay!r}")
        self.classes_ = np.array([0, 1])
        self.coef_ = np.zeros(self.n_features, dtype=np.int64) if coef is None else np.asarray(coef, dtype=np.int64)
        self.intercept_ = int(intercept)
        self.n_seen_ = int(seen) if self.step_decay else 0
        self.n_updates_ = 0

    @property
    def step_(self) -> int:
        """The step the next sample is learnt with, as the contract's ``step()`` computes it."""
        if not self.step_decay:
            return self.learning_rate
        return max(1, self.learning_rate * self.step_decay // (self.step_decay + getattr(self, "n_seen_", 0)))

    def set_state(self, coef=None, intercept=0, seen=0):
        """Give the perceptron these weights and intercept (zero weights without ``coef``).

        Parameters
        ----------
        coef : sequence of int, optional
            One weight per feature, in the contract's fixed point and range (int32 for the sparse
            perceptron, int64 for the dense one).
        intercept : int
            The intercept, int64.
        seen : int
            Samples already learnt from (uint32), which sets a decreasing step's position; ignored when
            ``step_decay`` is 0.

        Returns
        -------
        self
        """
        if coef is not None:
            coef = state_array(coef, (self.n_features,), self.weight_bits, signed=True, what="coef")
        intercept = int(state_array([intercept], (1,), 64, signed=True, what="intercept")[0])
        self._init_state(coef, intercept, int(state_array([seen], (1,), 32, signed=False, what="seen")[0]))
        return self

    def fit(self, X, y):
        """Start from zero weights and make ``max_iter`` mistake-driven passes over (X, y)."""
        self._init_state()
        X, y = self._rows(X), check_labels(y, 2)
        rng = check_random_state(self.random_state)
        for _ in range(self.max_iter):
            self._pass(X, y, rng.permutation(len(y)) if self.shuffle else np.arange(len(y)))
        return self

    def partial_fit(self, X, y, classes=None):
        """One pass in the given order: exactly what the contract does with these contributions."""
        if not hasattr(self, "coef_"):
            self._init_state()
        y = check_labels(y, 2)
        self._pass(self._rows(X), y, np.arange(len(y)))
        return self

    def _pass(self, X, y, order):
        lo, hi = -(1 << (self.weight_bits - 1)), (1 << (self.weight_bits - 1)) - 1
        for i in order:
            features, values = self._sample(X, i)
            score = self._score_one(features, values)
            size = self.step_
            seen = min(self.n_seen_ + 1, UINT32_MAX) if self.step_decay else 0
            if (score > 0) if y[i] == 1 else (score < 0):  # strictly on its label's side: no update
                self.n_seen_ = seen
                continue
            rate = size if y[i] == 1 else -size
            b = self.intercept_ + rate * self._intercept_step
            if not INT64_MIN <= b <= INT64_MAX:
                raise ParameterOverflow("WeightOverflow", "WeightOverflow: the intercept would leave int64")
            new = object_ints(self.coef_[features]) + rate * object_ints(values)  # exact, no int64 wrap
            outside = [f for f, w in zip(features, new) if not lo <= w <= hi]
            if outside:
                raise ParameterOverflow("WeightOverflow", f"WeightOverflow: feature {outside[0]} would leave int{self.weight_bits}")
            self.coef_[features] = new.astype(np.int64)
            self.intercept_ = b
            self.n_seen_ = seen  # only now: a refused sample counts no more than the reverted transaction does
            self.n_updates_ += 1

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)

    def to_chain_params(self) -> dict:
        if not hasattr(self, "coef_"):
            self._init_state()
        return {**self._chain_settings(), "learningRate": self.learning_rate, "stepDecay": int(self.step_decay),
                "seen": self.n_seen_, "intercept": self.intercept_, "weights": [int(w) for w in self.coef_]}

    def words(self) -> list[int]:
        return pack_lanes(self.to_chain_params()["weights"], self.weight_bits, signed=True)

    @classmethod
    def from_chain_params(cls, params: dict, **estimator_params):
        cls._check_chain_params(params)
        model = cls(**cls._settings_from_chain(params), learning_rate=params["learningRate"],
                    step_decay=params["stepDecay"], **estimator_params)
        return model.set_state(params["weights"], params["intercept"], params["seen"])

    @classmethod
    def _from_words(cls, contract, model):
        weights = unpack_lanes(read_words(contract), model.n_features, cls.weight_bits, signed=True)
        model._init_state(weights, contract.functions.intercept().call(), contract.functions.seen().call())
        return model

    @classmethod
    def _params_from_chain(cls, contract) -> dict:
        f = contract.functions
        return {"n_features": f.numFeatures().call(), "learning_rate": f.learningRate().call(),
                "step_decay": f.stepDecay().call()}


class SparsePerceptron(_Perceptron):
    """Binary perceptron on present-feature indices, with the contract's integer arithmetic.

    ``score = intercept + sum(coef_[present])``; class 1 when ``score > 0``. Unless the sample is strictly
    on its label's side (``y * score > 0`` with y = ±1, scikit-learn's rule), the present weights and the
    intercept move by ``+step_`` (label 1) or ``-step_`` (label 0): ``learning_rate``, or a decreasing step
    with ``step_decay``.
    Weights are int32 (eight per storage word) and the intercept int64, fixed point with ``SCALE = 1000``
    (a weight of 1000 means 1.0); leaving those ranges raises OverflowError, as the contract reverts.

    Parameters
    ----------
    n_features : int
        Number of features (vocabulary size).
    learning_rate : int
        Step of each update, fixed point (1000 = 1.0); with ``step_decay``, the first step.
    step_decay : int
        0 (default) keeps the step constant. t0 > 0 makes the step shrink as in scikit-learn's
        ``learning_rate="optimal"``: ``max(1, learning_rate * t0 // (t0 + t))`` after t samples (every
        sample counts, updated or not; ``n_seen_``). t0 = 1000 with learning_rate = 1000 has the shape of
        scikit-learn's 2019 settings (alpha = 1e-4: 10 / (1 + t / 1000)). The contract then writes its
        counter on every add: 3,615 more gas on an add that needs no update, 815 on one that does
        (``benchmarks/gas.py``).
    max_input_length : int, optional
        Most features one sample may have (the contract's cap so no contribution exhausts a block);
        default ``min(n_features, 1000)``.
    max_iter : int
        Passes over the data in :meth:`fit` (:meth:`partial_fit` makes one, as the chain does).
    shuffle : bool
        Shuffle the samples before each pass of :meth:`fit`.
    random_state : int, optional
        Seed for the shuffle.
    """

    contract_name = "SparsePerceptron"
    chain_param_keys = ("numFeatures", "maxInputLength", "learningRate", "stepDecay", "seen", "intercept", "weights")
    SCALE = 1000
    weight_bits = 32
    _intercept_step = 1

    def __init__(self, *, n_features=1000, learning_rate=1000, step_decay=0, max_input_length=None, max_iter=5,
                 shuffle=True, random_state=None):
        self.n_features = n_features
        self.learning_rate = learning_rate
        self.step_decay = step_decay
        self.max_input_length = max_input_length
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state

    @property
    def max_length_(self) -> int:
        return self.max_input_length or min(self.n_features, 1000)

    def _rows(self, X):
        return sparse_rows(X, self.n_features, self.max_length_)

    def _sample(self, X, i):
        features = X.indices[X.indptr[i]:X.indptr[i + 1]]
        return features, np.ones(len(features), dtype=np.int64)

    def _score_one(self, features, values) -> int:
        return self.intercept_ + int(self.coef_[features].sum())

    def decision_function(self, X) -> np.ndarray:
        return sparse_rows(X, self.n_features, self.max_length_) @ self.coef_ + self.intercept_

    def _chain_settings(self) -> dict:
        return {"numFeatures": self.n_features, "maxInputLength": self.max_length_}

    @staticmethod
    def _settings_from_chain(params: dict) -> dict:
        return {"n_features": params["numFeatures"], "max_input_length": params["maxInputLength"]}

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numFeatures"], p["maxInputLength"], p["learningRate"], p["stepDecay"], p["seen"], p["intercept"])

    @classmethod
    def from_chain(cls, contract, **params):
        model = cls(**cls._params_from_chain(contract), max_input_length=contract.functions.maxInputLength().call(),
                    **params)
        return cls._from_words(contract, model)


class DensePerceptron(_Perceptron):
    """Binary perceptron on fixed-point vectors (``1_000_000`` = 1.0), with the contract's arithmetic.

    ``score = coef_ . x + intercept_ * 1_000_000``; class 1 when ``score > 0``. Unless ``y * score > 0``
    (y = ±1), each weight moves by ``±step_ * x_d`` and the intercept by ``±step_ * 1_000_000`` (the
    bias is a weight on a constant input of 1.0). Weights and intercept are int64 (four weights per
    storage word), in the inputs' fixed point; leaving int64 raises OverflowError, as the contract reverts.

    Parameters
    ----------
    n_features : int
        Length of every sample.
    learning_rate : int
        Integer step multiplier; with ``step_decay``, the first one.
    step_decay : int
        As for :class:`SparsePerceptron` (the step never falls below 1, so a decreasing step needs a
        ``learning_rate`` well above 1).
    max_abs_value : int
        Largest absolute input value the contract accepts (default 2**31 - 1, about ±2147.0).
    max_iter, shuffle, random_state
        As for :class:`SparsePerceptron`.
    """

    contract_name = "DensePerceptron"
    chain_param_keys = ("numFeatures", "maxAbsValue", "learningRate", "stepDecay", "seen", "intercept", "weights")
    ONE = DENSE_ONE
    weight_bits = 64
    _intercept_step = DENSE_ONE

    def __init__(self, *, n_features=9, learning_rate=1, step_decay=0, max_abs_value=INT32_MAX, max_iter=5,
                 shuffle=True, random_state=None):
        self.n_features = n_features
        self.learning_rate = learning_rate
        self.step_decay = step_decay
        self.max_abs_value = max_abs_value
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state

    def _rows(self, X):
        return dense_rows(X, self.n_features, self.max_abs_value)

    def _sample(self, X, i):
        return np.arange(self.n_features), X[i]

    def _score_one(self, features, values) -> int:
        return sum(int(w) * int(v) for w, v in zip(self.coef_, values)) + self.intercept_ * DENSE_ONE

    def decision_function(self, X) -> np.ndarray:
        X = dense_rows(X, self.n_features, self.max_abs_value)
        return object_ints(X) @ object_ints(self.coef_) + self.intercept_ * DENSE_ONE  # exact: no int64 overflow

    def _chain_settings(self) -> dict:
        return {"numFeatures": self.n_features, "maxAbsValue": self.max_abs_value}

    @staticmethod
    def _settings_from_chain(params: dict) -> dict:
        return {"n_features": params["numFeatures"], "max_abs_value": params["maxAbsValue"]}

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numFeatures"], p["maxAbsValue"], p["learningRate"], p["stepDecay"], p["seen"], p["intercept"])

    @classmethod
    def from_chain(cls, contract, **params):
        model = cls(**cls._params_from_chain(contract), max_abs_value=contract.functions.maxAbsValue().call(), **params)
        return cls._from_words(contract, model)

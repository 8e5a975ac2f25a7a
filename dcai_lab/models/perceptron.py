"""Sparse perceptron: the twin of ``contracts/models/SparsePerceptron.sol``."""
from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ._base import ChainModel, check_binary_labels, sparse_rows

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
WEIGHTS_PER_WORD = 8
# Gas to write one fresh weight word plus its calldata: sizes the initialisation chunks.
GAS_PER_NEW_WORD = 22_100 + 32 * 16
CHUNK_OVERHEAD_GAS = 100_000


class SparsePerceptron(ChainModel):
    """Binary perceptron on present-feature indices, with the contract's integer arithmetic.

    ``score = intercept + sum(coef_[present])``; class 1 when ``score > 0``. On a mistake the present
    weights and the intercept move by ``+learning_rate`` (label 1) or ``-learning_rate`` (label 0).
    Weights are int32 and the intercept int64, fixed point with ``SCALE = 1000`` (a weight of 1000
    means 1.0); leaving those ranges raises OverflowError, as the contract reverts.

    Parameters
    ----------
    n_features : int
        Number of features (vocabulary size).
    learning_rate : int
        Step of each update, fixed point (1000 = 1.0).
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
    SCALE = 1000

    def __init__(self, n_features=1000, learning_rate=1000, max_input_length=None, max_iter=5, shuffle=True,
                 random_state=None):
        self.n_features = n_features
        self.learning_rate = learning_rate
        self.max_input_length = max_input_length
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state

    @property
    def max_length_(self) -> int:
        return self.max_input_length or min(self.n_features, 1000)

    def _init_state(self, coef=None, intercept=0):
        if not 0 < self.learning_rate <= INT32_MAX:
            raise ValueError(f"learning_rate must be in [1, {INT32_MAX}], got {self.learning_rate}")
        self.classes_ = np.array([0, 1])
        self.coef_ = np.zeros(self.n_features, dtype=np.int64) if coef is None else np.asarray(coef, dtype=np.int64)
        self.intercept_ = int(intercept)
        self.n_updates_ = 0

    def fit(self, X, y):
        """Start from zero weights and make ``max_iter`` mistake-driven passes over (X, y)."""
        self._init_state()
        X = sparse_rows(X, self.n_features, self.max_length_)
        y = check_binary_labels(y)
        rng = check_random_state(self.random_state)
        for _ in range(self.max_iter):
            order = rng.permutation(X.shape[0]) if self.shuffle else np.arange(X.shape[0])
            self._pass(X, y, order)
        return self

    def partial_fit(self, X, y, classes=None):
        """One pass in the given order: exactly what the contract does with these contributions."""
        if not hasattr(self, "coef_"):
            self._init_state()
        X = sparse_rows(X, self.n_features, self.max_length_)
        self._pass(X, check_binary_labels(y), np.arange(X.shape[0]))
        return self

    def _pass(self, X, y, order):
        coef, b, lr = self.coef_, self.intercept_, self.learning_rate
        for i in order:
            idx = X.indices[X.indptr[i]:X.indptr[i + 1]]
            predicted = 1 if b + int(coef[idx].sum()) > 0 else 0
            if predicted == y[i]:
                continue
            delta = lr if y[i] == 1 else -lr
            new = coef[idx] + delta
            if b + delta < INT64_MIN or b + delta > INT64_MAX:
                raise OverflowError("WeightOverflow: the intercept would leave int64")
            if new.min() < INT32_MIN or new.max() > INT32_MAX:
                raise OverflowError(f"WeightOverflow: feature {int(idx[np.argmax(np.abs(new))])} would leave int32")
            coef[idx] = new
            b += delta
            self.n_updates_ += 1
        self.intercept_ = b

    def decision_function(self, X) -> np.ndarray:
        X = sparse_rows(X, self.n_features)
        return X @ self.coef_ + self.intercept_

    def predict(self, X) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(np.int64)

    # -- the chain side ---------------------------------------------------------------------
    def to_chain_params(self) -> dict:
        if not hasattr(self, "coef_"):
            self._init_state()
        return {"numFeatures": self.n_features, "maxInputLength": self.max_length_,
                "learningRate": self.learning_rate, "intercept": self.intercept_,
                "weights": [int(w) for w in self.coef_]}

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numFeatures"], p["maxInputLength"], p["learningRate"], p["intercept"])

    def init_calls(self, contract, block_gas_limit: int):
        words = pack_int32_words(self.to_chain_params()["weights"])
        per_tx = max(1, (block_gas_limit * 9 // 10 - CHUNK_OVERHEAD_GAS) // GAS_PER_NEW_WORD)
        calls = []
        for start in range(0, len(words), per_tx):
            chunk = words[start:start + per_tx]
            if any(chunk):  # storage starts at zero: all-zero chunks need no transaction
                calls.append((contract.functions.setWeightWords(start, chunk), "deploy:weights"))
        return calls

    @classmethod
    def from_chain(cls, contract, **params):
        f = contract.functions
        n_features = f.numFeatures().call()
        model = cls(n_features=n_features, learning_rate=f.learningRate().call(),
                    max_input_length=f.maxInputLength().call(), **params)
        n_words = f.numWords().call()
        words = []
        for start in range(0, n_words, 2048):
            words += f.getWeightWords(start, min(2048, n_words - start)).call()
        model._init_state(unpack_int32_words(words, n_features), f.intercept().call())
        return model


def pack_int32_words(weights) -> list[int]:
    """Eight int32 per uint256 word, feature ``f`` in lane ``f % 8`` (bits 32*lane and up)."""
    weights = [int(w) for w in weights]
    for f, w in enumerate(weights):
        if not INT32_MIN <= w <= INT32_MAX:
            raise OverflowError(f"weight of feature {f} ({w}) does not fit in int32")
    words = []
    for start in range(0, len(weights), WEIGHTS_PER_WORD):
        word = 0
        for lane, w in enumerate(weights[start:start + WEIGHTS_PER_WORD]):
            word |= (w & 0xFFFFFFFF) << (32 * lane)
        words.append(word)
    return words


def unpack_int32_words(words, n_features: int) -> np.ndarray:
    out = np.zeros(n_features, dtype=np.int64)
    for f in range(n_features):
        lane = (words[f // WEIGHTS_PER_WORD] >> (32 * (f % WEIGHTS_PER_WORD))) & 0xFFFFFFFF
        out[f] = lane - (1 << 32) if lane >= 1 << 31 else lane
    return out

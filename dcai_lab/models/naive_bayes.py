"""Multinomial Naive Bayes: the twin of ``NaiveBayes.sol``."""
from __future__ import annotations

import numpy as np

from ..errors import ParameterOverflow
from ._base import (ChainModel, check_labels, pack_lanes, read_words, row_tokens, sparse_rows, state_array,
                    unpack_lanes)

COUNT_MAX = 2**32 - 1
TOKENS_MAX = 2**53 - 1
MANTISSA_LIMIT = 1 << 128
# Float log-scores decide unless the best two are this close; then the contract's integer products
# decide. Their truncation error is below 1e-15 in log space, float64's below 1e-10 for any input the
# contract accepts, so the screen never picks differently from the exact comparison.
CLOSE_CALL = 1e-7


class NaiveBayes(ChainModel):
    """Multinomial Naive Bayes on token indices, any number of classes, with the contract's arithmetic.

    predict = argmax_c  N_c * prod_tokens (S_cf + alpha) / (T_c + alpha * V): scikit-learn's
    ``MultinomialNB(alpha, fit_prior=True)`` as a product instead of a sum of logarithms. The contract
    keeps each product as a 128-bit mantissa and a binary exponent and compares classes exactly; this
    twin reproduces that bit for bit (``alpha = smoothing / 1000``). A sample is a non-decreasing list of
    feature indices; a repeated index counts the token again (a scipy sparse matrix holds the counts).

    Parameters
    ----------
    n_features : int
        Vocabulary size V.
    n_classes : int
        Number of classes; labels are 0 .. n_classes - 1.
    smoothing : int
        alpha in fixed point: 1000 is Laplace smoothing (alpha = 1).
    max_input_length : int, optional
        Most tokens per sample (the contract's per-contribution cap); default 1000.
    """

    contract_name = "NaiveBayes"
    chain_param_keys = ("numClasses", "numFeatures", "maxInputLength", "smoothing", "samples", "tokens", "counts")
    SCALE = 1000

    def __init__(self, *, n_features=1000, n_classes=2, smoothing=1000, max_input_length=None):
        self.n_features = n_features
        self.n_classes = n_classes
        self.smoothing = smoothing
        self.max_input_length = max_input_length

    @property
    def max_length_(self) -> int:
        return self.max_input_length or 1000

    def _init_state(self, counts=None, samples=None):
        V, C = self.n_features, self.n_classes
        if self.smoothing < 1 or self.smoothing * V >= 2**63:
            raise ValueError(f"smoothing must be at least 1 and smoothing * n_features below 2**63")
        self.classes_ = np.arange(C)
        self.feature_count_ = np.zeros((V, C), np.int64) if counts is None else np.asarray(counts, np.int64).reshape(V, C)
        self.class_count_ = np.zeros(C, np.int64) if samples is None else np.asarray(samples, np.int64)

    def set_state(self, feature_count=None, class_count=None):
        """Give the model these counts (zero counts for what is not given).

        Parameters
        ----------
        feature_count : array-like of int, optional
            Token counts S_cf, shape (n_features, n_classes), or flat feature-major (f * n_classes + c)
            as in the chain parameters; each a uint32.
        class_count : sequence of int, optional
            Samples N_c per class (the prior), each below 2**63 (the twin holds them as int64; the
            contract would take up to 2**64 - 1, far past anything contributions can add).

        Returns
        -------
        self
        """
        V, C = self.n_features, self.n_classes
        if feature_count is not None:
            feature_count = state_array(feature_count, (V, C), 32, signed=False, what="feature_count")
            if feature_count.sum(axis=0).max(initial=0) > TOKENS_MAX:
                raise ValueError(f"feature_count: a class has more than {TOKENS_MAX} tokens (2**53 - 1)")
        if class_count is not None:
            class_count = state_array(class_count, (C,), 63, signed=False, what="class_count")
        self._init_state(feature_count, class_count)
        return self

    @classmethod
    def from_chain_params(cls, params: dict, **estimator_params):
        cls._check_chain_params(params)
        model = cls(n_features=params["numFeatures"], n_classes=params["numClasses"], smoothing=params["smoothing"],
                    max_input_length=params["maxInputLength"], **estimator_params)
        model.set_state(params["counts"], params["samples"])
        if [int(t) for t in params["tokens"]] != model.token_count_.tolist():
            raise ValueError("the chain parameters' tokens do not match their counts (tokens[c] is the sum of "
                             "counts[f * numClasses + c] over f)")
        return model

    @property
    def token_count_(self) -> np.ndarray:
        return self.feature_count_.sum(axis=0)

    def fit(self, X, y):
        self._init_state()
        return self.partial_fit(X, y)

    def partial_fit(self, X, y, classes=None):
        """Add the samples' counts, as the contract does for each contribution."""
        if not hasattr(self, "feature_count_"):
            self._init_state()
        X = self._rows(X)
        y = check_labels(y, self.n_classes)
        onehot = np.zeros((len(y), self.n_classes), np.int64)
        onehot[np.arange(len(y)), y] = 1
        counts = self.feature_count_ + np.asarray((X.T @ onehot))
        tokens = counts.sum(axis=0)
        if counts.max(initial=0) > COUNT_MAX or tokens.max(initial=0) > TOKENS_MAX:
            if len(y) == 1:
                raise ParameterOverflow("CountOverflow", "CountOverflow: a count would pass 2**32 - 1 or a class's tokens 2**53 - 1")
            for i in range(len(y)):  # counts only grow: apply samples up to the one the contract refuses
                self.partial_fit(X[i], y[i:i + 1])
        self.feature_count_ = counts
        self.class_count_ = self.class_count_ + onehot.sum(axis=0)
        return self

    def _rows(self, X):
        return sparse_rows(X, self.n_features, self.max_length_, repeats=True)

    def _log_scores(self, X) -> np.ndarray:
        alpha, V = self.smoothing, self.n_features
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.class_count_.astype(float))
        log_num = np.log(self.feature_count_ * self.SCALE + alpha)
        log_den = np.log(self.token_count_.astype(float) * self.SCALE + alpha * V)
        lengths = np.asarray(X.sum(axis=1)).reshape(-1, 1)
        return log_prior + X @ log_num - lengths * log_den

    def predict(self, X) -> np.ndarray:
        X = self._rows(X)
        scores = self._log_scores(X)
        best = np.argmax(scores, axis=1)
        ordered = np.sort(scores, axis=1)
        with np.errstate(invalid="ignore"):  # -inf - -inf (classes without samples) is NaN: a close call
            gap = ordered[:, -1] - ordered[:, -2]
        for i in np.flatnonzero(~(gap > CLOSE_CALL)):  # close calls (and -inf ties): the exact products
            best[i] = self._predict_exact(row_tokens(X, i))
        return best.astype(np.int64)

    def predict_log_proba(self, X) -> np.ndarray:
        """Normalised log-probabilities in floating point (for inspection; predict is exact)."""
        scores = self._log_scores(sparse_rows(X, self.n_features, repeats=True))
        return scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)

    def _predict_exact(self, tokens) -> int:
        best, top = 0, None
        for c in range(self.n_classes):
            p = self._product(tokens, c)
            if top is None or _beats(p, top):
                best, top = c, p
        return best

    def _product(self, tokens, c):
        alpha = self.smoothing
        den_factor = int(self.token_count_[c]) * self.SCALE + alpha * self.n_features
        num_m, num_e, den_m, den_e = int(self.class_count_[c]), 0, 1, 0
        column = self.feature_count_[:, c]
        for f in tokens:
            num_m *= int(column[f]) * self.SCALE + alpha
            if num_m >= MANTISSA_LIMIT:
                num_m, num_e = num_m >> 64, num_e + 64
            den_m *= den_factor
            if den_m >= MANTISSA_LIMIT:
                den_m, den_e = den_m >> 64, den_e + 64
        return num_m, num_e, den_m, den_e

    def to_chain_params(self) -> dict:
        if not hasattr(self, "feature_count_"):
            self._init_state()
        return {"numClasses": self.n_classes, "numFeatures": self.n_features, "maxInputLength": self.max_length_,
                "smoothing": self.smoothing, "samples": [int(v) for v in self.class_count_],
                "tokens": [int(v) for v in self.token_count_],
                "counts": [int(v) for v in self.feature_count_.reshape(-1)]}  # feature-major: f * C + c

    def constructor_args(self) -> tuple:
        p = self.to_chain_params()
        return (p["numClasses"], p["numFeatures"], p["maxInputLength"], p["smoothing"], p["samples"], p["tokens"])

    def words(self) -> list[int]:
        return pack_lanes(self.to_chain_params()["counts"], 32, signed=False)

    @classmethod
    def from_chain(cls, contract, **params):
        f = contract.functions
        model = cls(n_features=f.numFeatures().call(), n_classes=f.numClasses().call(),
                    smoothing=f.smoothing().call(), max_input_length=f.maxInputLength().call(), **params)
        totals = [f.classTotals(c).call() for c in range(model.n_classes)]
        counts = unpack_lanes(read_words(contract), model.n_features * model.n_classes, 32, signed=False)
        model._init_state(counts, [s for s, _ in totals])
        if [t for _, t in totals] != model.token_count_.tolist():
            raise ValueError("the contract's token totals do not match its counts")
        return model


def _beats(a, b) -> bool:
    """a.num / a.den > b.num / b.den, exactly as the contract compares mantissa-exponent pairs."""
    return _greater(a[0] * b[2], a[1] + b[3], b[0] * a[2], b[1] + a[3])


def _greater(p1: int, e1: int, p2: int, e2: int) -> bool:
    """p1 * 2**e1 > p2 * 2**e2."""
    return p1 << max(0, e1 - e2) > p2 << max(0, e2 - e1)

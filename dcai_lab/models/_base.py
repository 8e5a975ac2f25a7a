"""What every Python twin of a contract model shares."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin


class ChainModel(ClassifierMixin, BaseEstimator, ABC):
    """A scikit-learn estimator whose arithmetic is its contract's, bit for bit.

    Subclasses name their contract, say how to deploy it (constructor arguments, then initialisation
    transactions in chunks that fit a block), and read a deployed contract's state back.
    """

    contract_name: str

    @abstractmethod
    def to_chain_params(self) -> dict:
        """Everything the contract is deployed with, as plain Python values."""

    @abstractmethod
    def constructor_args(self) -> tuple:
        """Arguments of the contract's constructor."""

    @abstractmethod
    def init_calls(self, contract, block_gas_limit: int) -> list[tuple[object, str]]:
        """(web3 call, operation name) pairs that load the initial parameters, each fitting a block."""

    @classmethod
    @abstractmethod
    def from_chain(cls, contract):
        """A twin holding the state of the deployed ``contract``."""


def sparse_rows(X, n_features: int, max_length: int | None = None) -> sp.csr_matrix:
    """Binary CSR matrix from sparse input, checked by the contract's rules.

    ``X`` is a scipy sparse matrix (non-zero entries are present features) or a sequence of samples,
    each a sequence of strictly increasing feature indices in ``[0, n_features)``.
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.shape[1] != n_features:
            raise ValueError(f"X has {X.shape[1]} features, the model has {n_features}")
        X.eliminate_zeros()
        X.sort_indices()
        X.data = np.ones_like(X.data, dtype=np.int64)
        rows = [X.indices[X.indptr[i]:X.indptr[i + 1]] for i in range(X.shape[0])]
    else:
        rows = [np.asarray(r, dtype=np.int64).reshape(-1) for r in X]
        for i, r in enumerate(rows):
            check_sparse_sample(r, n_features, max_length, where=f"sample {i}")
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        X = sp.csr_matrix((np.ones(len(indices), dtype=np.int64), indices, indptr), shape=(len(rows), n_features))
    if max_length is not None:
        lengths = np.diff(X.indptr)
        if len(lengths) and (lengths.min() == 0 or lengths.max() > max_length):
            bad = int(np.flatnonzero((lengths == 0) | (lengths > max_length))[0])
            raise ValueError(f"sample {bad} has {lengths[bad]} features; the model takes 1 to {max_length}")
    return X


def check_sparse_sample(indices, n_features: int, max_length: int | None = None, where: str = "sample") -> None:
    """The contract's SparseInput rules, with the same wording as its errors."""
    n = len(indices)
    if n == 0:
        raise ValueError(f"{where}: EmptyData — a sample needs at least one feature")
    if max_length is not None and n > max_length:
        raise ValueError(f"{where}: TooManyFeatures — {n} features, the model takes at most {max_length}")
    if n and (indices.min() < 0 or indices.max() >= n_features):
        raise ValueError(f"{where}: IndexOutOfRange — indices must be in [0, {n_features})")
    if n > 1 and np.any(np.diff(indices) <= 0):
        raise ValueError(f"{where}: IndicesNotIncreasing — indices must be sorted and unique")


def check_binary_labels(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    bad = y[(y != 0) & (y != 1)]
    if bad.size:
        raise ValueError(f"UnknownLabel — labels must be 0 or 1, got {bad[0]}")
    return y

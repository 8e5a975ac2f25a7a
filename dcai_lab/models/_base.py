"""What every Python twin of a contract model shares."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

# Gas to write one fresh parameter word plus its calldata: sizes the initialisation chunks.
GAS_PER_NEW_WORD = 22_100 + 32 * 16
CHUNK_OVERHEAD_GAS = 100_000
# Fixed point of dense inputs (DenseInput.ONE in the contracts): 1_000_000 means 1.0.
DENSE_ONE = 1_000_000


class ChainModel(ClassifierMixin, BaseEstimator, ABC):
    """A scikit-learn estimator whose arithmetic is its contract's, bit for bit.

    A subclass names its contract, gives its constructor arguments and its parameter words (the
    contract's PackedWords, loaded in chunks that fit a block), and reads a deployed contract back.
    ``to_chain_params()`` is the whole state, so two twins hold the same model exactly when their
    chain parameters are equal.
    """

    contract_name: str

    @abstractmethod
    def to_chain_params(self) -> dict:
        """Everything the contract is deployed with, as plain Python values."""

    @abstractmethod
    def constructor_args(self) -> tuple:
        """Arguments of the contract's constructor."""

    @abstractmethod
    def words(self) -> list[int]:
        """The parameter words, packed as the contract stores them."""

    @classmethod
    @abstractmethod
    def from_chain(cls, contract, **params):
        """A twin holding the state of the deployed ``contract``."""

    def prepare(self, X):
        """``X`` checked and converted once into what ``predict`` reads fastest (a CSR matrix for sparse
        models): for a test set scored again and again."""
        rows = getattr(self, "_rows", None)
        return rows(X) if rows is not None else X

    def init_calls(self, contract, block_gas_limit: int) -> list[tuple[object, str]]:
        """(web3 call, operation name) pairs that load the words, each fitting in a block."""
        words = self.words()
        per_tx = max(1, (block_gas_limit * 9 // 10 - CHUNK_OVERHEAD_GAS) // GAS_PER_NEW_WORD)
        return [(contract.functions.setWords(start, words[start:start + per_tx]), "deploy:weights")
                for start in range(0, len(words), per_tx)
                if any(words[start:start + per_tx])]  # storage starts at zero: all-zero chunks need no transaction


def read_words(contract) -> list[int]:
    """All parameter words of a deployed PackedWords contract."""
    f = contract.functions
    total = f.numWords().call()
    words = []
    for start in range(0, total, 2048):
        words += f.getWords(start, min(2048, total - start)).call()
    return words


def pack_lanes(values, bits: int, signed: bool) -> list[int]:
    """Integers into 256-bit words, ``256 // bits`` lanes each, value i in lane i % per_word (low bits
    first); signed values as two's complement. Raises OverflowError when a value does not fit."""
    per_word, mask = 256 // bits, (1 << bits) - 1
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, mask)
    words = []
    values = [int(v) for v in values]
    for start in range(0, len(values), per_word):
        word = 0
        for lane, v in enumerate(values[start:start + per_word]):
            if not lo <= v <= hi:
                kind = "int" if signed else "uint"
                raise OverflowError(f"value {v} at position {start + lane} does not fit in {kind}{bits}")
            word |= (v & mask) << (bits * lane)
        words.append(word)
    return words


def unpack_lanes(words, count: int, bits: int, signed: bool) -> np.ndarray:
    per_word, mask = 256 // bits, (1 << bits) - 1
    out = np.zeros(count, dtype=np.int64 if bits < 64 or signed else np.uint64)
    for i in range(count):
        v = (words[i // per_word] >> (bits * (i % per_word))) & mask
        out[i] = v - (1 << bits) if signed and v >> (bits - 1) else v
    return out


def sparse_rows(X, n_features: int, max_length: int | None = None, repeats: bool = False) -> sp.csr_matrix:
    """CSR matrix of counts from sparse input, checked by the contract's rules.

    ``X`` is a scipy sparse matrix (entries are counts; binary for presence) or a sequence of samples,
    each a sequence of increasing feature indices in ``[0, n_features)`` (non-decreasing with
    ``repeats``: a repeated index counts again).
    """
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.int64)
        if X.shape[1] != n_features:
            raise ValueError(f"X has {X.shape[1]} features, the model has {n_features}")
        X.eliminate_zeros()
        X.sort_indices()
        if not repeats:
            X.data = np.ones_like(X.data)
        elif X.data.min(initial=1) < 0:
            raise ValueError("counts must be non-negative")
    else:
        rows = [np.asarray(r, dtype=np.int64).reshape(-1) for r in X]
        for i, r in enumerate(rows):
            check_sparse_sample(r, n_features, max_length, repeats, where=f"sample {i}")
        lengths = [len(r) for r in rows]
        indices = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        row_of = np.repeat(np.arange(len(rows)), lengths)
        X = sp.csr_matrix((np.ones(len(indices), dtype=np.int64), (row_of, indices)), shape=(len(rows), n_features))
        X.sum_duplicates()
    if max_length is not None:
        lengths = np.asarray(X.sum(axis=1)).reshape(-1)
        bad = np.flatnonzero((lengths == 0) | (lengths > max_length))
        if len(bad):
            raise ValueError(f"sample {bad[0]} has {lengths[bad[0]]} features; the model takes 1 to {max_length}")
    return X


def row_tokens(X: sp.csr_matrix, i: int) -> np.ndarray:
    """The contract's input for row i: indices, each repeated by its count."""
    lo, hi = X.indptr[i], X.indptr[i + 1]
    return np.repeat(X.indices[lo:hi], X.data[lo:hi])


def check_sparse_sample(indices, n_features: int, max_length: int | None = None, repeats: bool = False,
                        where: str = "sample") -> None:
    """The contract's SparseInput rules, with the same wording as its errors."""
    n = len(indices)
    if n == 0:
        raise ValueError(f"{where}: EmptyData — a sample needs at least one feature")
    if max_length is not None and n > max_length:
        raise ValueError(f"{where}: TooManyFeatures — {n} features, the model takes at most {max_length}")
    if indices.min() < 0 or indices.max() >= n_features:
        raise ValueError(f"{where}: IndexOutOfRange — indices must be in [0, {n_features})")
    steps = np.diff(indices)
    if n > 1 and (np.any(steps < 0) if repeats else np.any(steps <= 0)):
        order = "non-decreasing" if repeats else "sorted and unique"
        raise ValueError(f"{where}: IndicesNotIncreasing — indices must be {order}")


def dense_rows(X, n_features: int, max_abs: int) -> np.ndarray:
    """Fixed-point samples as an int64 array, checked by the contract's DenseInput rules."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ValueError(f"WrongLength — samples must have {n_features} values, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.integer):
        raise TypeError("dense samples are fixed-point integers (1_000_000 = 1.0): use encoders.FixedPoint")
    X = X.astype(np.int64)
    if X.size and np.abs(X).max() > max_abs:
        raise ValueError(f"ValueOutOfRange — values must be within ±{max_abs}")
    return X


def check_labels(y, n_classes: int) -> np.ndarray:
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    bad = y[(y < 0) | (y >= n_classes)]
    if bad.size:
        raise ValueError(f"UnknownLabel — labels must be 0 .. {n_classes - 1}, got {bad[0]}")
    return y


def object_ints(a) -> np.ndarray:
    """An array of Python ints: exact arithmetic where int64 could overflow."""
    return np.asarray(a, dtype=np.int64).astype(object)

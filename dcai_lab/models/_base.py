"""What every Python twin of a contract model shares."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin

from .. import inputs
from ..errors import InputRefused, InvalidInput

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
    chain parameters are equal; ``from_chain_params`` is its inverse. ``set_state`` gives a twin a
    chosen state (weights, counts or sums) without training, e.g. to deploy a given model.
    Constructor parameters are keyword-only, as in scikit-learn.
    """

    contract_name: str
    # The keys of to_chain_params(), which from_chain_params() takes: exactly these.
    chain_param_keys: tuple[str, ...]

    @abstractmethod
    def to_chain_params(self) -> dict:
        """Everything the contract is deployed with, as plain Python values."""

    @classmethod
    @abstractmethod
    def from_chain_params(cls, params: dict, **estimator_params) -> "ChainModel":
        """The twin whose ``to_chain_params()`` is ``params``: the inverse of :meth:`to_chain_params`.

        Parameters
        ----------
        params : dict
            Chain parameters, with exactly the keys :attr:`chain_param_keys`. Derived values (Naive
            Bayes' token totals, nearest centroid's squared norms) must agree with the counts or sums.
        **estimator_params
            Constructor arguments the contract does not hold (``max_iter``, ``shuffle``,
            ``random_state``), as for :meth:`from_chain`.

        Returns
        -------
        ChainModel
            A twin with that state: ``type(m).from_chain_params(m.to_chain_params())`` predicts as
            ``m`` and has the same chain parameters.
        """

    @abstractmethod
    def set_state(self, *state) -> "ChainModel":
        """Give the twin this state instead of training it (the arguments differ per model: see the
        subclass); no argument means the zero state a new contract starts from. Returns ``self``."""

    @classmethod
    def _check_chain_params(cls, params: dict) -> None:
        """Refuse chain parameters of another model: missing or unexpected keys, named."""
        if not isinstance(params, dict):
            raise TypeError(f"{cls.__name__}.from_chain_params takes a dict, got {type(params).__name__}")
        missing = [k for k in cls.chain_param_keys if k not in params]
        unexpected = sorted(set(params) - set(cls.chain_param_keys))
        if missing or unexpected:
            raise ValueError(f"not {cls.__name__} chain parameters: "
                             + "; ".join(part for part in (missing and f"missing {', '.join(missing)}",
                                                           unexpected and f"unexpected {', '.join(unexpected)}")
                                         if part)
                             + f" (expected {', '.join(cls.chain_param_keys)})")

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
        return [(contract.functions.setWords(start, words[start:start + per_tx]), "weights")
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
        if X.dtype.kind not in "iub":
            fractional = X.data[~np.isfinite(X.data) | (X.data != np.round(X.data))]
            if fractional.size:  # e.g. tf-idf weights: an integer cast would drop them without a word
                raise InvalidInput(f"sparse matrix holds {fractional[0]!r}, not a count: {inputs.SPARSE_FIX}")
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
        rows = [inputs.sample_array(r, dense=False, where=f"sample {i}") for i, r in enumerate(X)]
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
            error = "EmptyData" if lengths[bad[0]] == 0 else "TooManyFeatures"
            raise InputRefused(error, f"sample {bad[0]} has {lengths[bad[0]]} features; the model takes 1 to "
                                      f"{max_length}")
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
        raise InputRefused("EmptyData", f"{where}: EmptyData — a sample needs at least one feature")
    if max_length is not None and n > max_length:
        raise InputRefused("TooManyFeatures", f"{where}: TooManyFeatures — {n} features, the model takes at most "
                            f"{max_length}", {"length": n, "maxLength": max_length})
    if indices.min() < 0 or indices.max() >= n_features:
        raise InputRefused("IndexOutOfRange", f"{where}: IndexOutOfRange — indices must be in [0, {n_features})")
    steps = np.diff(indices)
    if n > 1 and (np.any(steps < 0) if repeats else np.any(steps <= 0)):
        order = "non-decreasing" if repeats else "sorted and unique"
        raise InputRefused("IndicesNotIncreasing", f"{where}: IndicesNotIncreasing — indices must be {order}")


def dense_rows(X, n_features: int, max_abs: int) -> np.ndarray:
    """Fixed-point samples as an int64 array, checked by the contract's DenseInput rules."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise InputRefused("WrongLength", f"WrongLength — samples must have {n_features} values, got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.integer):
        bad = next((v for v in X.reshape(-1).tolist() if not isinstance(v, int)), X.dtype)
        raise InvalidInput(f"dense samples hold {bad!r} ({X.dtype}), not integers: {inputs.DENSE_FIX}")
    X = X.astype(np.int64)
    if X.size and np.abs(X).max() > max_abs:
        raise InputRefused("ValueOutOfRange", f"ValueOutOfRange — values must be within ±{max_abs}")
    return X


def check_labels(y, n_classes: int) -> np.ndarray:
    y = np.asarray(inputs.labels(y), dtype=np.int64)
    bad = y[(y < 0) | (y >= n_classes)]
    if bad.size:
        raise InputRefused("UnknownLabel", f"UnknownLabel — labels must be 0 .. {n_classes - 1}, got {bad[0]}")
    return y


def state_array(values, shape: tuple[int, ...], bits: int, signed: bool, what: str) -> np.ndarray:
    """``values`` as an int64 array of ``shape`` (a flat sequence in C order also fits), each an integer
    within the contract's ``bits``-wide lanes: a state the contract could not hold is refused here, named,
    rather than when it is packed for deployment."""
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    size = int(np.prod(shape))
    arr = np.asarray(values)
    if arr.size != size:
        raise ValueError(f"{what} must have {' x '.join(map(str, shape))} = {size} values, got {arr.size}")
    arr = arr.reshape(-1)
    if arr.dtype.kind not in "iu":  # floats or Python ints past int64: check each value exactly
        ints = arr.astype(object)
        fractional = [i for i, v in enumerate(ints) if int(v) != v]
        if fractional:
            raise ValueError(f"{what}: value {ints[fractional[0]]} at position {fractional[0]} is not an integer")
        arr = ints
    if arr.size and not (lo <= int(arr.min()) and int(arr.max()) <= hi):
        position = int(np.argmin(arr) if int(arr.min()) < lo else np.argmax(arr))
        kind = "int" if signed else "uint"
        raise ValueError(f"{what}: value {arr[position]} at position {position} does not fit in {kind}{bits}")
    return arr.astype(np.int64).reshape(shape)


def object_ints(a) -> np.ndarray:
    """An array of Python ints: exact arithmetic where int64 could overflow."""
    return np.asarray(a, dtype=np.int64).astype(object)

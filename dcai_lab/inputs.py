"""What a sample and a label must be before they reach a contract or a twin: integers, in the ABI's range.

The contracts take ``int64[]`` samples and ``uint64`` labels. web3 would refuse other values with an
error that names nothing, and numpy would truncate ``1.9`` to ``1`` without a word; both are refused here
with :class:`~dcai_lab.errors.InvalidInput`, naming the value, where it is and the fix.
"""
from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .errors import InvalidInput

INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)
DENSE_FIX = "dense models take fixed-point integers (1_000_000 = 1.0): encode floats with encoders.FixedPoint"
SPARSE_FIX = "sparse models take feature indices: integers, as an encoder's transform gives them"


def sample(x, *, dense: bool | None = None, where: str = "sample") -> list[int]:
    """``x`` as the contract's ``int64[]``: every value an integer within int64.

    ``dense`` (True for a dense model, False for a sparse one, None when unknown) chooses the fix the
    message suggests. A float is refused even when it is whole, for a dense model: ``1.0`` would mean
    0.000001 on chain, not 1.0.
    """
    return sample_array(x, dense=dense, where=where).tolist()


def sample_array(x, *, dense: bool | None = None, where: str = "sample") -> np.ndarray:
    """As :func:`sample`, as an int64 array (the twins' form: no round trip through a list)."""
    if isinstance(x, (str, bytes)):
        raise InvalidInput(f"{where} is text ({x!r:.40}): encode it with the model's encoder first")
    try:
        array = x if isinstance(x, np.ndarray) else np.asarray(x)
    except ValueError:  # ragged
        raise InvalidInput(f"{where} must be a flat sequence of integers, got {x!r:.60}") from None
    if array.ndim != 1:
        raise InvalidInput(f"{where} must be a flat sequence of integers, got shape {array.shape}")
    if array.dtype.kind == "i" or (array.dtype.kind == "u" and (not array.size or array.max() <= INT64[1])):
        return array.astype(np.int64, copy=False)  # the common case, checked at numpy's speed
    return np.array([_integer(v, f"{where}[{i}]", INT64, _fix(dense), floats_ok=dense is False)
                     for i, v in enumerate(x)], dtype=np.int64)


def label(y, *, where: str = "label") -> int:
    """``y`` as the contract's ``uint64`` label: a non-negative integer."""
    return _integer(y, where, UINT64, "labels are class numbers 0, 1, ... (map string labels to them first)",
                    floats_ok=False)


def labels(y, *, where: str = "labels") -> list[int]:
    """Every label of ``y`` checked by :func:`label`."""
    array = np.asarray(y)
    if array.dtype.kind in "iu" and (not array.size or array.min() >= 0):
        return array.reshape(-1).tolist()
    return [label(v, where=f"{where}[{i}]") for i, v in enumerate(array.reshape(-1).tolist())]


def _fix(dense: bool | None) -> str:
    if dense is None:
        return f"{SPARSE_FIX}; {DENSE_FIX}"
    return DENSE_FIX if dense else SPARSE_FIX


def _integer(v, where: str, bounds: tuple[int, int], fix: str, floats_ok: bool) -> int:
    if isinstance(v, (bool, np.bool_)):
        raise InvalidInput(f"{where} is {v!r}, a boolean, not an integer: {fix}")
    if isinstance(v, Integral):
        value = int(v)
    elif isinstance(v, Real):
        f = float(v)
        if not math.isfinite(f):
            raise InvalidInput(f"{where} is {f}, not a finite number: {fix}")
        if not (floats_ok and f.is_integer()):
            raise InvalidInput(f"{where} is {v!r}, not an integer: {fix}")
        value = int(f)
    else:
        raise InvalidInput(f"{where} is {type(v).__name__} {v!r:.40}, not an integer: {fix}")
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidInput(f"{where} is {value}, outside [{bounds[0]}, {bounds[1]}]: {fix}")
    return value

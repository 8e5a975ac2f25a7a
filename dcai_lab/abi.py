"""ABI encoding of calls and decoding of events, fast for the shapes the lab's contracts use.

Every contribution sends a sample as an integer array and gets it back in an event. eth-abi validates and
encodes such an array one element at a time, and web3's event decoding adds a normalising pass over every
element: together most of the client's time per transaction on a fast engine. Here integer arrays are
encoded and decoded with numpy in one step each; every other type goes through eth-abi itself, and so does
anything the fast path is not sure of (a value out of range, a bool, a float), so eth-abi's own errors
are kept. Tests check both against eth-abi and web3 on random values.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.grammar import TupleType, parse
from eth_utils import is_address, keccak, to_canonical_address, to_checksum_address
from eth_utils.abi import get_abi_input_types

_INT = re.compile(r"^(u?)int(\d+)$")
_WORD = 32


@lru_cache(maxsize=None)
def _int_type(abi_type: str) -> tuple[int, int] | None:
    """(lowest, highest) values of an integer type, or None for another type."""
    match = _INT.match(abi_type)
    if not match:
        return None
    bits = int(match[2])
    return (0, 2**bits - 1) if match[1] else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@lru_cache(maxsize=None)
def _int_array(abi_type: str) -> tuple[int, int] | None:
    """Bounds of the items of a one-dimensional array of integers of at most 64 bits (they fit numpy's int64,
    but for uint64 above 2**63, which eth-abi takes), or None."""
    if not abi_type.endswith("[]") or (bounds := _int_type(abi_type[:-2])) is None or bounds[1] >= 2**64:
        return None
    return bounds


def _int_words(values, bounds) -> bytes | None:
    """32-byte two's-complement words of integer ``values`` within ``bounds``; None if they are not plain
    integers in range (eth-abi then encodes them, or says what is wrong)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind not in "iu" or values.ndim != 1:
            return None
        array = values
    else:
        if not all(type(v) is int for v in values):  # bools and floats are eth-abi's to refuse
            return None
        try:
            array = np.array(values, dtype=np.int64)
        except OverflowError:
            return None
    if array.size and (array.min() < bounds[0] or array.max() > bounds[1]):
        return None
    words = np.zeros((array.size, _WORD), dtype=np.uint8)
    if array.size:
        words[:, _WORD - 8:] = array.astype(">i8").view(np.uint8).reshape(-1, 8)
        words[array < 0, : _WORD - 8] = 0xFF
    return words.tobytes()


def _static_word(abi_type: str, value) -> bytes | None:
    """The one word of a static value the fast path covers (an integer in range, an address, a bool, 32
    bytes), or None."""
    if (bounds := _int_type(abi_type)) is not None:
        if type(value) is int and bounds[0] <= value <= bounds[1]:
            return value.to_bytes(_WORD, "big", signed=value < 0)
    elif abi_type == "address":
        if isinstance(value, str) and is_address(value):
            return bytes(12) + to_canonical_address(value)
    elif abi_type == "bool":
        if type(value) is bool:
            return int(value).to_bytes(_WORD, "big")
    elif abi_type == "bytes32":
        if isinstance(value, bytes) and len(value) == _WORD:
            return bytes(value)
    return None


def encode_arguments(types: list[str], args) -> bytes:
    """``eth_abi.encode(types, args)``, with scalars written directly and one-dimensional integer arrays of
    at most 64 bits encoded in one numpy step (the head-and-tail layout of the ABI specification). Numpy arrays are
    taken wherever eth-abi takes a list."""
    try:
        return _encode_fast(types, args)
    except _NotCovered:
        return abi_encode(types, [a.tolist() if isinstance(a, np.ndarray) else a for a in args])


class _NotCovered(Exception):
    """A value the fast path leaves to eth-abi."""


def _encode_fast(types, args) -> bytes:
    heads, tails = [], []
    offset = _WORD * len(types)
    for abi_type, value in zip(types, args, strict=True):
        if (bounds := _int_array(abi_type)) is not None:
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
                raise _NotCovered
            words = _int_words(value, bounds)
            if words is None:
                raise _NotCovered
            tail = len(value).to_bytes(_WORD, "big") + words
            heads.append(offset.to_bytes(_WORD, "big"))
            tails.append(tail)
            offset += len(tail)
        elif (word := _static_word(abi_type, value)) is not None:
            heads.append(word)
        else:
            raise _NotCovered
    return b"".join(heads + tails)


@lru_cache(maxsize=None)
def _selector(name: str, types: tuple[str, ...]) -> bytes:
    return keccak(text=f"{name}({','.join(types)})")[:4]


def call_data(abi: dict, args) -> bytes:
    """Selector and encoded arguments of a call to the function ``abi`` (an ABI entry)."""
    types = get_abi_input_types(abi)
    return _selector(abi["name"], tuple(types)) + encode_arguments(types, args)


# -- events -----------------------------------------------------------------------------------------
class _Event:
    """One event's ABI, prepared once: its topic, and where each argument is."""

    def __init__(self, entry: dict):
        from eth_utils.abi import collapse_if_tuple

        self.name = entry["name"]
        inputs = entry["inputs"]
        self.types = [collapse_if_tuple(i) for i in inputs]
        self.topic = keccak(text=f"{self.name}({','.join(self.types)})")
        self.indexed = [(i["name"], t) for i, t in zip(inputs, self.types) if i.get("indexed")]
        self.data = [(i["name"], t) for i, t in zip(inputs, self.types) if not i.get("indexed")]
        self.order = [i["name"] for i in inputs]
        # Integers, addresses, bools, 32 bytes and flat integer arrays are read here; anything else by eth-abi.
        self.fast = all(_int_type(t) is not None or _int_array(t) is not None or t in ("address", "bool", "bytes32")
                        for _, t in self.data)

    def decode(self, log) -> dict:
        args = {}
        for (name, abi_type), topic in zip(self.indexed, log["topics"][1:], strict=True):
            # Indexed dynamic values are stored as their hash; the lab's events index only static ones.
            args[name] = as_web3(abi_type, abi_decode([abi_type], bytes(topic))[0])
        args.update(_decode_data(self.data, bytes(log["data"]), self.fast))
        return {name: args[name] for name in self.order}


def _decode_data(fields, data: bytes, fast: bool) -> dict:
    """The non-indexed arguments: with ``fast`` (see :class:`_Event`) read here, flat integer arrays in one
    numpy step; otherwise by eth-abi."""
    if not fast:
        return {name: as_web3(t, v) for (name, t), v in zip(fields, abi_decode([t for _, t in fields], data))}
    args = {}
    for k, (name, abi_type) in enumerate(fields):
        word = data[_WORD * k: _WORD * (k + 1)]
        if abi_type.endswith("[]"):
            start = int.from_bytes(word, "big")
            length = int.from_bytes(data[start: start + _WORD], "big")
            body = np.frombuffer(data, dtype=np.uint8, count=length * _WORD, offset=start + _WORD)
            low = body.reshape(length, _WORD)[:, _WORD - 8:].copy().view(">i8").ravel()
            kind = "u" if abi_type.startswith("u") else "i"
            args[name] = (low.astype(np.uint64) if kind == "u" else low.astype(np.int64)).tolist()
        elif abi_type == "address":
            args[name] = to_checksum_address(word[12:])
        elif abi_type == "bool":
            args[name] = word[-1] == 1
        elif abi_type == "bytes32":
            args[name] = bytes(word)
        else:
            args[name] = int.from_bytes(word, "big", signed=abi_type.startswith("int"))
    return args


def as_web3(abi_type: str, value):
    """A decoded value as web3 gives it, from a call or in an event: checksummed addresses, arrays as lists,
    structs as tuples."""
    if "address" not in abi_type and "[" not in abi_type:
        return value
    return _as_web3_node(parse(abi_type), value)


def _as_web3_node(node, value):
    if node.is_array:
        return [_as_web3_node(node.item_type, v) for v in value]
    if isinstance(node, TupleType):
        return tuple(_as_web3_node(c, v) for c, v in zip(node.components, value))
    return to_checksum_address(value) if node.base == "address" else value


_EVENTS: dict[int, tuple[list, dict]] = {}  # id(ABI) -> (ABI, {name: _Event}); one ABI per contract class


def events(contract, name: str, receipt) -> list[dict]:
    """The arguments of every ``name`` event ``contract`` emitted in the transaction of ``receipt``, in
    order, as web3's ``contract.events.<name>().process_receipt`` gives them (checksummed addresses,
    arrays as lists). Logs of other contracts or events are skipped."""
    abi = contract.abi
    cached = _EVENTS.get(id(abi))
    if cached is None or cached[0] is not abi:
        cached = _EVENTS[id(abi)] = (abi, {e["name"]: _Event(e) for e in abi if e.get("type") == "event"})
    try:
        event = cached[1][name]
    except KeyError:
        raise ValueError(f"{name!r} is not an event of this contract; its events are {sorted(cached[1])}") from None
    address = contract.address
    return [event.decode(log) for log in receipt["logs"]
            if log["address"] == address and log["topics"] and bytes(log["topics"][0]) == event.topic]


def event(contract, name: str, receipt) -> dict:
    """The arguments of the one ``name`` event ``contract`` emitted in the transaction of ``receipt``."""
    found = events(contract, name, receipt)
    if not found:
        raise ValueError(f"transaction {receipt['transactionHash'].hex()} emitted no {name} event from "
                         f"{contract.address}")
    return found[0]

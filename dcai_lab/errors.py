"""Reverts as Python exceptions that carry the contract's reason."""
from __future__ import annotations

from functools import cache

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from . import artifacts

# What a user can do about the errors they meet most; the error's own name and values say what happened.
HINTS = {
    "DepositTooSmall": "send at least `required` wei; system.deposit_required() gives the current amount, "
                       "and any excess is returned",
    "ClaimTooEarly": "wait until `availableAt` (chain.time_travel(...) on a test chain)",
    "AlreadyClaimed": "each address claims a contribution once",
    "RecordNotFound": "no contribution with this data, label, time and author: pass the exact values from its "
                      "AddData event (system.contributions())",
    "IndicesNotIncreasing": "features must be sorted, unique indices",
    "IndexOutOfRange": "every feature index must be in [0, numFeatures)",
    "TooManyFeatures": "the model caps the features per sample so that no contribution can exhaust a block",
    "UnknownLabel": "labels are 0 .. numClasses - 1",
    "NoValidContributions": "a reporter needs at least one refunded (validated) contribution of their own",
    "NotTrainer": "models, records and balances change only through the CollaborativeTrainer",
    "WrongPhase": "the market is in another phase (0 initialisation, 1 participation, 2 reveal, 3 reward, "
                  "4 collection, 5 cancelled): market.phase tells which",
    "StakeTooSmall": "send at least the market's minStake (market.min_stake); the excess is returned",
    "MarketStillOpen": "participation ends after minContributions contributions or at `endsAt`",
    "RevealMismatch": "the piece does not hash to its commitment: reveal the exact data and labels committed",
    "TestSetMismatch": "pass the revealed pieces, sample piece excluded, in piece order (market.scoring_pieces)",
    "ModelNotSaved": "save the model's initial state first (saveModel until savedWords equals numWords)",
    "StepOutOfGas": "a replay step ran out of gas: raise reserveGas (one update plus two evaluations must fit)",
}

_PANICS = {0x01: "assertion failed", 0x11: "arithmetic overflow or underflow", 0x12: "division by zero",
           0x32: "array index out of bounds"}


class ContractRevert(Exception):
    """A transaction or call reverted. ``error`` is the Solidity error's name, ``args`` its values."""

    def __init__(self, operation: str, error: str, args: dict | None = None, raw: str | bytes | None = None):
        self.operation = operation
        self.error = error
        self.args_ = dict(args or {})
        self.raw = raw
        shown = ", ".join(f"{k}={v}" for k, v in self.args_.items())
        message = f"{operation} reverted: {error}({shown})"
        if error in HINTS:
            message += f" — {HINTS[error]}"
        super().__init__(message)


@cache
def _error_table() -> dict[bytes, tuple[str, list[str], list[str]]]:
    table = {}
    for name in artifacts.names():
        for item in artifacts.load(name)["abi"]:
            if item["type"] != "error":
                continue
            types = [i["type"] for i in item["inputs"]]
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = (item["name"], [i["name"] for i in item["inputs"]], types)
    return table


def decode_revert(operation: str, data: bytes | str | None) -> ContractRevert:
    """Turn raw revert data into a ContractRevert naming the error and its arguments."""
    if isinstance(data, str):
        data = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    if not data:
        return ContractRevert(operation, "Revert", raw=data)
    selector, body = data[:4], data[4:]
    if selector == bytes.fromhex("08c379a0"):
        return ContractRevert(operation, "Error", {"reason": decode(["string"], body)[0]}, data)
    if selector == bytes.fromhex("4e487b71"):
        code = decode(["uint256"], body)[0]
        return ContractRevert(operation, "Panic", {"code": hex(code), "meaning": _PANICS.get(code, "?")}, data)
    if selector in _error_table():
        name, names, types = _error_table()[selector]
        values = decode(types, body)
        return ContractRevert(operation, name, {n: _readable(t, v) for n, t, v in zip(names, types, values)}, data)
    return ContractRevert(operation, "UnknownError", {"data": "0x" + data.hex()}, data)


def _readable(abi_type: str, value):
    if abi_type == "address":
        return to_checksum_address(value)
    return "0x" + value.hex() if isinstance(value, bytes) else value


class NodeError(RuntimeError):
    """A JSON-RPC node refused a request for a reason other than a revert (funds, nonce, a bad parameter)."""

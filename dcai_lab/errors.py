"""Reverts as Python exceptions that carry the contract's reason.

Every way a revert reaches the lab (raw revert data, a web3 or eth-tester exception, a JSON-RPC error) is
turned into a :class:`ContractRevert` here, so that the embedded chain, a node and web3's path report
the same revert the same way.
"""
from __future__ import annotations

import ast
from contextlib import contextmanager
from functools import cache

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address
from web3.exceptions import ContractLogicError

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
    "AlreadyReported": "under Points a contribution earns one report point, taken by its first reporter",
    "Soulbound": "badges record what their holder did: nobody can transfer them or be approved to",
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
    """A transaction or call reverted. ``error`` is the Solidity error's name, ``args`` its values;
    ``gas_used`` the gas the reverted transaction spent (None for a call, or a refusal before sending)."""

    def __init__(self, operation: str, error: str, args: dict | None = None, raw: str | bytes | None = None,
                 gas_used: int | None = None):
        self.operation = operation
        self.error = error
        self.args_ = dict(args or {})
        self.raw = raw
        self.gas_used = gas_used
        shown = ", ".join(f"{k}={v}" for k, v in self.args_.items())
        message = f"{operation} reverted: {error}({shown})"
        if error in HINTS:
            message += f" — {HINTS[error]}"
        super().__init__(message)


class InvalidInput(ValueError):
    """A sample or label the contracts cannot take as it is (not an integer, not finite, outside the ABI's
    range), refused before any transaction so that nothing is silently rounded or wrapped."""


class ModelRevert(ContractRevert):
    """A Python twin refuses a sample or an update exactly where its contract reverts: the same named
    error (``error``) and values. Also a ValueError (bad input) or an OverflowError (a parameter would
    leave its lane), so callers that catch those keep working."""

    def __init__(self, error: str, message: str, args: dict | None = None):
        super().__init__("update", error, args)
        self.args = (message,)


class InputRefused(ModelRevert, ValueError):
    """The sample breaks the model's input rules (``EmptyData``, ``IndexOutOfRange``, ``WrongLength``...)."""


class ParameterOverflow(ModelRevert, OverflowError):
    """An update would move a parameter out of its range (``WeightOverflow``, ``CountOverflow``,
    ``SumOverflow``)."""


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


def revert_from_exception(operation: str, exc: Exception) -> ContractRevert | None:
    """The ContractRevert inside a web3 or eth-tester exception, or None if it is something else."""
    if isinstance(exc, ContractLogicError) and exc.data:
        return decode_revert(operation, exc.data)
    message = str(exc.args[0]) if exc.args else ""
    if type(exc).__name__ != "TransactionFailed" and not isinstance(exc, ContractLogicError):
        return None
    detail = message.removeprefix("execution reverted: ").removeprefix("execution reverted")
    if detail.startswith(("b'", 'b"')):  # eth-tester passes raw revert data as the repr of bytes
        return decode_revert(operation, ast.literal_eval(detail))
    if detail:
        return ContractRevert(operation, "Error", {"reason": detail})
    return ContractRevert(operation, "Revert")


@contextmanager
def readable_reverts(operation: str):
    """Turn a revert raised by web3 or eth-tester into ContractRevert with the contract's reason; let
    anything else through unchanged."""
    try:
        yield
    except ContractRevert:
        raise
    except Exception as exc:
        revert = revert_from_exception(operation, exc)
        if revert is None:
            raise
        raise revert from None


def rpc_error(operation: str, error: dict) -> Exception:
    """The exception for a JSON-RPC response's ``error`` member: ContractRevert if the node says the
    request reverted (with revert data, or only a message, as some nodes give), else NodeError."""
    data, message = error.get("data"), str(error.get("message", ""))
    if isinstance(data, dict):  # EDR (Hardhat's engine) nests the revert data with its reason
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) > 2:
        return decode_revert(operation, data)
    if "revert" in message:
        return revert_from_exception(operation, ContractLogicError(message))
    return NodeError(f"{operation}: the node refused the request: {message} (code {error.get('code')})")


class _Expected:
    """What :func:`reverts` yields: ``value`` is the ContractRevert once the block has raised it."""

    value: ContractRevert | None = None


@contextmanager
def reverts(error: str, **args):
    """Assert that the block reverts with the contract error ``error`` (and these argument values).

    ``with reverts("ClaimTooEarly", availableAt=t): system.refund(c)`` reads as the rule it checks, and a
    failure says what happened instead: nothing reverted, or which other error (with its values) did.
    Exceptions other than a revert pass through unchanged, as with ``pytest.raises``: they are not a
    wrong reason but a different failure. Yields an object whose ``value`` is the revert.

    Parameters
    ----------
    error : str
        The Solidity error's name (``"DepositTooSmall"``), or ``"Error"``, ``"Panic"``, ``"Revert"``,
        ``"OutOfGas"`` for the standard forms.
    **args
        Argument values the error must carry; others are not checked.
    """
    expected = f"{error}({', '.join(f'{k}={v}' for k, v in args.items())})"
    caught = _Expected()
    try:
        yield caught
    except ContractRevert as revert:
        caught.value = revert
        if revert.error != error:
            raise AssertionError(f"expected a revert with {expected}, but got {revert.error}: {revert}") from revert
        wrong = {k: revert.args_.get(k, "<missing>") for k, v in args.items()
                 if k not in revert.args_ or revert.args_[k] != v}
        if wrong:
            raise AssertionError(f"expected a revert with {expected}, but {error} carried "
                                 f"{', '.join(f'{k}={v}' for k, v in wrong.items())}: {revert}") from revert
    else:
        raise AssertionError(f"expected a revert with {expected}, but nothing reverted")

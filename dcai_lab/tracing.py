"""Opcode traces of mined transactions, for :mod:`dcai_lab.anatomy`: replayed in py-evm, or asked of a node.

**py-evm** has no tracer, but its interpreter looks every opcode up in its computation class's ``opcodes``
table and calls it with the computation. :func:`pyevm_trace` replays a mined transaction on the state its
block started from, with a subclass of the fork's computation class whose table wraps every opcode (all 256,
the invalid ones too): before the opcode runs the wrapper records its name, the gas left, the call depth,
the frame's refund counter and the top of the stack; after it, the gas it took, and whether it halted its
frame exceptionally. The chain itself is not touched: the replay runs on a VM built for this purpose, whose
state is dropped afterwards. (The block's system calls before its first transaction, EIP-4788's beacon root
and EIP-2935's block hash, are not replayed: they write only their own system contracts' storage.)

**A node** (the edr engine, anvil) replays it itself: ``debug_traceTransaction`` with geth's struct logger,
whose ``structLogs`` :func:`node_trace` reduces to the same :class:`~dcai_lab.anatomy.Step` records.
"""
from __future__ import annotations

from eth_utils import to_bytes, to_canonical_address

from .anatomy import TRACING_BACKENDS, Step, Trace, TracingUnsupported, intrinsic

# py-evm's names where they differ from the ones nodes use (the analysis reads neither, comparisons do)
_NAMES = {"SHA3": "KECCAK256", "DIFFICULTY": "PREVRANDAO"}


def _address(value) -> int | None:
    if value is None or value in (b"", "0x", ""):
        return None
    return int.from_bytes(to_canonical_address(value), "big")


class _Traced:
    """One opcode of the table, recording each run into ``steps``."""

    __slots__ = ("fn", "mnemonic", "name", "steps", "errors")

    def __init__(self, fn, steps: list, errors: tuple):
        self.fn, self.steps, self.errors = fn, steps, errors
        self.mnemonic = getattr(fn, "mnemonic", None) or fn.__wrapped__.mnemonic
        self.name = _NAMES.get(self.mnemonic, self.mnemonic)

    def __call__(self, computation):
        if not computation.msg.code:  # an account without code: nodes show no step for its implicit STOP
            return self.fn(computation=computation)
        meter = computation._gas_meter
        gas = meter.gas_remaining
        top = tuple(v if isinstance(v, int) else int.from_bytes(v, "big") for v in computation._stack.values[-3:])
        record = [self.name, gas, 0, computation.msg.depth + 1, meter.gas_refunded, top, False]
        self.steps.append(record)
        try:
            self.fn(computation=computation)
        except self.errors[0] as error:  # VMError: a revert ends its frame normally, the others exceptionally
            record[6] = not isinstance(error, self.errors[1])
            raise
        finally:
            record[2] = gas - meter.gas_remaining


def tracing_computation(base, steps: list):
    """A subclass of the computation class ``base`` whose opcodes record themselves into ``steps``."""
    from eth.exceptions import Revert, VMError
    from eth.vm.logic.invalid import InvalidOpcode  # py-evm's placeholder for unassigned opcodes

    errors = (VMError, Revert)
    table = {code: _Traced(base.opcodes.get(code) or InvalidOpcode(code), steps, errors) for code in range(256)}
    return type(f"Tracing{base.__name__}", (base,), {"opcodes": table})


def pyevm_trace(chain, tx_hash: str, fork: str, receipt) -> Trace:
    """Replay the mined transaction ``tx_hash`` of py-evm ``chain`` (a MiningChain) with every opcode recorded."""
    from eth.exceptions import TransactionNotFound

    digest = to_bytes(hexstr=tx_hash)
    try:
        number, index = chain.chaindb.get_transaction_index(digest)
    except TransactionNotFound:
        raise LookupError(f"transaction {tx_hash} is not on this chain (a snapshot was reverted since?)") from None
    header = chain.get_canonical_block_header_by_number(number)
    block = chain.get_canonical_block_by_number(number)
    parent = chain.get_canonical_block_header_by_number(number - 1)
    start = header.copy(state_root=parent.state_root)
    before = chain.get_vm(start).state  # untouched: what the accounts were before the block
    vm = chain.get_vm(start)
    state = vm.state
    for earlier in block.transactions[:index]:
        state.lock_changes()
        state.apply_transaction(earlier)
    steps: list = []
    state.computation_class = tracing_computation(type(state).computation_class, steps)
    tx = block.transactions[index]
    state.lock_changes()
    computation = state.apply_transaction(tx)
    create = not tx.to
    return Trace(steps=[Step(*s) for s in steps], sender=_address(tx.sender), to=None if create else _address(tx.to),
                 created=_address(receipt["contractAddress"]) if create else None, data=bytes(tx.data),
                 gas_used=receipt["gasUsed"], status=receipt["status"],
                 code_size=len(computation.output) if create and computation.is_success else 0,
                 coinbase=_address(header.coinbase), fork=fork,
                 is_empty=lambda address: before.account_is_empty(address.to_bytes(20, "big")),
                 access_list=tuple((_address(entry.account), tuple(entry.storage_keys))
                                   for entry in getattr(tx, "access_list", ()) or ()))


def node_trace(request, tx_hash: str, fork: str) -> Trace:
    """``debug_traceTransaction`` on a node; ``request(method, params)`` sends one JSON-RPC request and
    returns its result (raising on an error)."""
    tx_hash = tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash
    result = request("debug_traceTransaction", [tx_hash, {"disableStorage": True, "enableMemory": False,
                                                          "enableReturnData": False}])
    logs = result.get("structLogs") if isinstance(result, dict) else None
    if logs is None:
        raise TracingUnsupported(f"the node's debug_traceTransaction gave no structLogs (only {sorted(result or {})}): "
                                 f"gas anatomy needs geth's struct logger; backends that trace: "
                                 f"{', '.join(TRACING_BACKENDS)}")
    tx = request("eth_getTransactionByHash", [tx_hash])
    receipt = request("eth_getTransactionReceipt", [tx_hash])
    data = to_bytes(hexstr=tx.get("input") or tx.get("data") or "0x")
    create = tx.get("to") in (None, "0x", "")
    if not logs and int(receipt["gasUsed"], 16) > sum(intrinsic(data, create=create).values()):
        raise TracingUnsupported("the node traced no steps of a transaction that ran code: anvil records steps only "
                                 "when started with --steps-tracing (Chain.anvil(tracing=True))")
    number = int(receipt["blockNumber"], 16)
    block = request("eth_getBlockByNumber", [hex(number), False])
    code_size = 0
    if create and int(receipt["status"], 16) == 1:
        code_size = (len(request("eth_getCode", [receipt["contractAddress"], hex(number)])) - 2) // 2
    parent = hex(number - 1)

    def is_empty(address: int) -> bool:
        hexed = "0x" + address.to_bytes(20, "big").hex()
        return (int(request("eth_getBalance", [hexed, parent]), 16) == 0
                and int(request("eth_getTransactionCount", [hexed, parent]), 16) == 0
                and request("eth_getCode", [hexed, parent]) in ("0x", ""))

    steps = [Step(log["op"], int(log["gas"]), int(log["gasCost"]), int(log["depth"]), int(log.get("refund", 0)),
                  tuple(int(v, 16) for v in (log.get("stack") or [])[-3:]), bool(log.get("error")))
             for log in logs]
    return Trace(steps=steps, sender=_address(tx["from"]), to=None if create else _address(tx["to"]),
                 created=_address(receipt["contractAddress"]) if create else None,
                 data=data,
                 gas_used=int(receipt["gasUsed"], 16), status=int(receipt["status"], 16), code_size=code_size,
                 coinbase=_address(block["miner"]), fork=fork, is_empty=is_empty,
                 access_list=tuple((_address(e["address"]), tuple(e["storageKeys"])) for e in tx.get("accessList") or ()))

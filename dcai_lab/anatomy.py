"""The anatomy of a transaction's gas: what each part of it paid for, from an opcode trace, under the fork's rules.

A trace is the list of steps the EVM took (:class:`Step`: the opcode, the gas left before it, the call depth,
the refund counter and the top of the stack), as ``debug_traceTransaction`` gives it (a node's ``structLogs``)
or as :mod:`dcai_lab.tracing` records it from py-evm. :func:`breakdown` turns one into parts that add up
exactly to the receipt's ``gasUsed``, or raises :class:`AnatomyError` when they do not:

========================  =================================================================================
part                      what it counts
========================  =================================================================================
intrinsic                 21,000 per transaction (53,000 for a creation), 4 gas per zero byte of calldata and
                          16 per other byte, 2 per word of init code (EIP-3860), and the top-up to EIP-7623's
                          floor of 10 gas per calldata token when execution costs less than that
accounts                  every access to an account by a call, BALANCE or EXTCODE*: 2,600 the first time in
                          the transaction (cold, EIP-2929), 100 after (warm). The sender, the recipient, the
                          coinbase and the precompiles start warm
storage read              SLOAD: 2,100 cold, 100 warm (EIP-2929)
storage write             SSTORE, cold surcharge (2,100) included: a new slot (zero to non-zero: 20,000), an
                          update or a clear (2,900), a rewrite of a slot already written in the transaction or
                          of its own value (100) (EIP-2200, EIP-2929)
refund                    what clearing and restoring slots gives back (EIP-3529: 4,800 a clear, 19,900 or
                          2,800 a restore), at most a fifth of the gas used; negative
transfer                  a call that sends ether: 9,000, less the 2,300 stipend handed to the callee; 25,000
                          more when the callee was an empty account
logs                      LOGn: 375, 375 per topic and 8 per byte of data
code deposit              200 per byte of the code a creation leaves
rest                      everything else: computation, memory expansion, hashing, copying, ABI encoding and
                          decoding, calls' memory, exceptional halts
========================  =================================================================================

How a step's own cost is found: the gas left before it less the gas left before the next step of the same
frame; for a call, less what the callee's frame consumed (the sum of its own steps' costs, or all the gas it
was given when it halted exceptionally). A frame's last step (STOP, RETURN, REVERT) takes the cost the trace
reports. A frame that fails loses its refunds and the accounts it warmed; its gas stays spent.

Knows nothing about chains, contracts or machine learning: :class:`~dcai_lab.gas.GasLedger` asks a transport
for the trace (:meth:`~dcai_lab.transports.Transport.trace`) and hands it here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

#: Backends whose transactions can be traced opcode by opcode.
TRACING_BACKENDS = ("py-evm", "edr", "anvil")
#: Forks whose gas rules :func:`breakdown` applies (EIP-2929, 2200, 3529, 3860, 7623 all hold in both).
FORKS = ("prague", "osaka")
#: The parts of a breakdown, in the order tables show them.
PARTS = ("intrinsic", "accounts", "storage read", "storage write", "refund", "transfer", "logs", "code deposit",
         "rest")

TX_BASE, CREATE_BASE = 21_000, 32_000
ZERO_BYTE, NONZERO_BYTE = 4, 16
#: EIP-7623: a transaction pays at least 21,000 + 10 per token of its calldata (a zero byte is one token, any
#: other byte four).
FLOOR_PER_TOKEN, TOKENS_PER_NONZERO_BYTE = 10, 4
INITCODE_WORD = 2
ACCESS_LIST_ADDRESS, ACCESS_LIST_KEY = 2_400, 1_900
COLD_ACCOUNT, WARM_ACCESS, COLD_SLOAD = 2_600, 100, 2_100
SSTORE_SET, SSTORE_RESET = 20_000, 2_900
CALL_VALUE, CALL_STIPEND, NEW_ACCOUNT = 9_000, 2_300, 25_000
LOG_BASE, LOG_TOPIC, LOG_BYTE = 375, 375, 8
CODE_DEPOSIT_BYTE = 200
MAX_REFUND_QUOTIENT = 5  # EIP-3529
#: Precompiles, warm from the start: 0x01-0x11 in prague (the BLS12-381 ones from 0x0b), and osaka's P256VERIFY.
PRECOMPILES = {"prague": frozenset(range(1, 0x12)), "osaka": frozenset([*range(1, 0x12), 0x100])}

_CALLS = {"CALL", "CALLCODE", "DELEGATECALL", "STATICCALL"}
_CREATES = {"CREATE", "CREATE2"}
_ACCOUNT_READS = {"BALANCE", "EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY"}
_ADDRESS_MASK = (1 << 160) - 1


class TracingUnsupported(RuntimeError):
    """This backend cannot trace transactions opcode by opcode."""


class AnatomyError(RuntimeError):
    """A trace and the fork's gas rules disagree: the parts do not add up to the receipt's gas."""


class Step(NamedTuple):
    """One opcode as a trace shows it (a node's ``structLogs`` entry, reduced to what the rules need)."""

    op: str
    gas: int  # gas left before the step
    cost: int  # the step's cost as the tracer reports it (read only for a frame's last step)
    depth: int  # 1 for the transaction's own frame
    refund: int  # the refund counter before the step
    stack: tuple  # the top three stack items as integers, the top last
    error: bool = False  # the step halted its frame exceptionally (out of gas, invalid opcode, ...)


@dataclass(frozen=True)
class Trace:
    """A transaction's steps and the facts about it the rules need.

    ``is_empty(address)`` says whether an account (an integer address) was empty (no code, nonce or
    balance) before the transaction: a call that sends it ether pays 25,000 to create it.
    """

    steps: list[Step]
    sender: int
    to: int | None  # None for a creation
    created: int | None  # the new contract's address, for a creation
    data: bytes  # calldata, or init code for a creation
    gas_used: int  # the receipt's
    status: int
    code_size: int  # of the code a creation left (0 otherwise)
    coinbase: int
    fork: str
    is_empty: Callable[[int], bool] = field(repr=False, default=lambda address: False)
    access_list: tuple = ()  # ((address, (key, ...)), ...)


class _Frame:
    __slots__ = ("depth", "given", "consumed", "refund", "warmed", "call", "access", "code")

    def __init__(self, depth: int, given: int, code: int | None):
        self.depth, self.given, self.consumed, self.refund = depth, given, 0, 0
        self.code = code  # the address whose code runs (None: a contract being created)
        self.warmed: list[int] = []  # accounts this frame made warm, undone if it fails
        self.call = None  # (index, step) of the call or creation waiting for its callee
        self.access = 0  # what that call paid to reach its target


class _Parts:
    def __init__(self):
        self.rows: dict[tuple[str, str], list[int]] = {}
        self.code: int | None = None  # whose code is running, for the rest's attribution
        self.rest_by_code: dict[int | None, int] = {}

    def add(self, part: str, item: str, gas: int, count: int = 1) -> None:
        row = self.rows.setdefault((part, item), [0, 0])
        row[0] += count
        row[1] += gas
        if part == "rest":
            self.rest_by_code[self.code] = self.rest_by_code.get(self.code, 0) + gas


def intrinsic(data: bytes, *, create: bool = False, access_list=()) -> dict[str, int]:
    """The intrinsic gas of a transaction with this calldata: base, calldata, init code and access list,
    and EIP-7623's floor (``floor``) for the whole transaction."""
    zeros = data.count(0)
    nonzero = len(data) - zeros
    parts = {"base": TX_BASE + (CREATE_BASE if create else 0), "calldata": ZERO_BYTE * zeros + NONZERO_BYTE * nonzero,
             "init code": INITCODE_WORD * ((len(data) + 31) // 32) if create else 0,
             "access list": sum(ACCESS_LIST_ADDRESS + ACCESS_LIST_KEY * len(keys) for _, keys in access_list)}
    parts["floor"] = TX_BASE + FLOOR_PER_TOKEN * (zeros + TOKENS_PER_NONZERO_BYTE * nonzero)
    return parts


def log_cost(topics: int, size: int) -> int:
    """What a LOG with ``topics`` topics and ``size`` bytes of data costs, memory aside."""
    return LOG_BASE + LOG_TOPIC * topics + LOG_BYTE * size


def breakdown(trace: Trace):
    """The gas of ``trace``'s transaction in parts (see the module's table) that add up to its ``gas_used``.

    Returns
    -------
    pandas.DataFrame
        Indexed by (part, item), with ``count`` (occurrences, or bytes for calldata and code) and ``gas``
        (negative for the refund); ``frame.gas.sum()`` is the receipt's gas used. ``frame.attrs["rest_by_code"]``
        splits the rest by the contract whose code spent it (checksummed address, or ``"creation"`` for init
        code): which contract's computation, memory and ABI handling an operation pays for.

    Raises
    ------
    AnatomyError
        When the trace and the rules disagree (a cost no rule explains, or a sum other than the receipt's).
    ValueError
        For a fork whose rules this module does not know.
    """
    import pandas as pd

    rows = _analyse(trace)
    order = {p: i for i, p in enumerate(PARTS)}
    index = sorted(rows.rows, key=lambda key: (order[key[0]], key[1]))
    frame = pd.DataFrame([{"part": p, "item": i, "count": rows.rows[p, i][0], "gas": rows.rows[p, i][1]}
                          for p, i in index], columns=["part", "item", "count", "gas"]).set_index(["part", "item"])
    frame.attrs["rest_by_code"] = {_checksum(code): gas for code, gas in rows.rest_by_code.items() if gas}
    return frame


def _checksum(code: int | None) -> str:
    from eth_utils import to_checksum_address

    return "creation" if code is None else to_checksum_address(code.to_bytes(20, "big"))


def by_part(frame) -> dict[str, int]:
    """A breakdown's gas per part, every part of :data:`PARTS` present (0 when absent)."""
    sums = frame.groupby(level="part")["gas"].sum()
    return {part: int(sums.get(part, 0)) for part in PARTS}


def _analyse(trace: Trace) -> _Parts:
    if trace.fork not in FORKS:
        raise ValueError(f"gas anatomy knows the rules of {', '.join(FORKS)}, not of fork {trace.fork!r}: pass "
                         "fork= for a node whose fork is not known here")
    parts = _Parts()
    create = trace.to is None
    costs = intrinsic(trace.data, create=create, access_list=trace.access_list)
    parts.add("intrinsic", "base", costs["base"])
    if trace.data:
        parts.add("intrinsic", "calldata (4 a zero byte, 16 another)", costs["calldata"], len(trace.data))
    if costs["init code"]:
        parts.add("intrinsic", "init code (2 a word)", costs["init code"], (len(trace.data) + 31) // 32)
    if costs["access list"]:
        parts.add("intrinsic", "access list", costs["access list"], len(trace.access_list))
    warm = {trace.sender, trace.created if create else trace.to, trace.coinbase, *PRECOMPILES[trace.fork],
            *(address for address, _ in trace.access_list)}
    analysis = _Walk(trace, parts, warm)
    consumed, refund_counter = analysis.run()

    deposit = CODE_DEPOSIT_BYTE * trace.code_size if create and trace.status == 1 else 0
    if deposit:
        parts.add("code deposit", "200 a byte", deposit, trace.code_size)
    used = sum(v for k, v in costs.items() if k != "floor") + consumed + deposit
    refund = min(refund_counter, used // MAX_REFUND_QUOTIENT) if trace.status == 1 else 0
    if refund:
        capped = " (capped at a fifth of the gas used)" if refund < refund_counter else ""
        parts.add("refund", f"cleared and restored slots{capped}", -refund, analysis.refunding)
    top_up = max(0, costs["floor"] - (used - refund))
    if top_up:
        parts.add("intrinsic", "EIP-7623 floor top-up (10 a calldata token)", top_up, 0)
    total = used - refund + top_up
    if total != trace.gas_used:
        raise AnatomyError(f"the parts add up to {total:,} gas, the receipt says {trace.gas_used:,}: the trace and "
                           f"the rules of {trace.fork} disagree")
    return parts


def _code_run(step: Step) -> int | None:
    """Whose code a call or creation runs: the target's (a DELEGATECALL's too), none yet for a creation."""
    return None if step.op in _CREATES else step.stack[-2] & _ADDRESS_MASK


class _Walk:
    """One pass over the steps, frame by frame."""

    def __init__(self, trace: Trace, parts: _Parts, warm: set):
        self.trace, self.parts, self.warm = trace, parts, warm
        self.funded: set[int] = set()  # accounts this transaction sent ether to (no longer empty)
        self.refunding = 0  # SSTOREs that changed the refund counter

    def run(self) -> tuple[int, int]:
        steps = self.trace.steps
        if not steps:  # a transfer, or a call to an account without code
            return 0, 0
        frames = [_Frame(steps[0].depth, steps[0].gas, self.trace.to)]
        for i, step in enumerate(steps):
            frame = frames[-1]
            self.parts.code = frame.code
            if step.depth != frame.depth:
                raise AnatomyError(f"step {i} ({step.op}) is at depth {step.depth}, its frame at {frame.depth}")
            after = steps[i + 1] if i + 1 < len(steps) else None
            if after is not None and after.depth == step.depth + 1:  # a call or creation enters its callee
                frame.call, frame.access = (i, step), self._reach(step, frame)
                frames.append(_Frame(after.depth, after.gas, _code_run(step)))
                continue
            if after is None or after.depth < step.depth:  # the frame's last step
                own = frame.given - frame.consumed if step.error else step.cost
                self.parts.add("rest", "exceptional halt (all gas left in the frame)" if step.error
                               else "computation, memory, ABI", own)
                frame.consumed += own
                frames.pop()
                if not frames:
                    return frame.consumed, frame.refund if self.trace.status == 1 else 0
                if after is None:
                    raise AnatomyError(f"the trace ends inside a call (step {i}, depth {step.depth})")
                caller = frames[-1]
                self.parts.code = caller.code
                j, call = caller.call
                if after.stack and after.stack[-1] != 0:  # the call or creation succeeded
                    caller.refund += frame.refund
                    caller.warmed += frame.warmed
                    if call.op in _CREATES:  # the new contract is warm (EIP-2929)
                        self._access(after.stack[-1] & _ADDRESS_MASK, caller)
                else:
                    self.warm.difference_update(frame.warmed)
                own = call.gas - after.gas - frame.consumed
                self._charge_call(j, call, own, caller.access)
                caller.consumed += own + frame.consumed
                caller.call = None
                continue
            own = step.gas - after.gas
            if step.op in _CALLS or step.op in _CREATES:  # a callee without code: no steps of its own
                self._charge_call(i, step, own, self._reach(step, frame))
            else:
                self._charge(i, step, own, after, frame)
            frame.consumed += own
        raise AnatomyError("the trace ends inside a frame")

    def _reach(self, step: Step, frame: _Frame) -> int:
        """What a call pays to reach its target (0 for a creation), warming it."""
        if step.op in _CREATES:
            return 0
        return self._access(step.stack[-2] & _ADDRESS_MASK, frame)

    def _access(self, address: int, frame: _Frame) -> int:
        if address in self.warm:
            return WARM_ACCESS
        self.warm.add(address)
        frame.warmed.append(address)
        return COLD_ACCOUNT

    def _charge_call(self, i: int, step: Step, own: int, access: int) -> None:
        """A call's own cost (its callee's consumption taken out): access, transfer, memory (rest)."""
        if step.op in _CREATES:
            self.parts.add("rest", "CREATE (32,000, init code, code deposit, memory)", own)
            return
        self.parts.add("accounts", "cold (2,600)" if access == COLD_ACCOUNT else "warm (100)", access)
        rest = own - access
        value = step.stack[-3] if step.op in ("CALL", "CALLCODE") and len(step.stack) >= 3 else 0
        if value:
            self.parts.add("transfer", "ether sent (9,000 less the 2,300 stipend)", CALL_VALUE - CALL_STIPEND)
            rest -= CALL_VALUE - CALL_STIPEND
            target = step.stack[-2] & _ADDRESS_MASK
            if step.op == "CALL" and target not in self.funded and self.trace.is_empty(target):
                self.parts.add("transfer", "new account (25,000)", NEW_ACCOUNT)
                rest -= NEW_ACCOUNT
            self.funded.add(target)
        if rest < 0:
            raise AnatomyError(f"step {i} ({step.op}) cost {own:,} gas, less than its access and transfer charges")
        if rest:
            self.parts.add("rest", "computation, memory, ABI", rest, 0)

    def _charge(self, i: int, step: Step, own: int, after: Step, frame: _Frame) -> None:
        op = step.op
        if op == "SLOAD":
            item = {COLD_SLOAD: "cold (2,100)", WARM_ACCESS: "warm (100)"}.get(own)
            if item is None:
                raise AnatomyError(f"step {i} (SLOAD) cost {own:,} gas: neither cold nor warm")
            self.parts.add("storage read", item, own)
        elif op == "SSTORE":
            cold = own > SSTORE_SET or own in (COLD_SLOAD + SSTORE_RESET, COLD_SLOAD + WARM_ACCESS)
            base = own - (COLD_SLOAD if cold else 0)
            if base == SSTORE_SET:
                item = "new slot (20,000)"
            elif base == SSTORE_RESET:
                item = "clear (2,900)" if step.stack[-2] == 0 else "update (2,900)"
            elif base == WARM_ACCESS:
                item = "rewrite (100)"
            else:
                raise AnatomyError(f"step {i} (SSTORE) cost {own:,} gas: no EIP-2200/2929 case costs that")
            self.parts.add("storage write", item + (", cold (+2,100)" if cold else ""), own)
            change = after.refund - step.refund
            if change:
                frame.refund += change
                self.refunding += 1
        elif op in _ACCOUNT_READS:
            access = self._access(step.stack[-1] & _ADDRESS_MASK, frame)
            if own < access:
                raise AnatomyError(f"step {i} ({op}) cost {own:,} gas, less than its account access ({access:,})")
            self.parts.add("accounts", "cold (2,600)" if access == COLD_ACCOUNT else "warm (100)", access)
            if own > access:
                self.parts.add("rest", "computation, memory, ABI", own - access, 0)
        elif op.startswith("LOG"):
            log = log_cost(int(op[3:]), step.stack[-2])
            if own < log:
                raise AnatomyError(f"step {i} ({op}) cost {own:,} gas, less than a log of its size ({log:,})")
            self.parts.add("logs", f"{op} (375, 375 a topic, 8 a byte)", log)
            if own > log:
                self.parts.add("rest", "computation, memory, ABI", own - log, 0)
        else:
            self.parts.add("rest", "computation, memory, ABI", own)

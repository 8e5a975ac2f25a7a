"""The floor of each operation: the gas its semantics cannot avoid, part by part (the parts of
:mod:`dcai_lab.anatomy`), so that what a transaction spends above it is overhead the contracts could lose.

What counts as unavoidable, for every operation:

- **intrinsic**: 21,000 and the calldata of the call as the trainer's ABI encodes it (int64 samples take 32
  bytes a value: the interface is kept, so its calldata is part of the floor), raised to EIP-7623's floor;
- **accounts**: the trainer is the transaction's recipient (warm); the model, the data handler and the
  incentive mechanism are contracts of their own (the 2019 framework's split, which lets models and
  mechanisms be swapped), each touched cold once: 3 x 2,600. A payment to the sender adds a warm access (100);
- **storage**: every slot the operation's rules must read (2,100 cold, once) and every slot they must change
  (a new slot 20,000, a changed one 2,900 after its read), on these contracts' storage layout: a model's
  parameters packed several to a word (the 8 int32 weights or counts, the 4 int64 dense weights or sums of a
  word are read and written together), a record in one slot, Points' book of an address in one slot. Which
  model words an update writes is derived from the model's Python twin (bit-exact with the contract): the words
  and state slots whose value the twin's update changes;
- **transfer**: a payment in ether (9,000 less the 2,300 stipend the payee receives);
- **logs**: the operation's events as the contracts declare them (AddData carries the whole sample, so that the
  dataset can be rebuilt from logs alone; Points' badges are EIP-1155 TransferSingle events);
- **refund**, **code deposit**: none.

Nothing of the **rest** (computation, memory, hashing the record's key, ABI encoding of calls between the
contracts, access control's reads) is in a floor: all of it counts as overhead. Deployments have no floor here:
their cost is mostly their code, whose size is a design choice rather than a semantic necessity.

Use :func:`add_data`, :func:`refund` and :func:`report` *before* the operation: they read the state it starts
from (the model's twin, the mechanism's book of the addresses involved).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from . import anatomy
from .anatomy import (CALL_STIPEND, CALL_VALUE, COLD_ACCOUNT, COLD_SLOAD, SSTORE_RESET, SSTORE_SET, WARM_ACCESS,
                      log_cost)

#: The components a trainer calls besides itself: each is a contract touched cold once per operation.
COMPONENTS = ("model", "data handler", "incentive mechanism")
TRANSFER = CALL_VALUE - CALL_STIPEND
WORD = 32


@dataclass
class Floor:
    """An operation's floor: gas per part (the keys of :data:`dcai_lab.anatomy.PARTS`) and, per charge, why
    it is unavoidable."""

    operation: str
    parts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(anatomy.PARTS, 0))
    reasons: list[tuple[str, int, str]] = field(default_factory=list)  # (part, gas, why)
    calldata_floor: int = 0  # EIP-7623's least gas for the transaction's calldata

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def charge(self, part: str, gas: int, why: str) -> None:
        if gas:
            self.parts[part] += gas
            self.reasons.append((part, gas, why))

    def slot(self, new: bool, why: str) -> None:
        """A slot the rules must read (to check it or add to it) and then change: 2,100 to read it cold, then
        20,000 when it was zero (``new``), else 2,900."""
        self.charge("storage read", COLD_SLOAD, why)
        self.charge("storage write", SSTORE_SET if new else SSTORE_RESET, why + (": a new slot" if new else ""))

    def pay(self) -> None:
        """A payment in ether to the sender: the call reaches a warm account (100) and sends ether (9,000 less
        the 2,300 stipend the payee receives)."""
        self.charge("accounts", WARM_ACCESS, "the payment's call to the sender (warm)")
        self.charge("transfer", TRANSFER, "the payment in ether")

    def frame(self):
        """The charges as a DataFrame: part, gas, why."""
        import pandas as pd

        return pd.DataFrame(self.reasons, columns=["part", "gas", "why"])


# -- the model's storage, per model ------------------------------------------------------------------
def model_slots(twin, sample, label: int | None = None) -> tuple[set, dict]:
    """The storage slots of ``twin``'s contract that a prediction on ``sample`` (``label`` None) or an update
    with (``sample``, ``label``) must read, and those the update changes: ``(reads, {slot: (before, after)})``.

    Slots are named: ``("word", i)`` for parameter word i, or the name of a state slot. Per model:

    - **SparsePerceptron**: the score reads the weight of every present feature (8 int32 weights a word) and
      the intercept (in slot 0, with the step counter); an update reads the same, to decide.
    - **DensePerceptron**: every weight (4 int64 a word) and the intercept.
    - **NaiveBayes**, **SparseNearestCentroid**: counts or sums are feature-major, one lane per class (8
      uint32 a word): a prediction reads every class's lanes of the present features and every class's
      totals (one slot a class); an update reads only the label's lanes and totals, to add to them.
    - **DenseNearestCentroid**: sums are feature-major (4 int64 a word), every feature present: a
      prediction reads every lane and each class's sample count and squared norm (two slots a class); an
      update the label's lanes, count and squared norm.

    The update's writes are what the twin's ``partial_fit`` changes: words whose value differs, and state slots
    whose value differs.
    """
    name = twin.contract_name
    before_words, before_state = twin.words(), _state_slots(twin)
    classes = 1 if "Perceptron" in name else twin.n_classes
    dense = name.startswith("Dense")
    features = range(twin.n_features) if dense else sorted({int(f) for f in sample})
    per_word = 4 if dense else 8
    which = range(classes) if label is None or "Perceptron" in name else [label]
    lanes = [f * classes + c for f in features for c in which]
    reads = {("word", lane // per_word) for lane in lanes}
    if "Perceptron" in name:
        reads |= set(before_state)
    else:
        reads |= {slot for slot in before_state if slot.endswith(tuple(f"[{c}]" for c in which))}
    if label is None:
        return reads, {}
    after = copy.deepcopy(twin)
    after.partial_fit([list(sample)], [label])
    after_words, after_state = after.words(), _state_slots(after)
    writes = {("word", i): (b, a) for i, (b, a) in enumerate(zip(before_words, after_words)) if a != b}
    writes |= {slot: (before_state[slot], value) for slot, value in after_state.items() if value != before_state[slot]}
    return reads, writes


def _state_slots(twin) -> dict:
    """A model's state beyond its words, by storage slot (values compared, not decoded)."""
    p = twin.to_chain_params()
    name = twin.contract_name
    if "Perceptron" in name:
        # slot 0 also holds the trainer's address: it is never zero, so never a new slot
        return {"slot 0 (trainer, intercept, step counter)": ("trainer", p["intercept"], p["seen"])}
    if name == "DenseNearestCentroid":
        return {**{f"samples[{c}]": n for c, n in enumerate(p["samples"])},
                **{f"squaredNorms[{c}]": q for c, q in enumerate(p["squaredNorms"])}}
    second = p["tokens"] if name == "NaiveBayes" else p["squaredNorms"]
    return {f"totals[{c}]": (n, s) for c, (n, s) in enumerate(zip(p["samples"], second))}


def _model(floor: Floor, reads: set, writes: dict, what: str) -> None:
    slots = reads | set(writes)
    floor.charge("storage read", COLD_SLOAD * len(slots), f"{what}: {len(slots)} model slots read once, cold")
    fresh = sum(1 for before, after in writes.values() if not _nonzero(before) and _nonzero(after))
    floor.charge("storage write", SSTORE_SET * fresh, f"{what}: {fresh} model slots from zero to non-zero")
    floor.charge("storage write", SSTORE_RESET * (len(writes) - fresh),
                 f"{what}: {len(writes) - fresh} model slots the update changes")


def _nonzero(value) -> bool:
    return any(value) if isinstance(value, tuple) else value != 0


# -- what every operation shares ---------------------------------------------------------------------
def _start(operation: str, call) -> Floor:
    from .transports import calldata

    floor = Floor(operation)
    data = bytes.fromhex(calldata(call)[2:])
    costs = anatomy.intrinsic(data)
    floor.charge("intrinsic", costs["base"], "every transaction")
    floor.charge("intrinsic", costs["calldata"], f"the call's {len(data)} bytes of calldata, ABI-encoded")
    floor.charge("accounts", COLD_ACCOUNT * len(COMPONENTS), "the trainer calls its model, data handler and "
                                                              "incentive mechanism, each a contract of its own")
    floor.calldata_floor = costs["floor"]
    return floor


def _finish(floor: Floor) -> Floor:
    top_up = floor.calldata_floor - floor.total
    floor.charge("intrinsic", max(0, top_up), "EIP-7623: a transaction pays at least 10 gas per calldata token")
    return floor


# -- the operations ------------------------------------------------------------------------------------
def add_data(system, x, label: int, *, sender: str) -> Floor:
    """addData(sample, label): the model learns the sample, the mechanism takes its deposit, the data handler
    stores a record, the trainer announces it.

    Unavoidable: the intrinsic gas of its calldata; the three components, cold; the model's update (the slots
    it must read to update, the slots the twin's update changes: see :func:`model_slots`); one new record
    slot (deposit, claimable amount, claims and flags in one slot: 22,100); the AddData event with its sample
    (LOG2: the author topic; label, time, deposit and the sample as data); the mechanism's part
    (:meth:`dcai_lab.incentives.Mechanism.floor`: under Deposit-Refund-Take the time of the last update, read
    to price the deposit and then changed). The deposit travels with the transaction itself: no transfer
    (when the exact deposit is sent; an excess would be paid back)."""
    sample = system.deployed.encode(x)
    floor = _start("add_data", system.trainer.functions.addData(sample, label))
    reads, writes = model_slots(system.twin(), sample, label)
    _model(floor, reads, writes, "the model's update")
    floor.slot(True, "the data handler's record of the contribution, checked to be new")
    floor.charge("logs", log_cost(2, WORD * (5 + len(sample))),
                 "AddData(author indexed; sample, label, time, deposit)")
    system.mechanism.floor("add_data", floor, system)
    return _finish(floor)


def refund(system, contribution) -> Floor:
    """refund(sample, label, time): the author claims back their own contribution, once, if the model agrees
    with its label after the wait.

    Unavoidable: intrinsic; the three components, cold; the prediction's model slots (see
    :func:`model_slots`); the record, read and marked refunded (5,000); the event Refund (LOG3, the amount as
    data); the mechanism's part (:meth:`dcai_lab.incentives.Mechanism.floor`). Deposit-Refund-Take: the
    author's validated count (a new slot for their first, else changed) and the total validated count (read
    and changed), the payment. Points: the author's book (points, validated count, streak, badges in one
    slot: new for their first claim, else changed), PointAwarded (LOG2) and a TransferSingle (LOG4, id and
    value as data) for each badge the refund awards. Points pays no ether."""
    c = contribution
    floor = _start("refund", system.trainer.functions.refund(list(c.data), c.label, c.added_time))
    reads, _ = model_slots(system.twin(), c.data)
    _model(floor, reads, {}, "the model's prediction")
    floor.slot(False, "the record: deposit, claimable amount, whether refunded; then refunded")
    floor.charge("logs", log_cost(3, WORD), "Refund(author, key indexed; amount)")
    system.mechanism.floor("refund", floor, system, c)
    return _finish(floor)


def report(system, contribution, *, sender: str) -> Floor:
    """report(sample, label, time, author): someone else claims from a contribution the model disagrees
    with after the wait, once per reporter.

    Unavoidable: intrinsic; the three components, cold; the prediction's model slots; the record, read and
    changed (claims and, with a payment, the amount left: 5,000); the reporter's claim on it (a new slot);
    the event Report (LOG4, the amount as data); the mechanism's part. Deposit-Refund-Take: the reporter's
    validated count and the total validated count, read (the share), and the payment. Points: the
    contribution's report point (a new slot), the reporter's book (new or changed), the author's book read
    (the streak) and changed when its streak ends, PointAwarded and a TransferSingle for the reporter's
    first-report badge."""
    c = contribution
    floor = _start("report", system.trainer.functions.report(list(c.data), c.label, c.added_time, c.author))
    reads, _ = model_slots(system.twin(), c.data)
    _model(floor, reads, {}, "the model's prediction")
    floor.slot(False, "the record: deposit, claimable amount; then one more claim (and the amount left)")
    floor.slot(True, "the reporter's claim on this contribution, checked not to exist")
    floor.charge("logs", log_cost(4, WORD), "Report(reporter, author, key indexed; amount)")
    system.mechanism.floor("report", floor, system, c, sender)
    return _finish(floor)

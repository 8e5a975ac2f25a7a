"""The gas ledger: one row per transaction the lab sends, named by phase and operation."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, fields

#: The phase of every transaction that sets a system or a market up.
DEPLOY = "deploy"
#: What a transaction carried: kept on each record for what it costs to post (:mod:`dcai_lab.cost`), left out of
#: tables unless asked for (a deployment's init code is tens of kilobytes).
SENT = ("data", "value", "creation")


def label(phase: str, name: str) -> str:
    """Phase and name together, for display and messages: ``deploy: DataHandler``."""
    return f"{phase}: {name}" if phase else name


@dataclass(frozen=True)
class GasRecord:
    """One transaction. ``phase`` groups the transactions of one job: ``"deploy"`` for everything that sets a
    system or market up, ``"market"`` for a market provider's later steps, ``""`` for contributors'
    operations. ``name`` says what the transaction did (``"add_data"``, ``"DataHandler"``, ``"reveal"``).
    ``data`` (0x-prefixed calldata or init code), ``value`` (wei) and ``creation`` (whether it created a
    contract, ``to`` then being the new contract) are what it sent: empty for twin-only estimates."""

    phase: str
    name: str
    gas_used: int
    block_time: int
    block_number: int
    sender: str
    to: str | None
    status: int
    tx_hash: str
    # The calldata deflated: an add's ABI-encoded sample is mostly zero bytes, and a long run sends tens of
    # thousands (a 250-index IMDB sample: 8,100 bytes, 16 KB as a hex string, 644 bytes deflated).
    packed: bytes = field(default=b"", repr=False)
    value: int = 0
    creation: bool = False

    @property
    def data(self) -> str:
        """The calldata or init code sent, 0x-prefixed hex (empty for a twin-only estimate)."""
        return "0x" + zlib.decompress(self.packed).hex() if self.packed else ""

    def as_dict(self, sent: bool = False) -> dict:
        """The row as table columns: ``operation``, the receipt's facts and, with ``sent``, :data:`SENT`."""
        row = {"operation": self.operation}
        row.update((f.name, getattr(self, f.name)) for f in fields(self) if f.name != "packed" and f.name not in SENT)
        if sent:
            row.update((name, getattr(self, name)) for name in SENT)
        return row

    @property
    def operation(self) -> str:
        """What tables group by: ``"deploy"`` for every set-up transaction (a deployment is one cost, summed),
        else the name."""
        return DEPLOY if self.phase == DEPLOY else self.name

    @property
    def label(self) -> str:
        """Phase and name together, for display: ``deploy: DataHandler``."""
        return label(self.phase, self.name)


def _pack(data: str) -> bytes:
    return zlib.compress(bytes.fromhex(data.removeprefix("0x")), 1) if data else b""


_EMPTY = GasRecord("", "", 0, 0, 0, "", None, 1, "")


class GasLedger:
    """Every transaction sent through a :class:`~dcai_lab.Chain`, in order."""

    def __init__(self, tracer=None):
        self.records: list[GasRecord] = []
        # tx hash -> the mined transaction's opcode trace (Transport.trace); None where nothing can trace
        self._tracer = tracer

    def record(self, name: str, receipt, block_time: int, sender: str, phase: str = "", data: str = "",
               value: int = 0) -> GasRecord:
        row = GasRecord(phase, name, receipt["gasUsed"], block_time, receipt["blockNumber"], sender,
                        receipt["to"] or receipt["contractAddress"], receipt["status"],
                        receipt["transactionHash"].hex(), _pack(data), value, bool(data) and not receipt["to"])
        self.records.append(row)
        return row

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def total(self, phase: str | None = None, name: str | None = None) -> int:
        """Gas used by every transaction of ``phase`` and/or ``name`` (all of them by default)."""
        return sum(r.gas_used for r in self.records
                   if (phase is None or r.phase == phase) and (name is None or r.name == name))

    def to_pandas(self, sent: bool = False):
        """One row per transaction: phase, name, operation (phase or name) and the receipt's facts; with
        ``sent``, also what each transaction sent (:data:`SENT`: calldata, value, whether it created a contract)."""
        import pandas as pd

        columns = list(_EMPTY.as_dict(sent))
        return pd.DataFrame([r.as_dict(sent) for r in self.records], columns=columns)

    def explain(self, tx=-1, *, fork: str | None = None):
        """What a transaction's gas paid for: intrinsic, account accesses, storage reads and writes, refunds,
        ether transfers, logs, code deposit and the rest (:mod:`dcai_lab.anatomy`), from an opcode trace of it
        (py-evm, edr and anvil can trace; other backends raise TracingUnsupported).

        Parameters
        ----------
        tx : GasRecord, int or str
            A row of this ledger, its position (default -1: the latest) or its transaction hash.
        fork : str, optional
            The fork's rules to apply; default the chain's (give it for a node whose fork is not known).

        Returns
        -------
        pandas.DataFrame
            Indexed by (part, item), with ``count`` and ``gas``; the gas adds up to the transaction's
            ``gas_used`` exactly (AnatomyError otherwise). :func:`dcai_lab.anatomy.by_part` sums it per part.
        """
        from dataclasses import replace

        from . import anatomy

        record = self._find(tx)
        if self._tracer is None:
            raise anatomy.TracingUnsupported(f"this ledger has no chain to trace on; backends that trace: "
                                             f"{', '.join(anatomy.TRACING_BACKENDS)}")
        trace = self._tracer(record.tx_hash)
        if fork is not None:
            trace = replace(trace, fork=fork)
        if trace.gas_used != record.gas_used:
            raise anatomy.AnatomyError(f"{record.label}: the chain's receipt says {trace.gas_used:,} gas, the ledger "
                                       f"{record.gas_used:,}")
        return anatomy.breakdown(trace)

    def anatomy(self, records=None, *, fork: str | None = None):
        """:meth:`explain` for many transactions (default all): one row each, the ledger's columns then the gas of
        every part of :data:`dcai_lab.anatomy.PARTS`, which add up to ``gas_used``."""
        import pandas as pd

        from . import anatomy

        records = self.records if records is None else [self._find(r) for r in records]
        rows = [{**r.as_dict(), **anatomy.by_part(self.explain(r, fork=fork))} for r in records]
        return pd.DataFrame(rows)

    def _find(self, tx) -> GasRecord:
        if isinstance(tx, GasRecord):
            return tx
        if isinstance(tx, int):
            return self.records[tx]
        digest = tx.removeprefix("0x").lower()
        for record in self.records:
            if record.tx_hash.removeprefix("0x").lower() == digest:
                return record
        raise KeyError(f"transaction {tx} is not in this ledger")

    def summary(self):
        """Count, mean, min and max gas per operation (a deployment's transactions count as one operation
        each), as a DataFrame."""
        frame = self.to_pandas()
        return frame.groupby("operation")["gas_used"].agg(["count", "mean", "min", "max"]).astype(int)

"""The gas ledger: one row per transaction the lab sends, named by phase and operation."""
from __future__ import annotations

from dataclasses import asdict, dataclass

#: The phase of every transaction that sets a system or a market up.
DEPLOY = "deploy"


def label(phase: str, name: str) -> str:
    """Phase and name together, for display and messages: ``deploy: DataHandler``."""
    return f"{phase}: {name}" if phase else name


@dataclass(frozen=True)
class GasRecord:
    """One transaction. ``phase`` groups the transactions of one job: ``"deploy"`` for everything that sets a
    system or market up, ``"market"`` for a market provider's later steps, ``""`` for contributors'
    operations. ``name`` says what the transaction did (``"add_data"``, ``"DataHandler"``, ``"reveal"``)."""

    phase: str
    name: str
    gas_used: int
    block_time: int
    block_number: int
    sender: str
    to: str | None
    status: int
    tx_hash: str

    @property
    def operation(self) -> str:
        """What tables group by: ``"deploy"`` for every set-up transaction (a deployment is one cost, summed),
        else the name."""
        return DEPLOY if self.phase == DEPLOY else self.name

    @property
    def label(self) -> str:
        """Phase and name together, for display: ``deploy: DataHandler``."""
        return label(self.phase, self.name)


class GasLedger:
    """Every transaction sent through a :class:`~dcai_lab.Chain`, in order."""

    def __init__(self):
        self.records: list[GasRecord] = []

    def record(self, name: str, receipt, block_time: int, sender: str, phase: str = "") -> GasRecord:
        row = GasRecord(phase, name, receipt["gasUsed"], block_time, receipt["blockNumber"], sender,
                        receipt["to"] or receipt["contractAddress"], receipt["status"], receipt["transactionHash"].hex())
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

    def to_pandas(self):
        """One row per transaction: phase, name, operation (phase or name) and the receipt's facts."""
        import pandas as pd

        columns = ["operation", *GasRecord.__dataclass_fields__]
        return pd.DataFrame([{"operation": r.operation, **asdict(r)} for r in self.records], columns=columns)

    def summary(self):
        """Count, mean, min and max gas per operation (a deployment's transactions count as one operation
        each), as a DataFrame."""
        frame = self.to_pandas()
        return frame.groupby("operation")["gas_used"].agg(["count", "mean", "min", "max"]).astype(int)

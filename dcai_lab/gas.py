"""The gas ledger: one row per transaction the lab sends, named by operation."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GasRecord:
    operation: str
    gas_used: int
    block_time: int
    block_number: int
    sender: str
    to: str | None
    status: int
    tx_hash: str


class GasLedger:
    """Every transaction sent through a :class:`~dcai_lab.Chain`, in order."""

    def __init__(self):
        self.records: list[GasRecord] = []

    def record(self, operation: str, receipt, block_time: int, sender: str) -> GasRecord:
        row = GasRecord(operation, receipt["gasUsed"], block_time, receipt["blockNumber"], sender,
                        receipt["to"] or receipt["contractAddress"], receipt["status"], receipt["transactionHash"].hex())
        self.records.append(row)
        return row

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def total(self, prefix: str = "") -> int:
        """Gas used by every transaction whose operation starts with ``prefix``."""
        return sum(r.gas_used for r in self.records if r.operation.startswith(prefix))

    def to_pandas(self):
        import pandas as pd

        columns = list(GasRecord.__dataclass_fields__)
        return pd.DataFrame([asdict(r) for r in self.records], columns=columns)

    def summary(self):
        """Count, mean, min and max gas per operation, as a DataFrame."""
        frame = self.to_pandas()
        frame["operation"] = frame["operation"].str.split(":").str[0]
        return frame.groupby("operation")["gas_used"].agg(["count", "mean", "min", "max"]).astype(int)

"""Twin-only mode: the same simulation with no chain at all, for quick parameter sweeps.

:class:`OffchainChain` and :class:`OffchainSystem` stand in for :class:`~dcai_lab.chain.Chain` and
:class:`~dcai_lab.system.System`: the model is its Python twin (the contract's exact arithmetic), the
Deposit-Refund-Take and Points rules and the records are the contracts' rules in Python, and each
transaction's gas is *estimated* by a :class:`GasModel` fitted on a chain run of the same experiment.
Accuracy and balances are what the chain would give for the same sequence of operations; gas is an
estimate whose error the fit reports (``GasModel.error``).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from .errors import ContractRevert
from .gas import GasLedger
from .system import Contribution

BLOCK_GAS_LIMIT = 30_000_000


@dataclass
class GasModel:
    """Gas per operation as ``intercept + slope * sample length`` (least squares on a chain run), plus
    the deployment's total. ``error`` holds, per operation, the mean absolute error of the estimate in
    percent on the transactions it was fitted to, and the error of the total."""

    coefficients: dict = field(default_factory=dict)  # op -> [intercept, slope]
    deploy: int = 0
    error: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, gas, add_lengths) -> "GasModel":
        """From a chain run's gas ledger (DataFrame with ``operation``, ``gas_used``, ``status``) and the
        sample length of each add_data transaction in order. Adds get a slope on the sample's length;
        other operations their mean (their sample is not in the ledger)."""
        ok = gas[gas["status"] == 1]
        model = cls(deploy=int(ok.loc[ok["operation"].str.startswith("deploy"), "gas_used"].sum()))
        for op, rows in ok[~ok["operation"].str.startswith("deploy")].groupby("operation"):
            g = rows["gas_used"].to_numpy(float)
            x = np.asarray(add_lengths, float) if op == "add_data" else np.zeros(len(g))
            if len(x) != len(g):
                raise ValueError(f"{len(x)} sample lengths for {len(g)} add_data transactions")
            slope, intercept = np.polyfit(x, g, 1) if len(g) > 1 and np.ptp(x) > 0 else (0.0, float(g.mean()))
            model.coefficients[op] = [float(intercept), float(slope)]
            estimate = intercept + slope * x
            model.error[op] = {"transactions": int(len(g)),
                               "mean_abs_percent": round(float(np.mean(np.abs(estimate - g) / g) * 100), 2),
                               "total_percent": round(float((estimate.sum() - g.sum()) / g.sum() * 100), 2)}
        return model

    def estimate(self, op: str, length: int) -> int:
        intercept, slope = self.coefficients.get(op, (0.0, 0.0))
        return max(0, round(intercept + slope * length))

    def save(self, path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path) -> "GasModel":
        return cls(**json.loads(Path(path).read_text()))


def cache_dir() -> Path:
    return Path(os.environ.get("DCAI_LAB_CACHE", Path.home() / ".cache" / "dcai-lab"))


def cache_key(config: dict) -> str:
    """Gas depends on the dataset, model, mechanism and its parameters, not on who contributes when."""
    keys = ("dataset", "model", "incentive", "incentive_params", "initial_fraction", "fork")
    return hashlib.sha256(json.dumps({k: config.get(k) for k in keys}, sort_keys=True).encode()).hexdigest()[:16]


class OffchainChain:
    """A clock, accounts and a gas ledger of estimates; every operation is one block, one second apart."""

    fork = "twin"

    def __init__(self, gas_model: GasModel, num_accounts: int = 10, start: int = 1_700_000_000):
        self.accounts = [f"0x{i + 1:040x}" for i in range(num_accounts)]
        self.gas = GasLedger()
        self.gas_model = gas_model
        self.block_gas_limit = BLOCK_GAS_LIMIT
        self.now = start
        self._next = start + 1
        self._block = 0

    def time_travel(self, seconds: float = 0, **delta) -> int:
        """As on the embedded chain: a block just before the target time, the next operation at it."""
        target = self.now + int(seconds + timedelta(**delta).total_seconds())
        self.now, self._next = max(self.now, target - 1), target
        return target

    def mine(self, operation: str, sender: str, length: int = 0, gas: int | None = None) -> int:
        """Advance the clock by one block and record the operation's estimated gas; returns the time."""
        self.now = max(self._next, self.now + 1)
        self._next = self.now + 1
        self._block += 1
        gas = self.gas_model.estimate(operation, length) if gas is None else gas
        receipt = {"gasUsed": gas, "blockNumber": self._block, "to": None, "contractAddress": None, "status": 1,
                   "transactionHash": self._block.to_bytes(32, "big")}
        self.gas.record(operation, receipt, self.now, sender)
        return self.now


def _key(c: Contribution) -> tuple:
    """The record's identity: what the contracts hash into the key (hashing here would only cost time)."""
    return c.data, c.label, c.added_time, c.author


@dataclass
class _Record:
    deposit: int
    claimable: int
    refunded: bool = False
    claimed_by: set = field(default_factory=set)


class OffchainSystem:
    """The trainer, data handler and mechanism (Deposit-Refund-Take or Points) as Python rules, with the
    model twin. Same methods as :class:`~dcai_lab.system.System`; reverts raise the same ContractRevert."""

    def __init__(self, chain: OffchainChain, model, spec):
        self.chain, self.model_twin, self.incentive = chain, model, spec
        self.owner = chain.accounts[0]
        self.records: dict[tuple, _Record] = {}
        self.valid: dict[str, int] = {}
        self.total_valid = 0
        self.points: dict[str, int] = {}
        chain.mine("deploy", self.owner, gas=chain.gas_model.deploy)
        self.last_update = chain.now

    @property
    def num_classes(self) -> int:
        return int(getattr(self.model_twin, "n_classes", 2))

    def twin(self):
        return self.model_twin

    def evaluate(self, X, y) -> int:
        return int((self.model_twin.predict(X) == np.asarray(y)).sum()) if len(y) else 0

    def predict(self, x) -> int:
        return int(self.model_twin.predict([x])[0])

    def deposit_required(self, at: int | None = None) -> int:
        if self.incentive.contract_name != "DepositRefundTake":
            return 0
        at = self.chain.now + 1 if at is None else at
        elapsed = at - self.last_update if at > self.last_update else 1
        return self.incentive.cost_weight * 3600 // math.isqrt(elapsed)

    def add_data(self, x, label: int, *, sender: str, value: int | None = None) -> Contribution:
        data = tuple(int(v) for v in x)
        t = max(self.chain._next, self.chain.now + 1)
        deposit = self.deposit_required(t)
        value = deposit if value is None else value
        if value < deposit:
            raise ContractRevert("add_data", "DepositTooSmall", {"required": deposit, "sent": value})
        try:
            self.model_twin.partial_fit([list(data)], [int(label)])
        except OverflowError as err:
            raise ContractRevert("add_data", str(err).split(":")[0]) from None
        self.chain.mine("add_data", sender, len(data))
        self.last_update = self.chain.now
        c = Contribution(data, int(label), self.chain.now, sender, deposit)
        if _key(c) in self.records:
            raise ContractRevert("add_data", "DuplicateContribution", {"key": c.key})
        self.records[_key(c)] = _Record(deposit, deposit)
        return c

    def _agrees(self, c: Contribution) -> bool:
        return self.predict(c.data) == c.label

    def refund(self, c: Contribution, *, sender: str | None = None) -> int:
        r = self._record(c, "refund")
        if r.refunded:
            raise ContractRevert("refund", "AlreadyClaimed", {"key": c.key, "claimant": c.author})
        now = max(self.chain._next, self.chain.now + 1)
        if now < c.added_time + self.incentive.refund_wait:
            raise ContractRevert("refund", "ClaimTooEarly", {"availableAt": c.added_time + self.incentive.refund_wait})
        if not self._agrees(c):
            raise ContractRevert("refund", "ModelDisagrees")
        amount = 0
        if self.incentive.contract_name == "DepositRefundTake":
            if r.claimable == 0:
                raise ContractRevert("refund", "NothingLeftToClaim")
            amount = r.claimable
            self.total_valid += 1
        else:
            self.points[c.author] = self.points.get(c.author, 0) + 1
        self.valid[c.author] = self.valid.get(c.author, 0) + 1
        r.refunded, r.claimable = True, r.claimable - amount
        self.chain.mine("refund", c.author, len(c.data))
        return amount

    def report(self, c: Contribution, *, sender: str) -> int:
        r = self._record(c, "report")
        if sender in r.claimed_by:
            raise ContractRevert("report", "AlreadyClaimed", {"key": c.key, "claimant": sender})
        if sender == c.author:
            raise ContractRevert("report", "CannotReportOwnData")
        now = max(self.chain._next, self.chain.now + 1)
        age = now - c.added_time
        spec = self.incentive
        if spec.contract_name == "DepositRefundTake":
            if r.claimable == 0:
                raise ContractRevert("report", "NothingLeftToClaim")
            if age >= spec.any_address_claim_wait or (sender == self.owner and age >= spec.owner_claim_wait):
                amount = r.claimable
            else:
                self._check_report(c, age)
                valid = self.valid.get(sender, 0)
                if valid == 0:
                    raise ContractRevert("report", "NoValidContributions", {"reporter": sender})
                amount = min(c.deposit * valid // self.total_valid, r.claimable)
        else:
            self._check_report(c, age)
            self.points[sender] = self.points.get(sender, 0) + 1
            amount = 0
        r.claimed_by.add(sender)
        r.claimable -= amount
        self.chain.mine("report", sender, len(c.data))
        return amount

    def _check_report(self, c, age):
        if age < self.incentive.refund_wait:
            raise ContractRevert("report", "ClaimTooEarly", {"availableAt": c.added_time + self.incentive.refund_wait})
        if self._agrees(c):
            raise ContractRevert("report", "ModelAgrees")

    def _record(self, c, operation) -> _Record:
        try:
            return self.records[_key(c)]
        except KeyError:
            raise ContractRevert(operation, "RecordNotFound", {"key": c.key}) from None

    def claimable(self, c: Contribution) -> int:
        return self.records[_key(c)].claimable

    def has_claimed(self, c: Contribution, claimant: str) -> bool:
        r = self.records[_key(c)]
        return r.refunded if claimant == c.author else claimant in r.claimed_by

    def num_valid(self, account: str) -> int:
        return self.valid.get(account, 0)

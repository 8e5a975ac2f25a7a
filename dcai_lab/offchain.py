"""Twin-only mode: the same simulation with no chain at all, for quick parameter sweeps.

:class:`OffchainSystem` stands in for :class:`~dcai_lab.system.System` on a chain without an EVM
(``Chain.twin_only()``): the model is its Python twin (the contract's exact arithmetic), the trainer and
data handler are their rules in Python, the mechanism's rules come from its spec
(:meth:`dcai_lab.incentives.Mechanism.rules`), and each transaction's gas is *estimated* by a
:class:`GasModel` fitted on a chain run of the same experiment. Accuracy and balances are what the chain
would give for the same sequence of operations; gas is an estimate whose error the fit reports
(``GasModel.error``).
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import artifacts, inputs, settings
from .deployed import Payout
from .errors import ContractRevert, ModelRevert
from .files import write_whole
from .gas import DEPLOY
from .system import Contribution, leaderboard_frame, require_badges
from .models import registry

# Bumped when what a gas model holds or how it is fitted changes, so that cached models are refitted (3: fitted
# on seed 0 whatever the run's seed, with the sample lengths of the run that fitted it).
GAS_MODEL_VERSION = 3


@dataclass
class GasModel:
    """Gas per operation as ``intercept + slope * sample length`` (least squares on a chain run), plus
    the deployment's total. ``error`` holds, per operation, the mean absolute error of the estimate in
    percent on the transactions it was fitted to, and the error of the total."""

    coefficients: dict = field(default_factory=dict)  # op -> [intercept, slope]
    deploy: int = 0
    error: dict = field(default_factory=dict)
    # The deployment's transactions, and which of them deploys the mechanism: its constructor starts the
    # mechanism's clock (Deposit-Refund-Take's last update), so twin-only time must match the chain's.
    deploy_transactions: int = 1
    mechanism_transaction: int = 0

    @classmethod
    def fit(cls, gas, add_lengths, mechanism=None) -> "GasModel":
        """From a chain run's gas ledger (DataFrame with ``operation``, ``gas_used``, ``status``) and the
        sample length of each add_data transaction in order. Adds get a slope on the sample's length;
        other operations their mean (their sample is not in the ledger)."""
        ok = gas[gas["status"] == 1]
        deploying = ok[ok["operation"] == DEPLOY]
        model = cls(deploy=int(deploying["gas_used"].sum()), deploy_transactions=max(1, len(deploying)),
                    mechanism_transaction=_mechanism_position(deploying, mechanism))
        for op, rows in ok[ok["operation"] != DEPLOY].groupby("operation"):
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
        write_whole(path, json.dumps(asdict(self), indent=1))  # runs of a sweep may calibrate together

    @classmethod
    def load(cls, path) -> "GasModel":
        return cls(**json.loads(Path(path).read_text()))


def _mechanism_position(deploying, mechanism) -> int:
    """Index of the mechanism's deployment among a deployment's transactions (0 if unknown)."""
    names = list(deploying["name"]) if "name" in deploying else []
    name = getattr(mechanism, "contract_name", None)
    return names.index(name) if name in names else 0


def cache_key(config: dict) -> str:
    """A gas model is fitted on a calibration run (``config``: the run that fits it): it depends on that run's
    dataset, model, mechanism and their parameters, the initial training (a model trained on more data writes
    fewer fresh slots), who contributes and claims, the run's size and fork, and on the contracts' code (a
    change to any contract source refits every cached gas model). Not on the seed: calibration runs use one."""
    keys = ("dataset", "model", "model_params", "incentive", "incentive_params", "profile", "initial_fraction",
            "initial_samples", "contributors", "claims", "sweeps", "max_contributions", "duration_days", "fork")
    versioned = {"gas_model_version": GAS_MODEL_VERSION, "contracts": artifacts.build_info()["sources"],
                 **{k: config.get(k) for k in keys}}
    return hashlib.sha256(json.dumps(versioned, sort_keys=True).encode()).hexdigest()[:16]


def gas_model_path(config: dict) -> Path:
    """Where the gas model of this setting is cached (under ``$DCAI_LAB_CACHE``)."""
    return settings.cache_dir() / "gas-models" / f"{cache_key(config)}.json"


def _key(c: Contribution) -> bytes:
    """The record's identity: the data handler's key, computed once per contribution (a tuple of the data
    would be hashed again at every look-up, and claims look records up at every turn)."""
    return c.key


@dataclass
class _Record:
    deposit: int
    claimable: int
    refunded: bool = False
    claimed_by: set = field(default_factory=set)


class OffchainSystem:
    """The trainer and data handler as Python rules, the mechanism's rules from its spec, and the model twin.
    Same methods as :class:`~dcai_lab.system.System`; reverts raise the same ContractRevert, checked in the
    contracts' order. ``chain`` is a ``Chain.twin_only()``: it keeps time and records estimated gas."""

    def __init__(self, chain, model, mechanism, gas_model: GasModel):
        self.chain, self.model_twin, self.mechanism, self.gas_model = chain, model, mechanism, gas_model
        self.owner = chain.accounts[0]
        self._dense = registry.entry_for(model).input_kind == registry.DENSE  # how samples are checked
        self.records: dict[tuple, _Record] = {}
        self.added: Counter = Counter()  # contributions per author, as the trainer's AddData events count them
        # the deployment as one ledger row of its total, but as many blocks as on a chain; the mechanism's
        # clock starts at its own deployment's block, as its constructor's does
        start = None
        for i in range(gas_model.deploy_transactions):
            gas = gas_model.deploy if i == gas_model.deploy_transactions - 1 else None
            time = self._block(gas, "system", phase=DEPLOY)
            if i == gas_model.mechanism_transaction:
                start = time
        self.rules = mechanism.rules(owner=self.owner, start=start)

    def _block(self, gas: int | None, name: str, sender: str | None = None, phase: str = "", status: int = 1) -> int:
        """A block on the twin-only clock, with a ledger row when ``gas`` is given; its time."""
        if gas is None:
            self.chain.transport.mine()
            return self.chain.now
        return self.chain.record_estimate(name, sender or self.owner, gas, phase=phase, status=status).block_time

    def _mine(self, name: str, sender: str, length: int) -> int:
        """One transaction's estimated gas, in a block of its own; the block's time."""
        return self._block(self.gas_model.estimate(name, length), name, sender)

    def _reverted(self, name: str, sender: str, length: int):
        """A transaction the contracts refuse is still mined on a chain: its block moves the clock."""
        self._block(self.gas_model.estimate(name, length), name, sender, status=0)

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
        return self.rules.deposit_required(self.chain.next_block_time if at is None else at)

    def add_data(self, x, label: int, *, sender: str, value: int | None = None) -> Contribution:
        """As ``CollaborativeTrainer.addData``: the model's update first (its checks and overflows revert
        first), then the mechanism's deposit, then the record. A refused contribution changes nothing but
        the clock (its transaction is mined, as on a chain)."""
        data, label = tuple(inputs.sample(x, dense=self._dense)), inputs.label(label)
        t = self.chain.next_block_time
        try:
            required = self.rules.deposit_required(t)
            value = required if value is None else value
            key = Contribution(data, label, t, sender, 0).key  # the data handler's key (not the deposit's)
            if value < required or key in self.records:
                # a later check will refuse it, unless the model refuses first: ask a copy of the model
                self._update(copy.deepcopy(self.model_twin), data, label)
            else:
                self._update(self.model_twin, data, label)
            deposit = self.rules.handle_add_data(sender, value, t)
            if key in self.records:  # the same data twice in one block: the data handler refuses
                raise ContractRevert("add_data", "DuplicateContribution", {"key": key})
        except ContractRevert:
            self._reverted("add_data", sender, len(data))
            raise
        self.records[key] = _Record(deposit, deposit)
        self.added[sender] += 1
        self._mine("add_data", sender, len(data))
        return Contribution(data, label, t, sender, deposit, self.chain.gas.records[-1].gas_used)

    @staticmethod
    def _update(model, data, label) -> None:
        try:
            model.partial_fit([list(data)], [label])
        except ModelRevert as err:
            raise ContractRevert("add_data", err.error, err.args_) from None

    def refund(self, c: Contribution, *, sender: str | None = None) -> Payout:
        t = self.chain.next_block_time
        try:
            r = self._claim(c, c.author, "refund")
            amount = self.rules.handle_refund(c.author, r.deposit, r.claimable, c.added_time, self._agrees(c), t)
        except ContractRevert:
            self._reverted("refund", c.author, len(c.data))
            raise
        r.refunded, r.claimable = True, r.claimable - amount
        self._mine("refund", c.author, len(c.data))
        return Payout(amount, self.chain.gas.records[-1].gas_used)

    def report(self, c: Contribution, *, sender: str) -> Payout:
        t = self.chain.next_block_time
        try:
            r = self._claim(c, sender, "report")
            amount = self.rules.handle_report(sender, c.author, c.key, r.deposit, r.claimable, c.added_time,
                                              self._agrees(c), t)
        except ContractRevert:
            self._reverted("report", sender, len(c.data))
            raise
        r.claimed_by.add(sender)
        r.claimable -= amount
        self._mine("report", sender, len(c.data))
        return Payout(amount, self.chain.gas.records[-1].gas_used)

    def _agrees(self, c: Contribution) -> bool:
        return self.predict(c.data) == c.label

    def _claim(self, c: Contribution, claimant: str, operation: str) -> _Record:
        """The data handler's ``claim``: the record must exist and the claimant not have claimed it."""
        try:
            r = self.records[_key(c)]
        except KeyError:
            raise ContractRevert(operation, "RecordNotFound", {"key": c.key}) from None
        if r.refunded if claimant == c.author else claimant in r.claimed_by:
            raise ContractRevert(operation, "AlreadyClaimed", {"key": c.key, "claimant": claimant})
        return r

    def claimable(self, c: Contribution) -> int:
        return self.records[_key(c)].claimable

    def has_claimed(self, c: Contribution, claimant: str) -> bool:
        r = self.records[_key(c)]
        return r.refunded if claimant == c.author else claimant in r.claimed_by

    def num_valid(self, account: str) -> int:
        return self.rules.num_valid.get(account, 0)

    # -- points and badges (Points): as System's, from the rules --------------------------------
    def points(self, account: str) -> int:
        require_badges(self.mechanism, "points()")
        return self.rules.points.get(account, 0)

    def badges(self, account: str) -> list[str]:
        require_badges(self.mechanism, "badges()")
        return self.mechanism.badge_names(self.rules.badges.get(account, 0))

    def badge_events(self) -> list[dict]:
        require_badges(self.mechanism, "badge_events()")
        return [{"holder": holder, "badge": badge, "name": self.mechanism.badge_name(badge)}
                for holder, badge in self.rules.badge_events]

    def leaderboard(self):
        require_badges(self.mechanism, "leaderboard()")
        rules = self.rules
        return leaderboard_frame([{"address": a, "points": p, "badges": tuple(self.badges(a)),
                                   "validated": rules.num_valid.get(a, 0), "contributions": self.added[a],
                                   "streak": rules.streak.get(a, 0)} for a, p in rules.points.items()])

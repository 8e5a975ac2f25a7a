"""An experiment, declared: what runs (dataset, model, mechanism, contributors, time) and where."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields

from .. import chain, contributors, datasets, incentives
from ..models import registry

FORKS = ("prague",)
BACKENDS = tuple(chain.BACKENDS)


@dataclass
class ExperimentConfig:
    """A run, declared. Load one with ``ExperimentConfig.from_toml(path)`` or build it in Python.

    ``model`` is a short name from :mod:`dcai_lab.models.registry` (``perceptron``, ``nb``, ``ncc``,
    ``dense-perceptron``, ``dense-ncc``); its default encoder for the task encodes the data.
    ``incentive`` names a mechanism (:mod:`dcai_lab.incentives`) and ``incentive_params`` its parameters.
    ``deposit_unit`` (wei) scales contributors' willingness to deposit; by default the mechanism's unit
    (Deposit-Refund-Take: the deposit asked an hour after the last update, 60 * cost_weight). Balances start
    at ``initial_balance`` units. Gas is priced at ``gas_price_gwei`` and ``eth_usd`` (earlier work: 4 gwei,
    373 USD/ETH). ``backend`` is ``"py-evm"`` (embedded), ``"anvil"`` (a local anvil node the run starts
    and stops), ``"rpc"`` (the development node at ``$DCAI_LAB_RPC_URL``; it must move time with ``evm_mine``
    and ``evm_setNextBlockTimestamp``, as anvil and hardhat do; keys from ``$DCAI_LAB_PRIVATE_KEYS`` if it holds
    no unlocked accounts; a local node's URL may also be given here directly) or ``"twin"``: no chain, twins
    and the mechanism's rules in Python, gas estimated by a model fitted on a short chain run of the same
    setting (cached; see :mod:`dcai_lab.offchain`).
    """

    name: str = "experiment"
    dataset: str = "imdb"
    model: str = "perceptron"
    incentive: str = "deposit-refund-take"
    incentive_params: dict = field(default_factory=dict)
    initial_fraction: float = 0.08
    contributors: list = field(default_factory=lambda: [{"kind": "honest", "count": 3}, {"kind": "adversarial", "count": 1}])
    duration_days: float = 1.0
    eval_interval_hours: float = 2.0
    max_contributions: int | None = None
    test_limit: int | None = None
    onchain_check: int = 50
    seed: int = 0
    fork: str = "prague"
    backend: str = "py-evm"
    deposit_unit: int | None = None
    initial_balance: float = 10_000
    gas_price_gwei: float = 4.0
    eth_usd: float = 373.0

    @classmethod
    def from_dict(cls, values: dict) -> "ExperimentConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown experiment settings {unknown}; known: {sorted(known)}")
        config = cls(**values)
        config.check()
        return config

    @classmethod
    def from_toml(cls, path) -> "ExperimentConfig":
        with open(path, "rb") as handle:
            return cls.from_dict(tomllib.load(handle))

    @classmethod
    def coerce(cls, config) -> "ExperimentConfig":
        """A config from a config, a dict or a TOML file's path, checked."""
        if isinstance(config, cls):
            config.check()
            return config
        if isinstance(config, dict):
            return cls.from_dict(config)
        return cls.from_toml(config)

    def mechanism(self) -> incentives.Mechanism:
        """The mechanism spec with this config's parameters."""
        return incentives.build(self.incentive, self.incentive_params)

    def check(self) -> None:
        """Refuse a setting that cannot run, naming the value and the fix."""
        task = datasets.task(self.dataset)
        registry.entry(self.model).check_task(task)
        mechanism = self.mechanism()
        if self.fork not in FORKS:
            raise ValueError(f"fork {self.fork!r} is not available: the contracts are compiled for prague (they use "
                             "PUSH0 and MCOPY, which Istanbul-era forks lack), so gas is measured on prague only")
        chain.check_backend(self.backend)
        if self.backend == "twin" and not mechanism.twin_only:
            raise ValueError(f"twin-only mode needs a mechanism with Python rules; {type(mechanism).__name__} has "
                             "none (for the prediction market's payouts without a chain use dcai_lab.market.settle)")
        if not 0 < self.initial_fraction < 1:
            raise ValueError(f"initial_fraction must be between 0 and 1, got {self.initial_fraction}")
        for spec in self.contributors:
            contributors.make(spec["kind"], **{k: v for k, v in spec.items() if k not in ("kind", "count")})

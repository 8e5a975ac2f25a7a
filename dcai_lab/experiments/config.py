"""An experiment, declared: what runs (dataset, model, mechanism, contributors, time) and where."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from .. import chain, contributors, datasets, incentives
from ..fields import SettingTypeError, check_types
from ..models import registry

FORKS = ("prague",)
BACKENDS = tuple(chain.BACKENDS)
DAY = 86_400
CLAIMS = ("at-evaluations", "at-own-events")
#: The settings of :func:`dcai_lab.valuation.value` a config's ``valuation`` table may give
#: (``valuation = true``: its defaults).
VALUATION_OPTIONS = ("exact_limit", "permutations", "sample_permutations", "truncation", "samples", "seed")

# Two profiles: this lab's simulation (the default) and the one behind the 2020 paper's figures (Harris
# 2020, arXiv 2009.06756; read from the 2019 simulation's code). A profile gives the settings a config
# leaves out; anything a config sets wins. PROFILE_RULES says in words what each rule is in each profile.
PROFILES = {
    "lab": {"initial_fraction": 0.08, "duration_days": 1.0, "eval_interval_hours": 2.0,
            "contributors": [{"kind": "honest", "count": 3}, {"kind": "adversarial", "count": 1}],
            "claims": "at-evaluations", "sweeps": False, "until_all_claimed": False},
    "2020": {"initial_fraction": 0.08, "duration_days": None, "eval_interval_hours": 200_000 / 3600,
             "contributors": [{"kind": "good"}, {"kind": "bad"}],
             "claims": "at-own-events", "sweeps": True, "until_all_claimed": True},
}
# The 2020 profile's settings that depend on the dataset or the mechanism.
PROFILE_DATASETS = {"2020": {"fitness_synthetic": {"initial_samples": 100, "max_contributions": 3_400}}}
PROFILE_INCENTIVE_PARAMS = {"2020": {"deposit-refund-take": {"owner_claim_wait": 9 * DAY,
                                                             "any_address_claim_wait": 9 * DAY}}}
PROFILE_RULES = [
    ("contributors", "three honest (2% label mistakes, exponential waits of mean 10 min, deposits N(50, 10)) "
                     "and one adversary (flips every label, exponential waits of mean 1 h, deposits N(100, 3)), "
                     "always contributing",
     "one good (0.01% mistakes, waits N(600 s, 1 s), deposits N(50, 10), contributes only with probability "
     "accuracy + 0.15) and one bad (flips every label, waits N(3600 s, 1 s), deposits N(100, 3))"),
    ("claims", "every contributor claims at evaluation ticks: refunds where the model agrees, reports where it "
               "does not",
     "the acting contributor claims at each of its own turns, oldest deposit first"),
    ("sweeps", "no one sweeps: a deposit no one can claim stays in the contract (the contract lets anyone but "
               "the author take it after 10 days)",
     "after 9 days anyone takes what is left of a deposit (the contract's any-address wait set to 9 days); "
     "the 2019 code let the author sweep its own deposit too, the contract refuses it"),
    ("length", "a fixed simulated duration, then one more refund wait so that claims come due",
     "until all the training data is contributed and every deposit is claimed (here: until no deposit can be "
     "claimed any more, one sweep wait after the last contribution)"),
    ("initial training", "8% of the training split", "8% of the training split; fitness: 100 samples and 3,400 "
                                                       "contributions (3,500 in all, as the paper's Endomondo "
                                                       "subset)"),
    ("evaluation", "every 2 simulated hours (configs often set more)", "every 200,000 s (55.6 h)"),
    ("balances", "a deposit is capped by the contributor's balance; at zero it stops",
     "the same (as in the 2019 code)"),
]


@dataclass
class ExperimentConfig:
    """A run, declared. Load one with ``ExperimentConfig.from_toml(path)`` or build it in Python.

    ``dataset`` names a built-in or registered dataset (:func:`dcai_lab.datasets.register`), or is a table
    that registers one from a file (in TOML a ``[dataset]`` table: ``path = "my.csv"``, ``text_column``,
    ``label_column``, ``labels``, ...; see :func:`dcai_lab.datasets.register_table`; paths relative to the
    config file). The table is registered when the config is made: ``dataset`` becomes its name and
    ``dataset_source`` the table with absolute paths, which registers it again wherever the config is rebuilt.
    ``model`` is a short name from :mod:`dcai_lab.models.registry` (``perceptron``, ``nb``, ``ncc``,
    ``dense-perceptron``, ``dense-ncc``); its default encoder for the task encodes the data, and
    ``model_params`` sets the model's other estimator parameters (``{step_decay = 1000}`` gives a perceptron
    scikit-learn's shape of decreasing step).
    ``profile`` (``"lab"`` or ``"2020"``) gives every setting left out (``None``) its value: this lab's
    simulation, or the one that drew the 2020 paper's figures (see :data:`PROFILE_RULES` and the README).
    ``claims`` is ``"at-evaluations"`` (every contributor claims at evaluation ticks) or ``"at-own-events"``
    (the acting contributor claims at its own turns); ``sweeps`` lets contributors take what is left of a
    deposit once the mechanism's any-address wait has passed; ``until_all_claimed`` runs until the data is
    all contributed and every deposit is claimed instead of for ``duration_days``. ``initial_samples``
    trains on that many samples first instead of ``initial_fraction`` of the split.
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
    dataset_source: dict | None = None
    model: str = "perceptron"
    model_params: dict = field(default_factory=dict)
    incentive: str = "deposit-refund-take"
    incentive_params: dict = field(default_factory=dict)
    profile: str = "lab"
    initial_fraction: float | None = None
    initial_samples: int | None = None
    contributors: list | None = None
    duration_days: float | None = None
    eval_interval_hours: float | None = None
    claims: str | None = None
    sweeps: bool | None = None
    until_all_claimed: bool | None = None
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
    valuation: bool | dict = False

    def __post_init__(self):
        self._register_dataset()
        check_types(self, "experiment config")
        if self.profile not in PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}; choose one of {sorted(PROFILES)}")
        defaults = {**PROFILES[self.profile], **PROFILE_DATASETS.get(self.profile, {}).get(self.dataset, {})}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        incentive = self.incentive.lower().replace("_", "-") if isinstance(self.incentive, str) else ""
        profile_params = PROFILE_INCENTIVE_PARAMS.get(self.profile, {}).get(incentive, {})
        self.incentive_params = {**profile_params, **self.incentive_params}

    def _register_dataset(self) -> None:
        if isinstance(self.dataset, dict):
            if self.dataset_source is not None:
                raise ValueError("dataset is a table and dataset_source is set too: give the table as dataset only")
            table = datasets.resolve_table(self.dataset, Path.cwd())
            self.dataset = datasets.register_table(table).name
            self.dataset_source = {k: v for k, v in table.items() if k != "name"}
        elif self.dataset_source is not None:
            datasets.register_table({**self.dataset_source, "name": self.dataset})

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
        return cls.from_dict(settings_from_toml(path))

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
        registry.entry(self.model).check_params(self.model_params)
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
        if self.initial_samples is not None and self.initial_samples < 1:
            raise ValueError(f"initial_samples must be at least 1, got {self.initial_samples}")
        if self.claims not in CLAIMS:
            raise ValueError(f"claims must be one of {CLAIMS}, got {self.claims!r}")
        if self.until_all_claimed and mechanism.settles_in_rounds:
            raise ValueError(f"{type(mechanism).__name__} settles once, after participation: it runs for "
                             "duration_days; set until_all_claimed = false (or use profile = \"lab\")")
        if not self.until_all_claimed and not (self.duration_days and self.duration_days > 0):
            raise ValueError(f"duration_days must be positive, got {self.duration_days} (or set "
                             "until_all_claimed = true to run until the data is used up and every deposit claimed)")
        if not self.eval_interval_hours > 0:
            raise ValueError(f"eval_interval_hours must be positive, got {self.eval_interval_hours}")
        for name in ("max_contributions", "test_limit", "initial_balance"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)} (or left out)")
        for name in ("onchain_check", "gas_price_gwei", "eth_usd", "deposit_unit"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if isinstance(self.valuation, dict):
            unknown = sorted(set(self.valuation) - set(VALUATION_OPTIONS))
            if unknown:
                raise ValueError(f"unknown valuation settings {unknown}; known: {sorted(VALUATION_OPTIONS)} (or "
                                 "valuation = true for the defaults)")
        for i, spec in enumerate(self.contributors):
            if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
                raise SettingTypeError(f"contributors[{i}] must be a table with a kind (e.g. {{kind = \"honest\", count = "
                                f"3}}), got {spec!r}")
            count = spec.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"contributors[{i}].count must be a positive integer, got {count!r}")
            contributors.make(spec["kind"], **{k: v for k, v in spec.items() if k not in ("kind", "count")})


def settings_from_toml(path) -> dict:
    """A config file's settings, the paths of a ``[dataset]`` table taken from the file's folder."""
    path = Path(path)
    with open(path, "rb") as handle:
        return paths_from(tomllib.load(handle), path.resolve().parent)


def paths_from(values: dict, folder: Path) -> dict:
    """Experiment settings with a ``[dataset]`` table's relative paths taken from ``folder``."""
    if "dataset" not in values:
        return values
    return {**values, "dataset": datasets.resolve_table(values["dataset"], folder)}

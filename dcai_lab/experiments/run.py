"""One run of an experiment: data drawn, model fitted, mechanism deployed on the chosen backend, the loop
run, and a :class:`~dcai_lab.results.Result` with its manifest."""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from .. import datasets, subsets
from ..chain import Chain
from ..encoded import encoded_splits
from ..interrupts import RunInterrupted, between_steps
from ..offchain import GasModel, OffchainSystem, gas_model_path
from ..results import Result
from .config import ExperimentConfig
from .plan import CHECK_STREAM, HIDDEN_STREAM, TEST_STREAM, new_twin, plan_subsets
from .simulation import MarketSimulation, Simulation

#: Contributions in the short chain run that fits a twin-only run's gas model.
CALIBRATION_CONTRIBUTIONS = 200
#: The seed of that run, whatever the run's own: every seed of a setting shares one cached gas model, so it
#: must not depend on which of them (in a sweep, on several processes at once) happened to fit it first.
CALIBRATION_SEED = 0


def run(config: ExperimentConfig | dict | str | Path, out: str | Path | None = None, progress: bool = True, *,
        gas_model: GasModel | None = None) -> Result:
    """Run an experiment; write its results folder to ``out`` if given. Returns a :class:`Result`.

    With ``valuation`` set in the config, the finished run's data is valued beside its payouts
    (:func:`dcai_lab.valuation.value`): on ``result.valuation``, and in ``out/valuation`` when saved.
    ``gas_model``: for a twin-only run, estimate gas with this model (:func:`twin_gas_model` of another
    setting) instead of fitting or loading the setting's own; accuracy and balances do not depend on it."""
    config = ExperimentConfig.coerce(config)
    result = _execute(config, progress, gas_model)
    if out is not None:
        result.save(out)
    if config.valuation and not result.partial:
        from ..valuation import value

        options = config.valuation if isinstance(config.valuation, dict) else {}
        result.valuation = value(result if out is None else out, out=None if out is None else Path(out) / "valuation",
                                 progress=progress, **options)
    if result.partial:
        where = f"; kept in {out} (marked partial)" if out is not None else "; its Result is on this exception's .result"
        raise RunInterrupted(f"run {config.name!r} stopped by Ctrl-C after {result.partial['simulated_hours']:.1f} "
                             f"simulated hours and {result.partial['contributions_added']} contributions{where}",
                             result, out)
    return result


def _execute(config: ExperimentConfig, progress: bool, gas_model: GasModel | None = None) -> Result:
    started = time.time()
    rng = np.random.default_rng(config.seed)
    encoder, X, y, X_test, y_test = encoded_splits(config.dataset, config.seed, model=config.model)
    mechanism = config.mechanism()
    plan = plan_subsets(config, y, y_test, mechanism, rng)
    y_all_test = y_test
    hidden = subsets.take(X_test, y_test, plan["hidden_test"]) if "hidden_test" in plan else None
    X_test, y_test = subsets.take(X_test, y_test, plan["test"])
    initial, pool = plan["initial"], plan["pool"]
    n_initial = len(initial)

    twin = new_twin(config, encoder)
    twin.fit([X[i] for i in initial], y[initial])
    reference = new_twin(config, encoder).fit(X, y)

    if config.backend == "twin":
        gas_model = gas_model or twin_gas_model(config, progress)
        chain = _new_chain(config)
        system = OffchainSystem(chain, twin, mechanism, gas_model)
    else:
        chain = _new_chain(config)
        system = mechanism.deploy(chain, twin, encoder=encoder, name=config.name, test_set=hidden)
    loop = MarketSimulation if mechanism.settles_in_rounds else Simulation
    sim = loop(config, chain, system, mechanism, rng, X, y, pool, X_test, y_test, check=plan["check"])
    try:
        with between_steps(f"run {config.name!r}") as stop:
            sim.run(progress, stop)
        engine_memory = chain.transport.engine_peak_memory()
    finally:
        chain.close()
    manifest = _manifest(config, chain, started, sim.test_hash, n_initial, len(pool), reference.score(X_test, y_test),
                         gas_model if config.backend == "twin" else None)
    manifest["subsets"] = describe_subsets(config, y, y_all_test, plan)
    if sim.interrupted:
        added = sum(1 for r in sim.contribution_rows if r["outcome"] == "added")
        manifest["partial"] = {
            "reason": "stopped by Ctrl-C between two steps: every table equals the chain up to there",
            "simulated_hours": (chain.now - sim.start) / 3600, "contributions_added": added,
            **({"market": "not settled: participation was still open, no rewards were paid"}
               if mechanism.settles_in_rounds else {})}
    manifest["model"] = {"class": type(twin).__name__, **twin.get_params()}  # every estimator parameter used
    manifest["peak_memory_mb"] = {"python": _peak_memory_mb(),
                                  "engine": None if engine_memory is None else round(engine_memory / 2**20, 1)}
    return Result(config=asdict(config), manifest=manifest, contributions=sim.contribution_rows,
                  accuracy=sim.accuracy_rows, balances=sim.balance_rows, gas=chain.gas.to_pandas())


def _peak_memory_mb() -> float | None:
    """This process's peak resident memory so far (its whole life, not only the run), in MiB; None where
    the standard library cannot tell (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def describe_subsets(config: ExperimentConfig, y, y_test, plan) -> dict:
    """What the manifest records of each subset: size, class counts, seed, a hash of its indices and how it
    was drawn (``y_test`` is the whole test split)."""
    seed = config.seed
    whole_test = len(plan["test"]) + len(plan.get("hidden_test", [])) == len(y_test)
    described = {
        "initial": {**subsets.describe(y, plan["initial"], seed), "method": "seeded permutation of the training split"},
        "pool": {**subsets.describe(y, plan["pool"], seed), "method": "the rest of that permutation, in its order"},
        "test": {**subsets.describe(y_test, plan["test"], [seed, TEST_STREAM]),
                 "method": "the whole test split" + (" but the hidden test set" if "hidden_test" in plan else "")
                 if whole_test else "stratified random draw from the test split"},
        "onchain_check": {**subsets.describe(np.asarray(y_test)[plan["test"]], plan["check"], [seed, CHECK_STREAM]),
                          "method": "stratified random draw from the test set"}}
    if "hidden_test" in plan:
        described["hidden_test"] = {**subsets.describe(y_test, plan["hidden_test"], [seed, HIDDEN_STREAM]),
                                    "method": "stratified random draw from the test split"}
    return described


def _new_chain(config: ExperimentConfig) -> Chain:
    return Chain.for_backend(config.backend, hardfork=config.fork)


def twin_gas_model(config: ExperimentConfig | dict, progress: bool = False) -> GasModel:
    """The gas model for twin-only runs of this setting: fitted on a short run of the same dataset, model
    and mechanism on the embedded chain (at most CALIBRATION_CONTRIBUTIONS contributions, seed
    CALIBRATION_SEED), cached under ``$DCAI_LAB_CACHE`` (default ``~/.cache/dcai-lab``)."""
    config = ExperimentConfig.coerce(config)
    limit = min(config.max_contributions or CALIBRATION_CONTRIBUTIONS, CALIBRATION_CONTRIBUTIONS)
    calibrating = replace(config, backend="py-evm", max_contributions=limit, until_all_claimed=False,
                          duration_days=min(config.duration_days or 1.0, 1.0), seed=CALIBRATION_SEED)
    # a built-in dataset is keyed by its name, a registered one by its contents
    path = gas_model_path({**asdict(calibrating), "dataset": datasets.identity(config.dataset)})
    if path.exists():
        return GasModel.load(path)
    calibration = _execute(calibrating, progress)
    added = calibration.contributions[calibration.contributions["outcome"] == "added"]
    X = encoded_splits(config.dataset, CALIBRATION_SEED, model=config.model)[1]  # the samples it drew from
    model = GasModel.fit(calibration.gas, [len(X[i]) for i in added["sample"]], config.mechanism())
    model.save(path)
    return model


def _manifest(config, chain, started, test_hash, n_initial, n_pool, reference_accuracy, gas_model) -> dict:
    from importlib.metadata import version

    from .. import artifacts

    packages = {p: version(p) for p in ("web3", "eth-tester", "py-evm", "scikit-learn", "numpy", "datasets")}
    estimated = chain.backend == "twin"
    return {"dcai_lab": version("dcai-lab"), "packages": packages, "compiler": artifacts.build_info()["compiler"],
            "evm_version": artifacts.build_info()["settings"]["evmVersion"],
            "fork": chain.fork, "seed": config.seed,  # None in twin-only runs: there is no chain
            "dataset": config.dataset, "dataset_files_sha256": datasets.file_hashes(config.dataset),
            "test_set_sha256": test_hash, "initial_samples": n_initial, "pool_samples": n_pool,
            "reference_accuracy_all_data": reference_accuracy, "started": started, "finished": time.time(),
            "backend": config.backend, "gas_estimated": estimated,
            **({"gas_model_error": gas_model.error} if estimated else {})}

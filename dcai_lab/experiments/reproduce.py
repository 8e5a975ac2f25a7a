"""Reproduction of the 2020 analysis: the datasets x models grid under Deposit-Refund-Take, its figures and
a report beside the published figures."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .. import artifacts
from .config import ExperimentConfig
from .run import run, twin_gas_model

# Accuracy when trained on all the training data, as published in 2019-2020 work (Harris 2020, arXiv
# 2009.06756). The IMDB perceptron has two: the simulation's own entry point, and with a 1000-word vocabulary.
PUBLISHED = {
    ("imdb", "nb"): (0.8323,), ("imdb", "ncc"): (0.7445,), ("imdb", "perceptron"): (0.73, 0.7945),
    ("fake_news", "nb"): (0.8181,), ("fake_news", "ncc"): (0.6727,), ("fake_news", "perceptron"): (0.9003,),
    ("fitness_synthetic", "nb"): (0.97,), ("fitness_synthetic", "ncc"): (0.9513,),
    ("fitness_synthetic", "perceptron"): (0.9507,),
}
# Where our data is not the paper's: its published figure is shown, but it measures something else.
NOT_COMPARABLE = {"fake_news": "not comparable: different data (LIAR here, the Kaggle fake-news set there)",
                  "fitness_synthetic": "not comparable: different data (a SYNTHETIC stand-in for Endomondo)"}
PUBLISHED_BASELINES = {cell: values[-1] for cell, values in PUBLISHED.items()}  # one value per cell, as before
REPRODUCE_DATASETS = ("imdb", "fake_news", "fitness_synthetic")
REPRODUCE_MODELS = ("nb", "ncc", "perceptron")


#: Simulated days and hours between evaluations per cell under this lab's profile (the 2020 profile runs
#: until the data is used up and evaluates every 200,000 s).
LAB_DAYS, LAB_EVAL_HOURS = 7.0, 12.0
#: Where the profiles' deviations are measured, with the model of the 2020 simulation's entry point.
DEVIATION_DATASETS, DEVIATION_MODEL = ("imdb", "fitness_synthetic"), "perceptron"


def reproduce(out, datasets_=REPRODUCE_DATASETS, models_=REPRODUCE_MODELS, duration_days: float | None = None,
              eval_interval_hours: float | None = None, test_limit: int | None = None, seed: int = 0,
              progress: bool = True, profile: str = "lab", backend: str = "py-evm", deviations: bool = True,
              deviation_backend: str = "twin", seeds: int = 1, workers: int | None = None) -> Path:
    """The datasets x models grid of the 2020 analysis under Deposit-Refund-Take. Writes one results
    folder per cell, figures, and ``report.md``: per cell accuracy at the start, at the end and trained on
    all data (with the test set's hash) beside the published values, each contributor kind's final balance,
    gas with its USD price, in words where the outcome contradicts the paper, the paper's figure (accuracy
    with the good and bad balances, one panel per model) per dataset, and, with ``deviations``, every rule
    where this lab's simulation differs from the 2020 one with its measured effect (:func:`profile_deviations`,
    on ``deviation_backend``) and the effect of the perceptron's step (:func:`~.sgd_step.compare_steps`).

    ``profile`` is ``"lab"`` (default: ``duration_days`` 7, an evaluation every 12 simulated hours) or
    ``"2020"`` (until the data is used up and every deposit is claimed; on py-evm that takes hours for IMDB,
    ``backend="twin"`` minutes).

    The cells run as a sweep (:mod:`.sweep`: ``workers`` processes, one per CPU by default; rerunning resumes
    it). With ``seeds`` > 1 every cell also runs with seeds ``seed + 1`` ... and the report gives each cell's
    final accuracy and balances as a mean with a 95% confidence interval across seeds; the tables and figures
    of one run are those of ``seed``. Returns the report's path."""
    import matplotlib.pyplot as plt

    from .. import plots

    from .sweep import SweepConfig, run_name, sweep

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be a positive number of seeds, got {seeds!r}")
    rows, gas_rows, results = [], [], {}
    cells = [(d, m) for d in datasets_ for m in models_]
    grid = SweepConfig(name="reproduce", base=cell_settings(profile=profile, backend=backend,
                                                            duration_days=duration_days,
                                                            eval_interval_hours=eval_interval_hours,
                                                            test_limit=test_limit),
                       axes={"dataset": list(datasets_), "model": list(models_)},
                       seeds=[seed + k for k in range(seeds)])
    digest = hashlib.sha256(json.dumps([grid.base, grid.axes], sort_keys=True).encode()).hexdigest()[:8]
    if progress:
        print(f"{len(cells)} cells x {seeds} seed(s) ({profile} profile, {backend}) in {out}/runs-{digest}", flush=True)
    swept = sweep(grid, out / f"runs-{digest}", workers=workers, progress=progress)
    if len(swept.failures):
        raise RuntimeError(f"{len(swept.failures)} runs of the grid did not finish (rerun to retry them; each "
                           f"folder's error.json says why):\n{swept.failures.to_string(index=False)}")
    for dataset, model in cells:
        name = f"{dataset}-{model}"
        result = swept.results[run_name({"dataset": dataset, "model": model, "seed": seed})]
        result.save(out / name)
        result.save_figures(out / name)
        results[dataset, model] = result
        rows.append(_cell_row(dataset, model, result))
        table = result.gas_table()
        for op in table.index:
            gas_rows.append({"dataset": dataset, "model": model, "operation": op, "gas": int(table.loc[op, "gas"]),
                             "usd": float(table.loc[op, "usd"])})
        plt.close("all")
    summary = pd.DataFrame(rows)
    gas_long = pd.DataFrame(gas_rows)
    gas = gas_long.pivot_table(index=["dataset", "model"], columns="operation", values="gas")
    summary.to_csv(out / "accuracy.csv", index=False)
    gas.to_csv(out / "gas.csv")
    gas_long.to_csv(out / "gas_usd.csv", index=False)
    plots.save(plots.gas_by_model(gas), out, "gas_by_model")
    plots.save(plots.gas_vs_accuracy(summary, gas), out, "gas_vs_accuracy")
    for dataset in datasets_:
        by_model = {m: results[dataset, m] for m in models_}
        plots.save(plots.paper_figure(by_model, dataset), out, f"paper_figure_{dataset}")
    deviation_table = steps = None
    if deviations:
        if progress:
            print(f"measuring the profiles' deviations on {', '.join(DEVIATION_DATASETS)} ({deviation_backend})",
                  flush=True)
        deviation_table = profile_deviations(seed=seed, backend=deviation_backend, progress=progress)
        deviation_table.to_csv(out / "deviations.csv", index=False)
        steps = _step_comparison(out, seed)
    across = None
    if seeds > 1:
        across = across_seeds(swept)
        across.to_csv(out / "across_seeds.csv", index=False)
    report = out / "report.md"
    report.write_text(_report(summary, gas_long, profile, backend, duration_days, test_limit, seed, datasets_,
                              deviation_table, steps, across))
    return report


def across_seeds(swept) -> pd.DataFrame:
    """Per cell: the seeds run, and the mean and 95% confidence half-width of the final accuracy and of the
    good and the bad contributors' final balances (each run's mean over its side)."""
    from .sweep import confidence_interval

    rows = []
    outcomes = pd.DataFrame([{"dataset": r["dataset"], "model": r["model"], **_outcome(swept.results[r["run"]])}
                             for r in swept.runs.to_dict("records") if r["status"] == "finished"])
    for (dataset, model), part in outcomes.groupby(["dataset", "model"], sort=False):
        row = {"dataset": dataset, "model": model, "seeds": len(part)}
        for measure in ("final_accuracy", "good_balance", "bad_balance"):
            mean, _, half = confidence_interval(part[measure].dropna().to_numpy(dtype=float))
            row.update({measure: mean, f"{measure}_ci95": half})
        rows.append(row)
    return pd.DataFrame(rows)


def cell_config(dataset: str, model: str, *, profile: str = "lab", backend: str = "py-evm",
                duration_days: float | None = None, eval_interval_hours: float | None = None,
                test_limit: int | None = None, seed: int = 0, name: str | None = None, **settings) -> ExperimentConfig:
    """One cell of the grid under Deposit-Refund-Take with ``profile``'s rules. Under the lab profile a
    cell runs ``duration_days`` (default 7) and evaluates every ``eval_interval_hours`` (default 12); under
    the 2020 profile a given ``duration_days`` replaces running until every deposit is claimed."""
    values = {"name": name or f"{dataset}-{model}", "dataset": dataset, "model": model, "seed": seed,
              **cell_settings(profile=profile, backend=backend, duration_days=duration_days,
                              eval_interval_hours=eval_interval_hours, test_limit=test_limit), **settings}
    return ExperimentConfig.from_dict(values)


def cell_settings(*, profile: str = "lab", backend: str = "py-evm", duration_days: float | None = None,
                  eval_interval_hours: float | None = None, test_limit: int | None = None) -> dict:
    """The settings every cell of the grid shares (see :func:`cell_config`)."""
    values = {"profile": profile, "backend": backend, "test_limit": test_limit}
    if profile == "lab":
        values.update(duration_days=duration_days or LAB_DAYS, eval_interval_hours=eval_interval_hours or LAB_EVAL_HOURS)
    else:
        if duration_days is not None:
            values.update(duration_days=duration_days, until_all_claimed=False)
        if eval_interval_hours is not None:
            values["eval_interval_hours"] = eval_interval_hours
    return values


def profile_deviations(datasets_=DEVIATION_DATASETS, model: str = DEVIATION_MODEL, seed: int = 0,
                       backend: str = "twin", progress: bool = False) -> pd.DataFrame:
    """Each rule where the profiles differ, measured: for every dataset, the 2020 profile, the 2020 profile
    with that one rule taken from this lab's, and this lab's profile (7 days, as ``reproduce``), all under
    Deposit-Refund-Take with ``model``. One row per run: final accuracy, the good and the bad contributors'
    final balances (mean over each side, % of start), contributions, simulated days. Twin-only by default:
    accuracy and balances are exactly the chain's (see :mod:`dcai_lab.offchain`), in minutes; the rows report
    no gas, so every twin-only run of a dataset estimates it with the 2020 profile's gas model instead of
    calibrating one per rule."""
    from ..encoded import encoded_splits
    from .config import DAY, PROFILES

    rows = []
    for dataset in datasets_:
        y = encoded_splits(dataset, seed, model=model)[2]
        lab_initial = max(1, round(PROFILES["lab"]["initial_fraction"] * len(y)))
        variants = {
            "2020 profile": {},
            "contributors": {"contributors": PROFILES["lab"]["contributors"]},
            "claims": {"claims": PROFILES["lab"]["claims"]},
            "sweeps": {"sweeps": False, "incentive_params": {"owner_claim_wait": 9 * DAY,
                                                             "any_address_claim_wait": 10 * DAY}},
            "length": {"until_all_claimed": False, "duration_days": LAB_DAYS},
            "initial training": {"initial_samples": lab_initial, "max_contributions": len(y) - lab_initial},
            "evaluation": {"eval_interval_hours": LAB_EVAL_HOURS},
        }
        measured = {}  # a rule the profiles share on this dataset changes nothing: one run serves both
        gas = None
        if backend == "twin":
            gas = twin_gas_model(cell_config(dataset, model, profile="2020", backend=backend, seed=seed),
                                 progress=progress)
        for rule, settings in variants.items():
            config = cell_config(dataset, model, profile="2020", backend=backend, seed=seed, name="deviation",
                                 **settings)
            key = repr(sorted(asdict(config).items()))
            if key not in measured:
                if progress:
                    print(f"  {dataset}: {rule if rule == '2020 profile' else '2020 but ' + rule + ' as ours'}",
                          flush=True)
                measured[key] = _outcome(run(config, progress=progress, gas_model=gas))
            rows.append({"dataset": dataset, "rule": rule, **measured[key]})
        lab = cell_config(dataset, model, backend=backend, seed=seed, name=f"deviation-{dataset}-lab")
        outcome = _outcome(run(lab, progress=progress, gas_model=gas))
        rows.append({"dataset": dataset, "rule": "lab profile", **outcome})
    return pd.DataFrame(rows)


def _final_balances(result):
    """Every contributor's final balance (% of start) and its side, ``"good"`` or ``"bad"``."""
    from ..contributors import GOOD_KINDS

    last = result.balances[result.balances["time_h"] == result.balances["time_h"].max()]
    return last, last["kind"].isin(GOOD_KINDS).map({True: "good", False: "bad"})


def _outcome(result) -> dict:
    last, side = _final_balances(result)
    mean = last["balance_percent"].groupby(side).mean()
    return {"final_accuracy": float(result.accuracy["accuracy"].iloc[-1]),
            "good_balance": float(mean.get("good", float("nan"))),
            "bad_balance": float(mean.get("bad", float("nan"))),
            "contributions": int(result.accuracy["contributions"].iloc[-1]),
            "days": float(result.accuracy["time_h"].iloc[-1] / 24)}


def _step_comparison(out: Path, seed: int) -> pd.DataFrame:
    """The chain's constant and decreasing steps against the 2019 simulation's decreasing step on the same
    streams (IMDB when the data directory has it, and the fitness stand-in): final and lowest accuracy of
    each."""
    from .. import datasets, plots
    from .sgd_step import compare_steps, plot_steps

    rows = []
    for dataset in DEVIATION_DATASETS:
        if not datasets.has(dataset, "train"):
            continue
        frame = compare_steps(dataset, seed=seed)
        plots.save(plot_steps(frame), out, f"steps_{dataset}")
        rows.append({"dataset": dataset, "step_decay": frame.attrs["twin_step_decay"],
                     **{f"{name}_{what}": getattr(frame[column], how)()
                        for name, column in (("constant", "constant_step"), ("chain_decreasing", "chain_decreasing_step"),
                                             ("decreasing", "decreasing_step"))
                        for what, how in (("final", "last"), ("lowest", "min"))},
                     "largest_gap": frame["gap"].abs().max()})
    return pd.DataFrame(rows)


def _cell_row(dataset: str, model: str, result) -> dict:
    acc = result.accuracy["accuracy"]
    last, side = _final_balances(result)
    published = PUBLISHED.get((dataset, model), ())
    return {"dataset": dataset, "model": model, "initial": acc.iloc[0], "final": acc.iloc[-1],
            "all_data": result.manifest["reference_accuracy_all_data"],
            "test_set_sha256": result.manifest["test_set_sha256"],
            "test_samples": result.manifest["subsets"]["test"]["size"],
            "published_all_data": published[-1] if published else None,
            "published_note": " / ".join(f"{v:.4f}" for v in published),
            "comparable": dataset not in NOT_COMPARABLE,
            "contributions": int(result.accuracy["contributions"].iloc[-1]),
            "days": float(result.accuracy["time_h"].iloc[-1] / 24),
            **{f"{s}_balance_min": float(v.min()) for s, v in last["balance_percent"].groupby(side)},
            **{f"{s}_balance_max": float(v.max()) for s, v in last["balance_percent"].groupby(side)},
            "good_kinds": ", ".join(sorted(set(last.loc[side == "good", "kind"]))),
            "bad_kinds": ", ".join(sorted(set(last.loc[side == "bad", "kind"]))),
            "gas_price_gwei": result.config["gas_price_gwei"], "eth_usd": result.config["eth_usd"]}


def contradictions(summary: pd.DataFrame) -> list[str]:
    """Where a cell contradicts the paper's claim that good contributors gain and the bad one loses
    under Deposit-Refund-Take: sentences naming the cell and the numbers."""
    found = []
    for r in summary.to_dict("records"):
        if "bad_balance_max" not in r or "good_balance_min" not in r:
            continue
        cell, bad = f"{r['model']} on {r['dataset']}", r["bad_balance_max"]
        if bad > 100:
            found.append(f"{cell}: the adversary ended in profit, at {bad:.2f}% of its start.")
        if bad > r["good_balance_min"]:
            found.append(f"{cell}: the adversary ({bad:.2f}%) ended above a good contributor "
                         f"({r['good_balance_min']:.2f}%).")
        if r["good_balance_min"] < 100:
            found.append(f"{cell}: a good contributor ended with a net loss ({r['good_balance_min']:.2f}%).")
    return found


def _fmt(v, digits=4):
    return "—" if v is None or v != v else f"{v:.{digits}f}"


def _report(summary, gas_long, profile, backend, duration_days, test_limit, seed, datasets_, deviations,
            steps, across=None) -> str:

    def balance(r, side):
        lo, hi = r.get(f"{side}_balance_min"), r.get(f"{side}_balance_max")
        if lo is None or lo != lo:
            return "—"
        return f"{lo:.1f}%" if abs(hi - lo) < 0.05 else f"{lo:.1f}-{hi:.1f}%"

    test_words = ("the whole hidden test split" if not test_limit
                  else f"{test_limit} hidden test samples drawn at random, stratified by label (seed {seed})")
    if profile == "lab":
        length = f"simulated {duration_days or LAB_DAYS:g} days per cell"
    elif duration_days:
        length = f"simulated {duration_days:g} days per cell"
    else:
        length = "each cell runs until its training data is all contributed and every deposit is claimed"
    engine = {"py-evm": "embedded py-evm", "twin": "twin-only (accuracy and balances exact, gas estimated by a "
                                                   "model fitted on a chain run)"}.get(backend, backend)
    price = summary.iloc[0] if len(summary) else None
    kinds = (f"good: {summary['good_kinds'].iloc[0]}; bad: {summary['bad_kinds'].iloc[0]}"
             if len(summary) and "good_kinds" in summary else "")
    lines = [f"# Reproduction: {len(datasets_)} datasets by models under Deposit-Refund-Take ({profile} profile)", "",
             f"Profile `{profile}` ({'this lab' if profile == 'lab' else 'the 2020 simulation'}'s rules; see "
             f"below); {length}; accuracy on {test_words}; compiler {artifacts.build_info()['compiler']}, "
             f"evmVersion prague, {engine}; seed {seed}.", "",
             "## Accuracy and balances", "",
             "Accuracy at the start (after off-chain training on the initial share), at the end, and when the "
             "twin is trained on all the training data, beside the published value for all data. Balances: "
             f"final balance as a percentage of the start, on each side ({kinds}; several contributors on a "
             "side: lowest-highest).", "",
             "| dataset | model | start | end | all data | published (all data) | good | bad | "
             "contributions | days | test set (sha256) |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in summary.to_dict("records"):
        published = r["published_note"] or "—"
        if r["published_note"] and not r["comparable"]:
            published += f" — {NOT_COMPARABLE[r['dataset']]}"
        elif r["dataset"] == "imdb" and r["model"] == "perceptron":
            published = "0.7300 (simulation) / 0.7945 (1000-word vocabulary)"
        lines.append(f"| {r['dataset']} | {r['model']} | {_fmt(r['initial'])} | {_fmt(r['final'])} | "
                     f"{_fmt(r['all_data'])} | {published} | {balance(r, 'good')} | {balance(r, 'bad')} | "
                     f"{r['contributions']} | {r['days']:.1f} | `{r['test_set_sha256'][:12]}` ({r['test_samples']}) |")
    if across is not None:
        lines += ["", "## Across seeds", "",
                  f"The same cells with seeds {seed} to {seed + int(across['seeds'].max()) - 1}: mean and 95% "
                  "confidence interval of the mean (Student's t) of the final accuracy and of each side's final "
                  "balance (% of start; per run, the mean over the side's contributors).", "",
                  "| dataset | model | seeds | final accuracy | good | bad |", "|---|---|---:|---:|---:|---:|"]
        for r in across.to_dict("records"):
            def ci(measure, unit=""):
                mean, half = r[measure], r[f"{measure}_ci95"]
                if mean != mean:
                    return "—"
                digits = 4 if not unit else 1
                return f"{mean:.{digits}f}{unit}" + ("" if half != half else f" ± {half:.{digits}f}{unit}")
            lines.append(f"| {r['dataset']} | {r['model']} | {r['seeds']} | {ci('final_accuracy')} | "
                         f"{ci('good_balance', '%')} | {ci('bad_balance', '%')} |")
    found = contradictions(summary)
    lines += ["", "## Against the paper's claim", ""]
    if found:
        lines += ["The paper reports that under Deposit-Refund-Take good contributors gain and the adversary "
                  "loses. In this run that does not hold everywhere:", ""] + [f"- {s}" for s in found]
    else:
        lines += ["In every cell the good contributors gained and the adversary lost, as the paper reports."]
    lines += ["", "## The paper's figure", "",
              "Accuracy over time with the good and the bad contributors' balances, one panel per model, as the "
              "2020 paper draws it:", ""]
    lines += [f"![{d}](paper_figure_{d}.png)" for d in datasets_]
    if price is not None:
        lines += ["", "## Gas", "",
                  f"Deployment is the total of all its transactions; the other operations are means per "
                  f"transaction. USD at {price['gas_price_gwei']:g} gwei and {price['eth_usd']:g} USD/ETH (the "
                  "2019 prices; see the README for today's)." + (" Estimated: twin-only run." if backend == "twin"
                                                                  else ""), ""]
    columns = [c for c in ("deploy", "add_data", "refund", "report") if c in set(gas_long["operation"])]
    heads = {"deploy": "deployment (total)", "add_data": "add (mean)", "refund": "refund (mean)",
             "report": "report (mean)"}
    lines += ["| dataset | model | " + " | ".join(heads[c] for c in columns) + " |",
              "|---|---|" + "---:|" * len(columns)]
    for (dataset, model), cell in gas_long.groupby(["dataset", "model"], sort=False):
        by_op = cell.set_index("operation")
        values = [f"{by_op.loc[c, 'gas']:,.0f} gas (${by_op.loc[c, 'usd']:.2f})" if c in by_op.index
                  else "none in this run" for c in columns]
        lines.append(f"| {dataset} | {model} | " + " | ".join(values) + " |")
    lines += ["", "![gas by model](gas_by_model.png)", "", "![gas against accuracy](gas_vs_accuracy.png)", "",
              "Per run: `<dataset>-<model>/accuracy_balances.png` (balances and accuracy over time).", ""]
    lines += profiles_section(deviations, steps)
    lines += ["## What else differs from the 2019-2020 figures", "",
              "Gas is measured on prague (EIP-2929 cold/warm storage pricing, EIP-3529 refunds) with Solidity 0.8 "
              "contracts that pack parameters, not on the Istanbul-era Ganache of the original (which charged no "
              "gas in its Python simulation); fake news is LIAR (the Kaggle data of earlier work is not available "
              "offline), and the fitness data is a SYNTHETIC stand-in for Endomondo; every subset is a seeded "
              "random draw (the original took the first samples of splits some of which are sorted by label).", ""]
    return "\n".join(lines)


def profiles_section(deviations, steps=None, rules=None) -> list[str]:
    """The report's section on the two profiles, as markdown lines: every rule of each, with its measured
    effect when ``deviations`` (from :func:`profile_deviations`) is given, and ``steps`` (the step comparison)."""
    from .config import PROFILE_RULES

    rules = PROFILE_RULES if rules is None else rules
    lines = ["## Two profiles: this lab's and the 2020 simulation's", "",
             "Every rule where this lab's simulation differs from the one that drew the 2020 figures, and what "
             "it changes. Measured: the 2020 profile, then the 2020 profile with that one rule taken from this "
             "lab's (final accuracy, and the good and the bad side's final balance in % of start, as a change "
             "from the 2020 profile's)."]
    if deviations is None:
        lines += ["", "Not measured in this run (`deviations=False`).", ""]
        return [*lines, *_rules_table(rules, None)]
    base = {d: g.set_index("rule") for d, g in deviations.groupby("dataset", sort=False)}
    heads = {d: ("IMDB" if d == "imdb" else "fitness (synthetic)" if d == "fitness_synthetic" else d) for d in base}
    lines += ["", "Reference runs (perceptron, twin-only):", "",
              "| dataset | run | final accuracy | good | bad | contributions | days |", "|---|---|---:|---:|---:|---:|---:|"]
    for d, g in base.items():
        for rule in ("2020 profile", "lab profile"):
            r = g.loc[rule]
            lines.append(f"| {heads[d]} | {rule} | {r['final_accuracy']:.4f} | {r['good_balance']:.1f}% | "
                         f"{r['bad_balance']:.1f}% | {int(r['contributions'])} | {r['days']:.1f} |")
    lines += ["", *_rules_table(rules, base, heads), "",
              "One seed: a difference of a few points may be noise (the perceptron's accuracy swings by several "
              "points between evaluations). A sweep has no effect where, with two "
              "contributors, every deposit left over is the author's own (the contract refuses an author's sweep) "
              "or was already reported by the other (each address claims a deposit once): such leftovers stay in "
              "the contract, and the 2020 profile's run ends one sweep wait after its last contribution.", ""]
    if steps is not None and len(steps):
        lines += ["**The perceptron's step.** The 2020 curves came from scikit-learn's SGD perceptron "
                  "(`learning_rate=\"optimal\"`: the step shrinks as 1/(alpha (t0 + t))); the contract's perceptron "
                  "takes a constant integer step by default, and with `model_params = {step_decay = t0}` a "
                  "decreasing one in integers (learning_rate * t0 // (t0 + t), samples counted as scikit-learn "
                  "counts them; t0 = 1000 has the 2019 settings' shape). On the same stream (the run's "
                  "permutation, 8% initial training, then the rest of the split contributed in order, no label "
                  "mistakes), test accuracy at the end and, in brackets, the lowest along the way:", "",
                  "| dataset | chain, constant step | chain, decreasing step (t0) | scikit-learn, decreasing step "
                  "| largest gap, scikit-learn - constant |",
                  "|---|---:|---:|---:|---:|"]
        for r in steps.to_dict("records"):
            lines.append(f"| {r['dataset']} | {r['constant_final']:.4f} ({r['constant_lowest']:.4f}) | "
                         f"{r['chain_decreasing_final']:.4f} ({r['chain_decreasing_lowest']:.4f}; "
                         f"{r['step_decay']}) | {r['decreasing_final']:.4f} ({r['decreasing_lowest']:.4f}) | "
                         f"{r['largest_gap']:.4f} |")
        lines += ["", "The chain's decreasing step follows scikit-learn's schedule in shape, not bit for bit "
                  "(scikit-learn's step is a float, the chain's is floored to an integer, and each fits its initial "
                  "samples its own way: 5 shuffled passes against training to convergence), so its curve is its own. Figures: `steps_<dataset>.png`.", ""]
    lines += ["**The prediction market's payout rule** is not part of this grid: notebook 4 compares ours with "
              "the 2019 rule on the same contributions (`dcai_lab.market_2019.settle_2019`).", ""]
    return lines


def _rules_table(rules, base, heads=None) -> list[str]:
    measured = list(base) if base else []
    lines = ["| rule | this lab | 2020 simulation | " + " | ".join(f"effect on {heads[d]}" for d in measured) + " |",
             "|---|---|---|" + "---|" * len(measured)]
    for rule, ours, theirs in rules:
        effects = []
        for d in measured:
            g = base[d]
            if rule not in g.index:
                effects.append("the same in both profiles: not a deviation")
                continue
            r, ref = g.loc[rule], g.loc["2020 profile"]
            effects.append(f"accuracy {r['final_accuracy'] - ref['final_accuracy']:+.4f}, good "
                           f"{r['good_balance'] - ref['good_balance']:+.1f} pts, bad "
                           f"{r['bad_balance'] - ref['bad_balance']:+.1f} pts")
        lines.append(f"| {rule} | {ours} | {theirs} | " + " | ".join(effects) + " |")
    return lines

"""Sweeps: one base experiment and axes of settings (seeds among them), expanded into runs, each written to
its own results folder, run through joblib on this machine or through Dask on a cluster, and summarised
across seeds with confidence intervals.

A sweep file (TOML)::

    name = "drt-vs-points"
    seeds = 5                          # or a list; the same as an axis "seed"
    base = "../configs/fitness_drt.toml"  # or a [base] table of experiment settings

    [axes]                             # every combination runs, once per seed
    incentive = ["deposit-refund-take", "points"]
    "incentive_params.cost_weight" = [1e12, 1e13]   # a dotted name reaches into a table

Every run's folder is ``OUT/runs/<run name>``; ``saved.json`` in it (written last by
:meth:`~dcai_lab.results.Result.save`) marks it finished, so running the sweep again skips finished runs
and runs the others: an interrupted sweep resumes. A run that fails writes ``error.json`` there and the
sweep goes on.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import time
import tomllib
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..progress import bar as progress_bar
from ..results import SAVED, IncompleteResults, Result
from .config import ExperimentConfig, paths_from, settings_from_toml

#: Written by :func:`sweep` in the sweep's folder: the grid, so that :meth:`Sweep.load` needs nothing else.
GRID = "sweep.json"
ERROR = "error.json"
SUMMARY = "summary.csv"
RUNS = "runs"


@dataclass
class SweepConfig:
    """A sweep, declared: ``base`` experiment settings, ``axes`` (a setting, or a dotted path into a table
    setting such as ``incentive_params.cost_weight``, mapped to its values) and ``seeds`` (a count, or a
    list of seeds; the same as an axis ``seed``). Every combination of the axes' values is one run."""

    base: dict = field(default_factory=dict)
    axes: dict = field(default_factory=dict)
    seeds: int | list | None = None
    name: str = "sweep"

    def __post_init__(self):
        if not isinstance(self.base, dict) or not isinstance(self.axes, dict):
            raise TypeError("a sweep's base is a table of experiment settings and its axes a table of lists: "
                            f"got base {type(self.base).__name__}, axes {type(self.axes).__name__}")
        for axis, values in self.axes.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"axis {axis!r} must be a non-empty list of values, got {values!r}")
        if self.seeds is not None:
            if "seed" in self.axes:
                raise ValueError("seeds are given twice (seeds and an axis \"seed\"): keep one")
            if isinstance(self.seeds, bool) or not isinstance(self.seeds, (int, list)) or (
                    isinstance(self.seeds, int) and self.seeds < 1):
                raise ValueError(f"seeds must be a positive count or a list of seeds, got {self.seeds!r}")
            self.axes = {**self.axes, "seed": list(range(self.seeds)) if isinstance(self.seeds, int) else self.seeds}
            self.seeds = None

    @classmethod
    def from_toml(cls, path) -> "SweepConfig":
        """A sweep file; a ``base`` given as a path is read relative to the sweep file (and a ``[dataset]``
        table's paths relative to the file it is in)."""
        path = Path(path)
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
        unknown = sorted(set(values) - {"name", "base", "axes", "seeds"})
        if unknown:
            raise ValueError(f"{path}: unknown sweep settings {unknown}; a sweep has name, base, axes and seeds")
        if isinstance(values.get("base"), str):
            base_path = (path.parent / values["base"]).resolve()
            if not base_path.exists():
                raise FileNotFoundError(f"{path}: base config {values['base']!r} not found (looked for {base_path})")
            values["base"] = settings_from_toml(base_path)
        elif isinstance(values.get("base"), dict):
            values["base"] = paths_from(values["base"], path.resolve().parent)
        return cls(**{"name": path.stem, **values})

    @classmethod
    def coerce(cls, grid) -> "SweepConfig":
        if isinstance(grid, cls):
            return grid
        if isinstance(grid, dict):
            return cls(**grid)
        return cls.from_toml(grid)

    def runs(self) -> list[tuple[str, dict, dict]]:
        """``(run name, axis values, experiment settings)`` for every combination, checked: a setting that
        cannot run is refused here, naming the run, before anything runs."""
        axes = list(self.axes)
        out = []
        for values in itertools.product(*(self.axes[a] for a in axes)):
            point = dict(zip(axes, values))
            settings = _with(self.base, point)
            name = run_name(point) if point else "run"
            settings["name"] = f"{settings.get('name', self.name)}-{name}" if point else settings.get("name", self.name)
            try:
                ExperimentConfig.coerce(settings)
            except (ValueError, TypeError) as refused:
                raise type(refused)(f"sweep {self.name!r}, run {name}: {refused}") from None
            out.append((name, point, settings))
        return out


def _with(base: dict, point: dict) -> dict:
    """``base`` with each axis value set; a dotted axis sets a key inside a table setting."""
    settings = json.loads(json.dumps(base))  # a deep copy of plain TOML values
    for axis, value in point.items():
        head, _, rest = axis.partition(".")
        if not rest:
            settings[head] = value
            continue
        table = settings.setdefault(head, {})
        if not isinstance(table, dict):
            raise ValueError(f"axis {axis!r}: setting {head!r} is {table!r}, not a table to set {rest!r} in")
        table[rest] = value
    return settings


def run_name(point: dict) -> str:
    """A folder name for one run: its axis values, ``axis=value`` joined by commas, safe on every file
    system."""
    text = ",".join(f"{axis.rsplit('.', 1)[-1]}={value}" for axis, value in point.items())
    return re.sub(r"[^A-Za-z0-9=,.+_-]", "-", text)


def _run_one(settings: dict, folder: str) -> dict:
    """One run, in a worker: its results folder, or its error there. Returns what the sweep's bar shows."""
    from .run import run

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR).unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        run(settings, out=folder, progress=False)
    except Exception as failed:  # the sweep goes on; the folder says why this run did not finish
        (folder / ERROR).write_text(json.dumps({"error": type(failed).__name__, "message": str(failed),
                                                "traceback": traceback.format_exc()}, indent=1))
        return {"run": folder.name, "ok": False, "seconds": time.perf_counter() - start, "error": str(failed)}
    return {"run": folder.name, "ok": True, "seconds": time.perf_counter() - start}


def finished(folder: Path) -> bool:
    """Whether ``folder`` holds a run saved to the end and not stopped early."""
    marker = Path(folder) / SAVED
    return marker.exists() and not json.loads(marker.read_text()).get("partial")


def sweep(grid, out, *, workers: int | None = None, scheduler: str | None = None, client=None,
          progress: bool = True) -> "Sweep":
    """Run every run of ``grid`` (a :class:`SweepConfig`, a dict of its fields or a sweep file) not yet
    finished in ``out``, and summarise. Returns the :class:`Sweep`.

    Parameters
    ----------
    workers : int, optional
        Processes on this machine (joblib's loky backend; each builds its own chain or node). Default: one
        per CPU, never more than the runs left. 1 runs in this process.
    scheduler : str, optional
        A Dask scheduler's address (``tcp://host:8786``): the runs go to its workers instead, through
        joblib's Dask backend. The workers need dcai-lab, the data directory and, for ``backend = "edr"``,
        Node.
    client : dask.distributed.Client, optional
        The same, with a client you already hold (a ``LocalCluster``'s, a dask-jobqueue cluster's).
    """
    from joblib import Parallel, cpu_count, delayed, parallel_config

    grid = SweepConfig.coerce(grid)
    runs = grid.runs()
    out = Path(out)
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    _write_grid(out, grid)
    todo = [(name, settings) for name, _, settings in runs if not finished(out / RUNS / name)]
    distributed = scheduler is not None or client is not None
    n_jobs = -1 if distributed else max(1, min(workers or cpu_count(), len(todo) or 1))
    bar = progress_bar(progress, total=len(runs), initial=len(runs) - len(todo), desc=f"sweep {grid.name}",
                       unit="run")
    with ExitStack() as stack:
        stack.callback(bar.close)
        if client is None and scheduler is not None:  # ours to close when the sweep ends
            from dask.distributed import Client

            client = stack.enter_context(Client(scheduler, timeout=30))
        if client is not None:  # joblib hands each run to the Dask cluster this client is connected to
            stack.enter_context(client.as_current())
            stack.enter_context(parallel_config(backend="dask", wait_for_workers_timeout=60))
        else:
            stack.enter_context(parallel_config(backend="loky" if n_jobs > 1 else "sequential"))
        jobs = (delayed(_run_one)(settings, str(out / RUNS / name)) for name, settings in todo)
        for done in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
            bar.update(1)
            bar.set_postfix_str(f"last run {done['seconds']:.0f} s", refresh=False)
            if not done["ok"]:
                bar.write(f"run {done['run']} failed: {done['error']}")
    result = Sweep.load(out)
    result.summary().to_csv(out / SUMMARY, index=False)
    return result


def _write_grid(out: Path, grid: SweepConfig) -> None:
    path = out / GRID
    text = json.dumps({"name": grid.name, "base": grid.base, "axes": grid.axes}, indent=1)
    if path.exists() and path.read_text() != text:
        raise ValueError(f"{out} holds another sweep (its {GRID} differs): to resume it, run the same sweep; "
                         "for a new one, choose another folder")
    path.write_text(text)


class Sweep:
    """A sweep's folder read back: :attr:`runs` (one row a run: its axis values, status and final
    measures), :meth:`summary` across seeds and :meth:`plot` with bands across seeds."""

    def __init__(self, folder: Path, grid: SweepConfig, runs: pd.DataFrame, results: dict):
        self.folder, self.grid, self.runs, self.results = folder, grid, runs, results

    @classmethod
    def load(cls, folder) -> "Sweep":
        folder = Path(folder)
        if not (folder / GRID).exists():
            raise FileNotFoundError(f"{folder} is not a sweep's folder (no {GRID}): run dcai-lab sweep first")
        grid = SweepConfig(**json.loads((folder / GRID).read_text()))
        rows, results = [], {}
        for name, point, _ in grid.runs():
            where = folder / RUNS / name
            row = {"run": name, **{a.rsplit(".", 1)[-1]: v for a, v in point.items()}}
            if finished(where):
                try:
                    results[name] = Result.load(where)
                except IncompleteResults as broken:
                    row.update(status="incomplete", error=str(broken))
                else:
                    row.update(status="finished", **_final_measures(results[name]))
            elif (where / ERROR).exists():
                error = json.loads((where / ERROR).read_text())
                row.update(status="failed", error=f"{error['error']}: {error['message']}")
            else:
                row.update(status="not run")
            rows.append(row)
        return cls(folder, grid, pd.DataFrame(rows), results)

    @property
    def groups(self) -> list[str]:
        """The axes other than the seed: runs that differ only by seed are one group."""
        return [a.rsplit(".", 1)[-1] for a in self.grid.axes if a != "seed"]

    @property
    def failures(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] != "finished"][["run", "status"] + (["error"] if "error" in self.runs else [])]

    def summary(self) -> pd.DataFrame:
        """Per group: how many seeds finished, and for each final measure its mean, standard deviation and
        the half-width of a 95% confidence interval for the mean (Student's t; blank for one seed)."""
        done = self.runs[self.runs["status"] == "finished"]
        measures = [c for c in done.columns if c.startswith(("final_", "balance_", "gas_"))]
        if done.empty:
            return pd.DataFrame()
        grouped = done.groupby(self.groups, sort=False, dropna=False) if self.groups else [((), done)]
        rows = []
        for key, part in grouped:
            key = key if isinstance(key, tuple) else (key,)
            row = {**dict(zip(self.groups, key)), "seeds": len(part)}
            for m in measures:
                mean, std, half = confidence_interval(part[m].dropna().to_numpy(dtype=float))
                row.update({f"{m} mean": mean, f"{m} std": std, f"{m} ci95": half})
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, save: bool = True):
        """Accuracy and each contributor kind's balance over simulated time: per group the mean across
        seeds with a 95% confidence band. Saved as ``accuracy.png`` and ``balances.png`` in the folder."""
        import matplotlib.pyplot as plt

        figures = []
        for what, table, value, ylabel in [("accuracy", "accuracy", "accuracy", "test accuracy"),
                                           ("balances", "balances", "balance_percent", "balance, % of start")]:
            kinds = [None] if what == "accuracy" else sorted({k for r in self.results.values()
                                                              for k in r.balances.get("kind", [])})
            fig, axes = plt.subplots(1, len(kinds), figsize=(6.5 * len(kinds), 4.2), squeeze=False)
            for ax, kind in zip(axes[0], kinds):
                for label, names in self._grouped_names().items():
                    if kind is not None and any(self.results[n]._paid_in_points() for n in names):
                        continue  # no ether moves: its balances say nothing (its points are in the runs' folders)
                    curves = [_series(getattr(self.results[n], table), value, kind) for n in names]
                    grid, mean, half = _band(curves)
                    if grid is None:
                        continue
                    low, high = mean - half, mean + half
                    if kind is None:  # drawn within what an accuracy can be
                        low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
                    line, = ax.plot(grid / 24, mean, label=f"{label} ({len(curves)} seeds)")
                    ax.fill_between(grid / 24, low, high, color=line.get_color(), alpha=0.2, lw=0)
                ax.set_xlabel("simulated time (days)")
                ax.set_ylabel(ylabel)
                ax.set_title(f"{kind} contributors" if kind else f"sweep {self.grid.name}: accuracy")
            handles, labels = axes[0][0].get_legend_handles_labels()
            if handles:
                fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=8,
                           bbox_to_anchor=(0.5, 0), frameon=False)
            fig.suptitle("mean across seeds, band: 95% confidence interval of the mean"
                         + ("; runs paid in points are left out" if kind is not None else ""), fontsize=9)
            rows = math.ceil(len(labels) / 3) if handles else 0
            fig.tight_layout(rect=(0, 0.05 + 0.05 * rows, 1, 0.97))
            if save:
                fig.savefig(self.folder / f"{what}.png", dpi=120)
            figures.append(fig)
        return figures

    def _grouped_names(self) -> dict[str, list[str]]:
        done = self.runs[self.runs["status"] == "finished"]
        if not self.groups:
            return {self.grid.name: list(done["run"])}
        return {", ".join(f"{g}={v}" for g, v in zip(self.groups, key if isinstance(key, tuple) else (key,))):
                list(part["run"]) for key, part in done.groupby(self.groups, sort=False, dropna=False)}

    def __repr__(self):
        counts = self.runs["status"].value_counts().to_dict()
        return f"<Sweep {self.grid.name!r}: {len(self.runs)} runs {counts} in {self.folder}>"


def _final_measures(result: Result) -> dict:
    """One run's final accuracy, each contributor kind's final balance (mean over its contributors, % of
    start) and mean gas per everyday operation."""
    row = {"final_accuracy": float(result.accuracy["accuracy"].iloc[-1]) if len(result.accuracy) else np.nan}
    balances = result.balances
    if len(balances):
        last = balances[balances["time_h"] == balances["time_h"].max()]
        for kind, part in last.groupby("kind"):
            row[f"balance_{kind} %"] = float(part["balance_percent"].mean())
    gas = result.gas
    if len(gas):
        ok = gas[(gas["status"] == 1) & (gas["phase"].fillna("") == "")]
        for operation, part in ok.groupby("operation"):
            row[f"gas_{operation}"] = float(part["gas_used"].mean())
    return row


def confidence_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, standard deviation and the half-width of a 95% confidence interval for the mean (Student's t);
    NaN where there are too few values."""
    from scipy import stats

    if not len(values):
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    std = float(values.std(ddof=1))
    return mean, std, float(stats.t.ppf(0.975, len(values) - 1) * std / math.sqrt(len(values)))


def _series(table: pd.DataFrame, value: str, kind: str | None):
    if kind is not None:
        table = table[table["kind"] == kind].groupby("time_h", as_index=False)[value].mean()
    return table["time_h"].to_numpy(dtype=float), table[value].to_numpy(dtype=float)


def _band(curves):
    """The curves on the first one's time grid (seeds share evaluation times; a shorter run is held at its
    last value): mean and 95% half-width per point."""
    curves = [(t, v) for t, v in curves if len(t)]
    if not curves:
        return None, None, None
    grid = max((t for t, _ in curves), key=len)
    stacked = np.array([np.interp(grid, t, v) for t, v in curves])
    mean = stacked.mean(axis=0)
    if len(curves) < 2:
        return grid, mean, np.zeros_like(mean)
    from scipy import stats

    half = stats.t.ppf(0.975, len(curves) - 1) * stacked.std(axis=0, ddof=1) / math.sqrt(len(curves))
    return grid, mean, half

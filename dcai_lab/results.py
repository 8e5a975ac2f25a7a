"""Results folders: what a run wrote, read back into pandas; tables and figures made from them alone."""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .files import write_whole
from .gas import DEPLOY

FILES = {"contributions": "contributions.csv", "accuracy": "accuracy.csv", "balances": "balances.csv",
         "gas": "gas.csv"}
#: Written last by Result.save: a folder without it was not saved to the end.
SAVED = "saved.json"


class IncompleteResults(FileNotFoundError):
    """A results folder whose saving was interrupted: some files are missing or stale."""


def usd(gas, gas_price_gwei: float, eth_usd: float):
    return gas * gas_price_gwei * 1e-9 * eth_usd


def gas_table(gas: pd.DataFrame, gas_price_gwei: float = 4.0, eth_usd: float = 373.0) -> pd.DataFrame:
    """Gas per operation (a deployment summed over its transactions; other operations averaged, as the
    ``gas_is`` column says) and its USD cost. ``gas`` is a gas ledger's DataFrame (its ``operation``
    column)."""
    ok = gas[gas["status"] == 1]
    op = ok["operation"]
    order = list(dict.fromkeys([DEPLOY, "add_data", "refund", "report"] + sorted(set(op))))
    rows = {name: (ok.loc[op == name, "gas_used"].sum() if name == DEPLOY else ok.loc[op == name, "gas_used"].mean())
            for name in order if (op == name).any()}
    table = pd.DataFrame({"gas": pd.Series(rows).round().astype(int)})
    # one column, two aggregates: say which each row is
    table["gas_is"] = ["total of all its transactions" if name == DEPLOY else "mean per transaction"
                       for name in table.index]
    table["transactions"] = [int((op == name).sum()) for name in table.index]
    table["usd"] = usd(table["gas"], gas_price_gwei, eth_usd).round(4)
    table.index.name = "operation"
    return table


@dataclass
class Result:
    """One experiment: its config, manifest and tables (pandas DataFrames)."""

    config: dict
    manifest: dict
    contributions: list | pd.DataFrame
    accuracy: list | pd.DataFrame
    balances: list | pd.DataFrame
    gas: pd.DataFrame
    #: A :class:`~dcai_lab.valuation.Valuation` of the run's data when its config asked for one.
    valuation: object = None

    def __post_init__(self):
        for name in ("contributions", "accuracy", "balances"):
            value = getattr(self, name)
            if not isinstance(value, pd.DataFrame):
                setattr(self, name, pd.DataFrame(value))

    @property
    def partial(self) -> dict | None:
        """None for a finished run; for a run stopped early (Ctrl-C), why and where it stopped."""
        return self.manifest.get("partial")

    def save(self, folder) -> Path:
        """Write the results folder. Each file is written whole (to a temporary name, then renamed) and
        ``saved.json`` last, so that an interrupted save leaves a folder :meth:`load` recognises as such."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SAVED).unlink(missing_ok=True)
        files = {"config.json": json.dumps(self.config, indent=1), "manifest.json": json.dumps(self.manifest, indent=1)}
        files.update({file: getattr(self, name).to_csv(index=False) for name, file in FILES.items()})
        for file, text in files.items():
            write_whole(folder / file, text)
        write_whole(folder / SAVED, json.dumps({"files": sorted(files), "partial": self.partial is not None}))
        return folder

    @classmethod
    def load(cls, folder) -> "Result":
        """Read a results folder back. A folder whose saving was interrupted raises
        :class:`IncompleteResults`; a run stopped early (Ctrl-C) loads with a warning and ``partial`` set."""
        folder = Path(folder)
        if not (folder / "manifest.json").is_file():
            raise FileNotFoundError(f"{folder} is not a results folder (no manifest.json)")
        if not (folder / SAVED).is_file():
            expected = ["config.json", "manifest.json", *FILES.values()]
            missing = [f for f in expected if not (folder / f).is_file()]
            raise IncompleteResults(f"{folder} is an incomplete results folder: its saving was interrupted (no "
                                    f"{SAVED}{'; missing ' + ', '.join(missing) if missing else ''}); run the "
                                    "experiment again to get a complete one")
        tables = {name: pd.read_csv(folder / file) for name, file in FILES.items()}
        if "badges" in tables["balances"]:  # a Points run's badges, space-separated: none reads back as ""
            tables["balances"]["badges"] = tables["balances"]["badges"].fillna("").astype(str)
        result = cls(config=json.loads((folder / "config.json").read_text()),
                     manifest=json.loads((folder / "manifest.json").read_text()), **tables)
        if result.partial:
            warnings.warn(f"{folder} holds a partial run ({result.partial['reason']}; stopped after "
                          f"{result.partial['simulated_hours']:.1f} simulated hours)", stacklevel=2)
        return result

    def gas_table(self) -> pd.DataFrame:
        return gas_table(self.gas, self.config.get("gas_price_gwei", 4.0), self.config.get("eth_usd", 373.0))

    def plot(self, ax=None, accuracy_range=None, balance_range=None):
        """Accuracy (top) and every contributor's balance in % of its start (bottom) over simulated time;
        under a mechanism that pays in points, every contributor's points instead.

        Both are measured at the evaluations only, so they are drawn as markers with a faint guide, not as
        lines that would claim values in between. ``ax`` (optional) is split into the two panels, so the
        figure can sit in a grid of runs (:func:`plot_runs` draws runs side by side on shared ranges);
        ``accuracy_range`` and ``balance_range`` fix the panels' y ranges. Returns the figure.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            figure = plt.figure(figsize=(8, 6))
            spec = figure.add_gridspec(2, 1, height_ratios=(1, 1.3))
        else:
            figure, spec = ax.figure, ax.get_subplotspec().subgridspec(2, 1, height_ratios=(1, 1.3), hspace=0.08)
            ax.remove()
        acc_ax = figure.add_subplot(spec[0])
        bal_ax = figure.add_subplot(spec[1], sharex=acc_ax)
        acc = self.accuracy
        acc_ax.plot(acc["time_h"], acc["accuracy"], "o:", color="black", ms=3.5, lw=0.8,
                    label="accuracy at each evaluation")
        values = list(acc["accuracy"])
        reference = self.manifest.get("reference_accuracy_all_data")
        if reference is not None:
            acc_ax.axhline(reference, color="grey", ls="--", lw=1, label="trained on all data")
            values.append(reference)
        acc_ax.set_ylim(accuracy_range or _padded(values))
        acc_ax.set_ylabel("accuracy on the\nhidden test set")
        acc_ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", frameon=False)
        acc_ax.tick_params(labelbottom=False)
        acc_ax.set_title(f"{self.config['name']}\n{self.config['model']} on {self.config['dataset']} under "
                         f"{self.config['incentive']}", fontsize="medium")
        in_points = self._paid_in_points()
        value, unit = ("points", "points (one per validated contribution\nand per good report)") if in_points \
            else ("balance_percent", "balance (% of start)")
        moved = False
        for name, group in self.balances.groupby("contributor", sort=False):
            style = "--" if group["kind"].iloc[0] in ("adversarial", "bad") else "-"
            bal_ax.plot(group["time_h"], group[value], ls=style, marker="o", ms=2.5, lw=0.7, label=name)
            moved = moved or group[value].nunique() > 1
        if in_points:  # the note sits in headroom above the highest count, clear of the lines
            bal_ax.set_ylim(-0.05 * self.balances["points"].max(), 1.3 * self.balances["points"].max())
            bal_ax.text(0.02, 0.95, "no ether moves: contributors earn points", transform=bal_ax.transAxes,
                        ha="left", va="top", fontsize="small")
        elif not moved:
            bal_ax.text(0.5, 0.75, f"no ether moves under {self.config['incentive']}:\nevery balance stays at its "
                                   "start", transform=bal_ax.transAxes, ha="center", va="center", fontsize="small")
        if balance_range is not None:
            bal_ax.set_ylim(balance_range)
        bal_ax.set_xlabel("simulated time (hours)")
        bal_ax.set_ylabel(unit)
        bal_ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small", frameon=False,
                      title="contributor (dashed: adversary)", title_fontsize="small")
        if ax is None:
            figure.tight_layout()
        return figure

    def badges(self) -> pd.DataFrame:
        """Under a mechanism that awards badges (Points), each contributor's at the end of the run: its kind,
        points and badge names (a list). Empty for runs of other mechanisms."""
        if "badges" not in self.balances:
            return pd.DataFrame(columns=["kind", "points", "badges"], index=pd.Index([], name="contributor"))
        last = self.balances.groupby("contributor", sort=False).tail(1).set_index("contributor")
        return last[["kind", "points"]].assign(badges=last["badges"].map(lambda text: text.split()))

    def _paid_in_points(self) -> bool:
        return "points" in self.balances and bool(self.balances["points"].gt(0).any())

    def save_figures(self, folder) -> list[Path]:
        from .plots import save

        return save(self.plot(), folder, "accuracy_balances")


def _padded(values, minimum: float = 0.01) -> tuple[float, float]:
    """A y range around ``values`` with a margin, so that points do not sit on the frame."""
    lo, hi = min(values), max(values)
    pad = max(minimum, 0.15 * (hi - lo))
    return lo - pad, hi + pad


def plot_runs(results: dict, width: float = 6.5):
    """Runs side by side (``results`` maps a title to a :class:`Result`), each as :meth:`Result.plot` draws
    it, on shared y ranges so that panels compared by eye are comparable: one accuracy range for all, one
    balance range for the runs that pay ether (a run paid in points keeps its own axis). Returns the figure."""
    import matplotlib.pyplot as plt

    runs = list(results.values())
    accuracy = [v for r in runs for v in r.accuracy["accuracy"]]
    accuracy += [r.manifest["reference_accuracy_all_data"] for r in runs
                 if r.manifest.get("reference_accuracy_all_data") is not None]
    ether = [v for r in runs if not r._paid_in_points() for v in r.balances["balance_percent"]]
    figure, axes = plt.subplots(1, len(runs), figsize=(width * len(runs), 5.5), squeeze=False)
    for ax, result in zip(axes[0], runs):
        result.plot(ax=ax, accuracy_range=_padded(accuracy),
                    balance_range=None if result._paid_in_points() or not ether else _padded(ether, 0.5))
    figure.tight_layout()
    return figure

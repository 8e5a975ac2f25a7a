"""Results folders: what a run wrote, read back into pandas; tables and figures made from them alone."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .gas import DEPLOY

FILES = {"contributions": "contributions.csv", "accuracy": "accuracy.csv", "balances": "balances.csv",
         "gas": "gas.csv"}


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

    def __post_init__(self):
        for name in ("contributions", "accuracy", "balances"):
            value = getattr(self, name)
            if not isinstance(value, pd.DataFrame):
                setattr(self, name, pd.DataFrame(value))

    def save(self, folder) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(json.dumps(self.config, indent=1))
        (folder / "manifest.json").write_text(json.dumps(self.manifest, indent=1))
        for name, file in FILES.items():
            getattr(self, name).to_csv(folder / file, index=False)
        return folder

    @classmethod
    def load(cls, folder) -> "Result":
        folder = Path(folder)
        if not (folder / "manifest.json").is_file():
            raise FileNotFoundError(f"{folder} is not a results folder (no manifest.json)")
        tables = {name: pd.read_csv(folder / file) for name, file in FILES.items()}
        return cls(config=json.loads((folder / "config.json").read_text()),
                   manifest=json.loads((folder / "manifest.json").read_text()), **tables)

    def gas_table(self) -> pd.DataFrame:
        return gas_table(self.gas, self.config.get("gas_price_gwei", 4.0), self.config.get("eth_usd", 373.0))

    def plot(self, ax=None):
        """Balances (percent of start) and accuracy over simulated time, one figure with two axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        for name, group in self.balances.groupby("contributor", sort=False):
            style = "--" if group["kind"].iloc[0] == "adversarial" else "-"
            ax.plot(group["time_h"], group["balance_percent"], style, label=f"{name} balance")
        ax.set_xlabel("simulated time (hours)")
        ax.set_ylabel("balance (% of start)")
        acc_ax = ax.twinx()
        acc_ax.plot(self.accuracy["time_h"], self.accuracy["accuracy"], color="black", lw=2, label="accuracy")
        reference = self.manifest.get("reference_accuracy_all_data")
        if reference is not None:
            acc_ax.axhline(reference, color="grey", ls=":", label="accuracy, trained on all data")
        acc_ax.set_ylabel("accuracy on the hidden test set")
        acc_ax.set_ylim(0, 1)
        lines = ax.get_legend_handles_labels()
        more = acc_ax.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower left", fontsize="small")
        ax.set_title(f"{self.config['name']}: {self.config['model']} on {self.config['dataset']} under "
                     f"{self.config['incentive']}")
        ax.figure.tight_layout()
        return ax.figure

    def save_figures(self, folder) -> list[Path]:
        from .plots import save

        return save(self.plot(), folder, "accuracy_balances")

"""Figures across runs (one run's figure is Result.plot): gas by model, and gas against accuracy."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def gas_by_model(gas, ax=None):
    """Grouped bars: mean gas of add, refund and report for each (dataset, model) row of ``gas`` (a frame
    indexed by dataset and model with one column per operation)."""
    import matplotlib.pyplot as plt

    ops = [c for c in ("add_data", "refund", "report") if c in gas.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.7 * len(gas)), 4))
    x = np.arange(len(gas))
    width = 0.8 / len(ops)
    for k, op in enumerate(ops):
        ax.bar(x + k * width, gas[op].to_numpy(), width, label=op)
    ax.set_xticks(x + width * (len(ops) - 1) / 2, [f"{d}\n{m}" for d, m in gas.index], fontsize="small")
    ax.set_ylabel("gas per transaction (mean)")
    ax.set_title("Gas per operation by model")
    ax.legend()
    ax.figure.tight_layout()
    return ax.figure


def gas_vs_accuracy(summary, gas, ax=None):
    """Final accuracy against the mean gas of adding data, one point per (dataset, model); the points
    no other point beats on both (the Pareto front) are joined per dataset."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.5))
    for dataset, group in summary.groupby("dataset", sort=False):
        costs = [gas.loc[(dataset, m), "add_data"] for m in group["model"]]
        ax.scatter(costs, group["final"], label=dataset)
        for cost, acc, model in zip(costs, group["final"], group["model"]):
            ax.annotate(model, (cost, acc), textcoords="offset points", xytext=(4, 4), fontsize="small")
        points = sorted(zip(costs, group["final"]))
        front, best = [], -1.0
        for cost, acc in points:
            if acc > best:
                front.append((cost, acc))
                best = acc
        ax.plot(*zip(*front), alpha=0.5)
    ax.set_xlabel("gas to add one contribution (mean)")
    ax.set_ylabel("final accuracy on the hidden test set")
    ax.set_title("Gas against accuracy")
    ax.legend(fontsize="small")
    ax.figure.tight_layout()
    return ax.figure


def save(figure, folder, stem) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = [Path(folder) / f"{stem}.{ext}" for ext in ("png", "svg")]
    for path in paths:
        figure.savefig(path, dpi=120)
    plt.close(figure)
    return paths

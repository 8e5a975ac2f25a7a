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
    from matplotlib.ticker import FuncFormatter

    for k, op in enumerate(ops):
        values = gas[op].to_numpy(dtype=float)
        ax.bar(x + k * width, np.nan_to_num(values), width, label=op)
        for i in np.flatnonzero(np.isnan(values)):  # not measured in this run: say so, not an empty gap
            ax.annotate("none", (x[i] + k * width, 0), textcoords="offset points", xytext=(0, 3), ha="center",
                        rotation=90, fontsize="x-small")
    ax.set_xticks(x + width * (len(ops) - 1) / 2, [f"{d}\n{m}" for d, m in gas.index], fontsize="small")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
    ax.set_ylabel("gas per transaction (mean; k = 1,000 gas)")
    ax.set_title("Gas per operation by model")
    ax.legend(loc="upper left")
    ax.figure.tight_layout()
    return ax.figure


def gas_vs_accuracy(summary, gas, ax=None):
    """Final accuracy against the mean gas of adding data, one point per (dataset, model); the points
    no other point beats on both (the Pareto front) are joined per dataset."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FuncFormatter

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.5))
    placed = []  # label positions in display units, to step a label aside when it would cover another
    for dataset, group in summary.groupby("dataset", sort=False):
        costs = [gas.loc[(dataset, m), "add_data"] for m in group["model"]]
        ax.scatter(costs, group["final"], label=dataset)
        for cost, acc, model in zip(costs, group["final"], group["model"]):
            placed.append((cost, acc, model))
        points = sorted(zip(costs, group["final"]))
        front, best = [], -1.0
        for cost, acc in points:
            if acc > best:
                front.append((cost, acc))
                best = acc
        ax.plot(*zip(*front), alpha=0.5)
    ax.margins(x=0.15, y=0.12)  # room for the labels inside the axes
    _label_points(ax, placed)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
    ax.set_xlabel("gas to add one contribution (mean; k = 1,000 gas)")
    ax.set_ylabel("final accuracy on the hidden test set")
    ax.set_title("Gas against accuracy")
    ax.legend(fontsize="small", loc="best")
    ax.figure.tight_layout()
    return ax.figure


def _label_points(ax, points, min_gap: float = 14.0) -> None:
    """Name each point beside it, moving a label down in steps while it would sit within ``min_gap``
    points (display units) of one already placed, so that labels of nearby points do not overlap."""
    ax.figure.canvas.draw()  # positions in display units need the final limits
    taken = []
    for x, y, text in sorted(points, key=lambda p: -p[1]):
        px, py = ax.transData.transform((x, y))
        offset = 4
        while any(abs(px - qx) < 60 and abs(py + offset - qy) < min_gap for qx, qy in taken):
            offset -= min_gap
        taken.append((px, py + offset))
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(5, offset), fontsize="small")


def save(figure, folder, stem) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = [Path(folder) / f"{stem}.{ext}" for ext in ("png", "svg")]
    for path in paths:
        figure.savefig(path, dpi=120, bbox_inches="tight")  # legends may sit outside the axes
    plt.close(figure)
    return paths

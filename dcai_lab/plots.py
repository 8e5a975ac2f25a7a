"""Figures across runs (one run's figure is Result.plot): gas by model, gas taken apart against its floor, and gas
against accuracy."""
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


def gas_anatomy(rows, ops=("add_incorrect", "refund", "report"), titles=None, labels=None):
    """Stacked bars: each operation's gas per model taken apart (:mod:`dcai_lab.anatomy`'s parts), a black
    tick at its floor (:mod:`dcai_lab.floors`) and, beside it, the 2019 contracts' total where known (grey,
    hatched). ``rows`` is a DataFrame of :func:`dcai_lab.experiments.overhead.measure` rows (one mechanism).
    One panel per operation, titled by ``titles`` (op -> title); models named by ``labels`` (model -> name);
    the legend below the panels."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from .anatomy import PARTS

    titles, labels = titles or {}, labels or {}
    rows = rows[rows["op"].isin(ops)]
    shown = [p for p in PARTS if (rows[f"part_{p.replace(' ', '_')}"].fillna(0) != 0).any()]
    colours = dict(zip(PARTS, plt.get_cmap("tab10").colors))
    models = list(dict.fromkeys(rows["model"]))
    fig, axes = plt.subplots(1, len(ops), figsize=(4.2 * len(ops), 4.8), sharey=True)
    axes = np.atleast_1d(axes)
    x = np.arange(len(models))
    for ax, op in zip(axes, ops):
        frame = rows[rows["op"] == op].set_index("model").reindex(models)
        bottom, below = np.zeros(len(models)), np.zeros(len(models))
        for part in shown:
            values = frame[f"part_{part.replace(' ', '_')}"].to_numpy(dtype=float)
            base = np.where(values >= 0, bottom, below)
            ax.bar(x - 0.2, values, 0.4, bottom=base, color=colours[part])
            bottom, below = bottom + np.clip(values, 0, None), below + np.clip(values, None, 0)
        ax.hlines(frame["floor"], x - 0.42, x + 0.02, colors="black", linewidth=2)
        old = frame["baseline_2019"].to_numpy(dtype=float)
        ax.bar(x + 0.2, np.nan_to_num(old), 0.4, color="0.85", hatch="//", edgecolor="0.5")
        for i in np.flatnonzero(np.isnan(old)):
            ax.annotate("2019: none", (x[i] + 0.2, 0), textcoords="offset points", xytext=(0, 4), ha="center",
                        rotation=90, fontsize="x-small", color="0.35")
        ax.set_xticks(x, [labels.get(m, m) for m in models], rotation=30, ha="right", fontsize="small")
        ax.set_title(titles.get(op, op))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
    axes[0].set_ylabel("gas per transaction (k = 1,000 gas)")
    handles = [Patch(color=colours[p], label=p) for p in shown]
    handles += [plt.Line2D([], [], color="black", linewidth=2, label="floor"),
                Patch(facecolor="0.85", hatch="//", edgecolor="0.5", label="2019 contracts (total)")]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize="small", frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def gas_vs_accuracy(summary, gas, ax=None):
    """Final accuracy against the mean gas of adding data, one point per (dataset, model); the points
    no other point beats on both (the Pareto front) are joined per dataset by a dotted guide (a ranking,
    not a measured curve)."""
    import matplotlib.pyplot as plt

    from matplotlib.ticker import FuncFormatter

    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5))
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
        ax.plot(*zip(*front), ls=":", lw=1, alpha=0.6)
    ax.margins(x=0.15, y=0.12)  # room for the labels inside the axes
    _label_points(ax, placed)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:,.0f}k"))
    ax.set_xlabel("gas to add one contribution (mean over the run's adds; k = 1,000 gas)")
    ax.set_ylabel("final accuracy on the hidden test set")
    ax.set_title("Gas against accuracy")
    # beside the axes: inside, wherever it went, it could cover a point
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], ls=":", color="grey"))
    labels.append("dotted: models no other\nbeats on gas and accuracy")
    ax.legend(handles, labels, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.figure.tight_layout()
    return ax.figure


def paper_figure(results: dict, dataset: str):
    """The 2020 paper's figure for one dataset: per model (``results`` maps a model's name to its
    :class:`~dcai_lab.results.Result`), accuracy on the hidden test set over simulated days with the good
    and the bad contributors' balances, all in percent on one axis shared by the panels. Measured at the
    evaluations only: markers with a faint guide."""
    import matplotlib.pyplot as plt

    from .contributors import GOOD_KINDS

    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 4.2), sharey=True, squeeze=False)
    for ax, (model, result) in zip(axes[0], results.items()):
        acc = result.accuracy
        ax.plot(acc["time_h"] / 24, 100 * acc["accuracy"], "o:", color="black", ms=3, lw=0.8, label="accuracy")
        reference = result.manifest.get("reference_accuracy_all_data")
        if reference is not None:
            ax.axhline(100 * reference, color="grey", ls="--", lw=1, label="accuracy trained on all data")
        balances = result.balances
        for good, colour, style in ((True, "tab:green", "-"), (False, "tab:red", "--")):
            side = balances[balances["kind"].isin(GOOD_KINDS) == good]
            for k, (_, group) in enumerate(side.groupby("contributor", sort=False)):
                ax.plot(group["time_h"] / 24, group["balance_percent"], ls=style, marker=".", ms=3, lw=0.8,
                        color=colour, alpha=1.0 if k == 0 else 0.55,
                        label=(("good" if good else "bad") + " contributors' balance") if k == 0 else None)
        ax.set_title(model, fontsize="medium")
        ax.set_xlabel("simulated time (days)")
        ax.grid(alpha=0.25)
    axes[0][0].set_ylabel("percent (accuracy; balance of start)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize="small",
               bbox_to_anchor=(0.5, -0.02))
    fig.suptitle(f"{dataset}: accuracy and balances under Deposit-Refund-Take", fontsize="medium")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def _label_points(ax, points, min_gap: float = 13.0) -> None:
    """Name each point beside it: the first of a few places around the point (right, below, left, above)
    where the label keeps ``min_gap`` points (display units) from every label already placed, so that labels
    of nearby points neither overlap nor wander off."""
    ax.figure.canvas.draw()  # positions in display units need the final limits
    candidates = [(5, 3), (5, -12), (-5, 3), (-5, -12), (5, 15), (5, -24), (-5, 15), (-5, -24)]
    points_per_pixel = 72 / ax.figure.dpi  # display units are pixels; offsets are points
    taken = []
    for x, y, text in sorted(points, key=lambda p: -p[1]):
        px, py = (v * points_per_pixel for v in ax.transData.transform((x, y)))
        for dx, dy in candidates:
            lx, ly = px + dx, py + dy
            # a label's box: about 50 points wide, on the side of the point its offset says
            if not any(abs(lx - qx) < 50 and (dx > 0) == (qdx > 0) and abs(ly - qy) < min_gap
                       for qx, qy, qdx in taken):
                break
        taken.append((lx, ly, dx))
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize="small",
                    ha="left" if dx > 0 else "right")


def save(figure, folder, stem) -> list[Path]:
    import matplotlib.pyplot as plt

    paths = [Path(folder) / f"{stem}.{ext}" for ext in ("png", "svg")]
    for path in paths:
        figure.savefig(path, dpi=120, bbox_inches="tight")  # legends may sit outside the axes
    plt.close(figure)
    return paths

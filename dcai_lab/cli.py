"""``dcai-lab``: thin commands over the package."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _compile(args) -> int:
    from . import compiler

    for path in compiler.write_artifacts():
        print(path.relative_to(compiler.REPO_ROOT))
    return 0


def _demo(args) -> int:
    from .demo import run_demo

    result = run_demo(n_initial=args.initial, n_contributions=args.contributions, n_test=args.test, seed=args.seed,
                      progress=not args.quiet)
    print(result.summary())
    return 0


def _run(args) -> int:
    from datetime import datetime, timezone

    from .experiments import ExperimentConfig, run
    from .interrupts import RunInterrupted

    config = ExperimentConfig.from_toml(args.config)
    if args.backend:
        config.backend = args.backend
        config.check()
    out = args.out or f"results/{config.name}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    try:
        result = run(config, out=out, progress=not args.quiet)
    except RunInterrupted as stopped:
        if len(stopped.result.accuracy):
            stopped.result.save_figures(out)
        print(f"dcai-lab run: {stopped}", file=sys.stderr)
        return 130
    figures = result.save_figures(out)
    print(f"results in {out}: {', '.join(sorted(p.name for p in Path(out).iterdir()))}")
    last = result.accuracy.iloc[-1]
    print(f"accuracy {result.accuracy['accuracy'].iloc[0]:.4f} -> {last['accuracy']:.4f} after "
          f"{int(last['contributions'])} contributions (trained on all data: "
          f"{result.manifest['reference_accuracy_all_data']:.4f}); figure {figures[0]}")
    print(result.gas_table().to_string())
    return 0


def _gas_table(args) -> int:
    import json

    import pandas as pd

    from .experiments import measure_operations
    from .models import registry

    wanted = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in registry.names()]
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {', '.join(registry.names())}")
    table = pd.concat([measure_operations(args.dataset, m, samples=args.samples, gas_price_gwei=args.gas_price,
                                          eth_usd=args.eth_usd) for m in wanted], ignore_index=True)
    if args.json or args.format == "json":
        for row in table.to_dict("records"):
            print(json.dumps({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}))
        return 0
    grid = table.pivot(index="model", columns="operation", values="gas").reindex(wanted)
    grid = grid[[c for c in ("deploy", "add_data", "refund", "report") if c in grid.columns]]
    cells = [[f"{v:,.0f}" if v == v else "—" for v in row] for row in grid.to_numpy()]  # NaN: not measured
    if args.format == "latex":
        print("\\begin{tabular}{l" + "r" * len(grid.columns) + "}\n\\hline")
        print("model & " + " & ".join(c.replace("_", "\\_") for c in grid.columns) + " \\\\ \\hline")
        for name, row in zip(grid.index, cells):
            print(f"{name} & " + " & ".join(v.replace(",", "{,}") for v in row) + " \\\\")
        print("\\hline\n\\end{tabular}")
    else:
        print("| model | " + " | ".join(grid.columns) + " |")
        print("|---|" + "---:|" * len(grid.columns))
        for name, row in zip(grid.index, cells):
            print(f"| {name} | " + " | ".join(row) + " |")
    print(f"\ngas on {args.dataset}, fork {table['fork'].iloc[0]}; USD at {args.gas_price} gwei and "
          f"{args.eth_usd} USD/ETH with --json")
    return 0


def _reproduce(args) -> int:
    from .experiments import reproduce

    report = reproduce(args.out, datasets_=args.datasets.split(","), models_=args.models.split(","),
                       duration_days=args.days, eval_interval_hours=args.eval_hours, test_limit=args.test_limit,
                       progress=not args.quiet, profile=args.profile, backend=args.backend,
                       deviations=not args.no_deviations, seed=args.seed, seeds=args.seeds, workers=args.workers)
    print(report.read_text())
    print(f"written to {report.parent}")
    return 0


def _sweep(args) -> int:
    import matplotlib.pyplot as plt
    import pandas as pd

    from .experiments.sweep import SweepConfig, sweep

    grid = SweepConfig.from_toml(args.file)
    out = args.out or f"results/{grid.name}"
    result = sweep(grid, out, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet)
    result.plot()
    plt.close("all")
    summary = result.summary()
    with pd.option_context("display.width", 160, "display.max_columns", 40, "display.float_format", "{:.4g}".format):
        print(summary.to_string(index=False) if len(summary) else "no run finished")
    print(f"\nsweep folder {out}: summary.csv, {', '.join(p.name for p in sorted(Path(out).glob('*.png')))}; "
          "one results folder per run under runs/")
    failures = result.failures
    if len(failures):
        print(f"{len(failures)} of {len(result.runs)} runs did not finish (run the sweep again to retry them):",
              file=sys.stderr)
        print(failures.to_string(index=False), file=sys.stderr)
        return 1
    return 0


# Measured on 2 shared cores; see the README.
REPRODUCE_TIME = ("The default (lab profile, py-evm, every test sample, deviations measured twin-only) took 70 minutes "
                  "on 2 cores shared with a test run; --no-deviations saves about 7 of them. With --backend edr the "
                  "nine cells took 3.5 minutes, two at a time on 2 idle cores.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="dcai-lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("compile", help="compile contracts/ with solcjs into the package's artifacts")
    p.set_defaults(run=_compile)
    p = sub.add_parser("demo", help="deploy a perceptron under Deposit-Refund-Take and train it with contributors")
    p.add_argument("--initial", type=int, default=1000, help="samples the model is trained on before deployment")
    p.add_argument("--contributions", type=int, default=200, help="samples contributed on chain")
    p.add_argument("--test", type=int, default=5000, help="test samples for accuracy")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_demo)
    p = sub.add_parser("run", help="run an experiment from a TOML config and write its results folder")
    p.add_argument("config", help="TOML file, e.g. configs/fitness_drt_perceptron.toml")
    p.add_argument("--out", help="results folder (default results/<name>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--backend", help="py-evm (embedded, the default), anvil (a local node the run starts), twin "
                                      "(no chain, gas estimated), rpc (the development node at $DCAI_LAB_RPC_URL) or a "
                                      "local node's URL")
    p.set_defaults(run=_run)
    p = sub.add_parser("gas-table", help="gas per operation and model on a dataset, as a paper table")
    p.add_argument("--dataset", default="imdb")
    p.add_argument("--models", default="nb,ncc,perceptron", help="comma-separated short names from the model registry: nb, ncc, perceptron, "
                                                           "dense-perceptron, dense-ncc (dense ones on tabular data)")
    p.add_argument("--samples", type=int, default=20, help="contributions of each kind per model")
    p.add_argument("--json", action="store_true", help="one JSON object per model and operation")
    p.add_argument("--format", choices=("markdown", "latex", "json"), default="markdown")
    p.add_argument("--gas-price", type=float, default=4.0, help="gwei (default 4, as earlier work)")
    p.add_argument("--eth-usd", type=float, default=373.0, help="USD per ether (default 373, as earlier work)")
    p.set_defaults(run=_gas_table)
    p = sub.add_parser("reproduce", help="the 3 datasets x 3 models grid of the 2020 analysis, with a report",
                       description="The 3 datasets x 3 models grid of the 2020 analysis under Deposit-Refund-Take, "
                                   "with a report beside the published figures. " + REPRODUCE_TIME)
    p.add_argument("--out", default="results/reproduce")
    p.add_argument("--datasets", default="imdb,fake_news,fitness_synthetic")
    p.add_argument("--models", default="nb,ncc,perceptron")
    p.add_argument("--profile", choices=("lab", "2020"), default="lab",
                   help="this lab's simulation (default) or the 2020 paper's (until every deposit is claimed)")
    p.add_argument("--backend", default="py-evm", help="py-evm (default), edr (the fast engine: the same results, "
                                                       "needs Node) or twin (no chain: accuracy and balances "
                                                       "exact, gas estimated; the 2020 profile in minutes)")
    p.add_argument("--days", type=float, default=None, help="simulated days of contributions per cell (lab "
                                                            "profile: 7; the 2020 profile runs until all is claimed)")
    p.add_argument("--eval-hours", type=float, default=None, help="hours between evaluations (lab: 12; 2020: 55.6)")
    p.add_argument("--test-limit", type=int, default=None,
                   help="evaluate on N test samples drawn at random, stratified by label (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the seed of the report's tables and figures")
    p.add_argument("--seeds", type=int, default=1, help="run every cell with this many seeds (seed, seed+1, ...) "
                                                        "and report 95%% confidence intervals across them")
    p.add_argument("--workers", type=int, default=None, help="processes running cells side by side (default: one "
                                                             "per CPU); rerunning the same command resumes")
    p.add_argument("--no-deviations", action="store_true",
                   help="skip measuring the two profiles' deviations (twin-only runs on IMDB and fitness)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_reproduce)
    p = sub.add_parser("sweep", help="run a sweep (a base config, axes and seeds) and summarise it across seeds",
                       description="Expand a sweep file into runs, run those not finished yet (joblib processes "
                                   "here, or a Dask cluster), and write summary.csv and figures with 95%% bands.")
    p.add_argument("file", help="sweep TOML, e.g. configs/sweeps/drt_vs_points.toml")
    p.add_argument("--out", help="sweep folder (default results/<sweep name>); run again to resume")
    p.add_argument("--workers", type=int, default=None, help="processes on this machine (default: one per CPU)")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler's address, e.g. tcp://host:8786")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_sweep)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt as exc:  # a run stopped between steps says what it kept
        print(f"dcai-lab {args.command}: {exc or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as exc:  # clear one-line errors for the known failure kinds
        from .compiler import CompilerError
        from .datasets import DatasetNotFound
        from .errors import ContractRevert, NodeError

        if isinstance(exc, (CompilerError, DatasetNotFound, ContractRevert, NodeError, ValueError, FileNotFoundError,
                            ConnectionError, TimeoutError)):
            print(f"dcai-lab {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())

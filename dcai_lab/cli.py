"""The ``dcai-lab`` command: thin commands over the package, each importing what it needs when it runs."""
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
    chains, fees = None, None
    if args.cost:
        from .cost import CHAINS, Fees

        chains = [c.strip() for c in args.cost.split(",") if c.strip()]
        unknown = [c for c in chains if c not in CHAINS]
        if unknown:
            raise ValueError(f"unknown chains {unknown} for --cost; choose from {', '.join(CHAINS)}")
        fees = Fees.load(args.fees) if args.fees else Fees.snapshot()
    table = pd.concat([measure_operations(args.dataset, m, samples=args.samples, gas_price_gwei=args.gas_price,
                                          eth_usd=args.eth_usd, incentive=args.incentive, cost=chains, fees=fees)
                       for m in wanted], ignore_index=True)
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
    print(f"\ngas on {args.dataset} under {table['incentive'].iloc[0]}, fork {table['fork'].iloc[0]}; USD at "
          f"{args.gas_price} gwei and {args.eth_usd} USD/ETH with --json")
    if chains:
        _print_costs(table, wanted, chains, fees, args)
    return 0


def _print_costs(table, models, chains, fees, args) -> None:
    """Per-operation USD on each chain and fee scenario, beside the 2019 pricing, as a markdown table."""
    from .cost import CHAIN_NAMES

    columns = [(f"usd_{c}_{s}", f"{CHAIN_NAMES[c]}, {s}") for c in chains for s in fees.scenarios]
    print(f"\n| model | operation | {args.gas_price:g} gwei, {args.eth_usd:g} USD/ETH (2019) | "
          + " | ".join(title for _, title in columns) + " |")
    print("|---|---|" + "---:|" * (len(columns) + 1))
    for row in table.set_index("model").loc[models].reset_index().itertuples(index=False):
        cells = [_usd(getattr(row, name)) for name, _ in columns]
        flag = " (above 2^24 gas: osaka refuses it)" if getattr(row, "above_tx_cap", False) else ""
        print(f"| {row.model} | {row.operation}{flag} | {_usd(row.usd)} | " + " | ".join(cells) + " |")
    print(f"\nUSD under {fees.describe()}; every value's date and source in "
          f"{args.fees or 'dcai_lab/fee_snapshot.json'}. Deploy: all its transactions; others: mean per transaction.")


def _usd(value) -> str:
    """Dollars to two significant figures at least: cents for large sums, more digits for fractions of a cent."""
    if value != value:
        return "—"
    return f"{value:,.2f}" if value >= 1 else f"{value:#.2g}"


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


DESCRIPTION = ("dcai-lab: decentralized and collaborative AI on blockchain. Machine-learning models live in "
               "Solidity contracts on an embedded Ethereum chain (py-evm), contributors train them by adding data "
               "under an incentive mechanism, and every run measures gas and accuracy together.")
EPILOG = "Run dcai-lab COMMAND --help for a command's options. Set DCAI_LAB_DATA_DIR to the folder holding real datasets."


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default: argparse's "(default: X)", "(default: off)" for a flag, and
    nothing added when the help already says what the default is (a default computed when the command runs)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if not action.option_strings or action.default is argparse.SUPPRESS or "default" in text:
            return text
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return f"{text} (default: {'on' if action.default else 'off'})"
        return f"{text} (default: %(default)s)"


def _value(args) -> int:
    from .valuation import value

    folders = [Path(f) for f in args.results]
    named = {f.name: f for f in folders} if len(folders) > 1 else folders[0]
    if len(folders) > 1 and len(named) < len(folders):
        raise ValueError("two results folders share a name: value them one at a time, or rename one")
    out = Path(args.out) if args.out else folders[0] / "valuation"
    v = value(named, out=out, exact_limit=args.exact_limit, permutations=args.permutations,
              sample_permutations=args.sample_permutations, samples=not args.contributors_only, seed=args.seed,
              progress=not args.quiet)
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(v.contributors[["run", "mechanism", "contributor", "kind", "value", "value_se", "payout",
                              "payout_unit"]].to_string(index=False))
        print()
        print(v.correlations.to_string(index=False))
    print(f"\nvaluation in {out}: {', '.join(sorted(p.name for p in out.iterdir()))}")
    return 0


def _workshop(args) -> int:
    from .workshop import write_exercises

    print(f"learners' copy: {write_exercises(args.out, args.notebook)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dcai-lab", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help, description=None):
        return sub.add_parser(name, help=help, description=description or help[0].upper() + help[1:] + ".",
                              formatter_class=HelpFormatter)

    p = command("compile", "compile contracts/ with solcjs into the package's artifacts (needs Node and npm ci)")
    p.set_defaults(run=_compile)
    p = command("demo", "deploy a perceptron under Deposit-Refund-Take and train it with contributors",
                "Deploy a sparse perceptron under Deposit-Refund-Take on the embedded chain, stream contributions "
                "(a quarter from a label-flipping adversary), move the clock a day, let everyone claim refunds and "
                "report bad data, and print a summary. IMDB when DCAI_LAB_DATA_DIR holds it, else scikit-learn's "
                "breast-cancer data.")
    p.add_argument("--initial", type=int, default=1000, help="samples the model is trained on before deployment "
                                                             "(at most half the training split)")
    p.add_argument("--contributions", type=int, default=200, help="samples contributed on chain")
    p.add_argument("--test", type=int, default=5000, help="test samples for accuracy")
    p.add_argument("--seed", type=int, default=0, help="seed of the model, the data drawn and the contributors")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_demo)
    p = command("run", "run an experiment from a TOML config and write its results folder")
    p.add_argument("config", help="TOML file, e.g. configs/fitness_drt_perceptron.toml")
    p.add_argument("--out", help="results folder (default: results/<name>-<time>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--backend", help="py-evm (embedded), anvil (a local node the run starts), edr (the fast engine, "
                                     "needs Node), twin (no chain, gas estimated), rpc (the development node at "
                                     "$DCAI_LAB_RPC_URL) or a local node's URL (default: the config's backend, "
                                     "py-evm if it names none)")
    p.set_defaults(run=_run)
    p = command("gas-table", "gas per operation and model on a dataset, as a paper table")
    p.add_argument("--dataset", default="imdb", help="dataset name (see the README's table)")
    p.add_argument("--models", default="nb,ncc,perceptron", help="comma-separated short names from the model registry: "
                                                                 "nb, ncc, perceptron, dense-perceptron, dense-ncc "
                                                                 "(dense ones on tabular data)")
    p.add_argument("--samples", type=int, default=20, help="contributions of each kind per model")
    p.add_argument("--incentive", default="deposit-refund-take", choices=("deposit-refund-take", "points"),
                   help="the mechanism the models are deployed under (default deposit-refund-take)")
    p.add_argument("--json", action="store_true", help="one JSON object per model and operation, with USD")
    p.add_argument("--format", choices=("markdown", "latex", "json"), default="markdown", help="table format")
    p.add_argument("--gas-price", type=float, default=4.0, help="gwei, as earlier work")
    p.add_argument("--eth-usd", type=float, default=373.0, help="USD per ether, as earlier work")
    p.add_argument("--cost", default=None, help="also print each operation's USD on these chains, comma-separated: "
                                                "l1 (Ethereum), op (an OP Stack rollup, Fjord rules), arbitrum "
                                                "(Arbitrum One), under the fee file's median and high scenarios "
                                                "(default: none)")
    p.add_argument("--fees", default=None, help="fee parameters for --cost, a JSON file shaped like "
                                                "dcai_lab/fee_snapshot.json (default: that snapshot, whose date "
                                                "is printed)")
    p.set_defaults(run=_gas_table)
    p = command("reproduce", "the 3 datasets x 3 models grid of the 2020 analysis, with a report",
                "The 3 datasets x 3 models grid of the 2020 analysis under Deposit-Refund-Take, with a report beside "
                "the published figures. " + REPRODUCE_TIME)
    p.add_argument("--out", default="results/reproduce", help="folder of the report and the cells' results")
    p.add_argument("--datasets", default="imdb,fake_news,fitness_synthetic", help="comma-separated dataset names")
    p.add_argument("--models", default="nb,ncc,perceptron", help="comma-separated model short names")
    p.add_argument("--profile", choices=("lab", "2020"), default="lab",
                   help="this lab's simulation or the 2020 paper's (until every deposit is claimed)")
    p.add_argument("--backend", default="py-evm", help="py-evm, edr (the fast engine: the same results, needs Node) "
                                                       "or twin (no chain: accuracy and balances exact, gas "
                                                       "estimated; the 2020 profile in minutes)")
    p.add_argument("--days", type=float, default=None, help="simulated days of contributions per cell (default: "
                                                            "7 under the lab profile; the 2020 profile runs until "
                                                            "all is claimed)")
    p.add_argument("--eval-hours", type=float, default=None,
                   help="simulated hours between evaluations (default: 12 under the lab profile, 55.6 under 2020)")
    p.add_argument("--test-limit", type=int, default=None,
                   help="evaluate on N test samples drawn at random, stratified by label (default: all)")
    p.add_argument("--seed", type=int, default=0, help="the seed of the report's tables and figures")
    p.add_argument("--seeds", type=int, default=1, help="run every cell with this many seeds (seed, seed+1, ...) "
                                                        "and report 95%% confidence intervals across them")
    p.add_argument("--workers", type=int, default=None, help="processes running cells side by side (default: one "
                                                             "per CPU); rerunning the same command resumes")
    p.add_argument("--no-deviations", action="store_true",
                   help="skip measuring the two profiles' deviations (twin-only runs on IMDB and fitness)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_reproduce)
    p = command("sweep", "run a sweep (a base config, axes and seeds) and summarise it across seeds",
                "Expand a sweep file into runs, run those not finished yet (joblib processes here, or a Dask "
                "cluster), and write summary.csv and figures with 95% bands.")
    p.add_argument("file", help="sweep TOML, e.g. configs/sweeps/drt_vs_points.toml")
    p.add_argument("--out", help="sweep folder (default: results/<sweep name>); run again to resume")
    p.add_argument("--workers", type=int, default=None, help="processes on this machine (default: one per CPU)")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler's address, e.g. tcp://host:8786 "
                                                     "(default: none, the runs stay on this machine)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_sweep)
    p = command("value", "value each contributor's data in finished runs, beside what the mechanism paid",
                "Value each contributor's data in one or more results folders (exact Shapley values of final test "
                "accuracy over every coalition of contributors, Monte Carlo beyond --exact-limit; per contribution "
                "leave-one-out and TMC-Shapley), beside what the mechanism paid, with rank correlations; writes "
                "tables and a figure (value against payout, one panel per run).")
    p.add_argument("results", nargs="+", help="results folders (dcai-lab run --out ...); several give one panel each")
    p.add_argument("--out", default=None, help="folder for the tables and figure (default: <first folder>/valuation)")
    p.add_argument("--exact-limit", type=int, default=12, help="contributors with data up to which Shapley values "
                                                               "are exact (2^n coalitions); Monte Carlo beyond")
    p.add_argument("--permutations", type=int, default=200, help="permutations of contributors for the Monte "
                                                                 "Carlo estimate")
    p.add_argument("--sample-permutations", type=int, default=10, help="permutations of contributions for "
                                                                       "TMC-Shapley (0: leave-one-out only)")
    p.add_argument("--contributors-only", action="store_true", help="value contributors only, not each contribution")
    p.add_argument("--seed", type=int, default=0, help="seed of every permutation")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_value)
    p = command("workshop", "write the learners' copy of the workshop notebook (no solutions, no outputs)",
                "Write notebook 6 without its cells tagged 'solution' and without outputs, for learners. The copy "
                "goes outside the checkout, so the checkout's tests and updates never meet a learner's answers; "
                "an existing copy is never overwritten.")
    p.add_argument("--out", default=None, help="folder (or .ipynb path) of the copy (default: ~/dcai-lab-workshop)")
    p.add_argument("--notebook", default=None, help="the notebook with solutions (default: the checkout's "
                                                    "notebooks/06_workshop_exercises.ipynb)")
    p.set_defaults(run=_workshop)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
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
                            FileExistsError, ConnectionError, TimeoutError)):
            print(f"dcai-lab {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())

"""``dcai-lab``: thin commands over the package."""
from __future__ import annotations

import argparse
import sys


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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except Exception as exc:  # clear one-line errors for the known failure kinds
        from .compiler import CompilerError
        from .datasets import DatasetNotFound
        from .errors import ContractRevert

        if isinstance(exc, (CompilerError, DatasetNotFound, ContractRevert)):
            print(f"dcai-lab {args.command}: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())

"""The same sweep run three ways in one invocation: serially, on joblib's processes and on a Dask
LocalCluster; the speed-up of each over serial and the engine's overhead per run.

    python benchmarks/sweep.py --json [--runs 8] [--workers 2] [--backend py-evm]

The sweep: fitness stand-in, perceptron, Deposit-Refund-Take, ``--runs`` seeds of a short run on
``--backend``. A warm-up run fills the caches first, so that no way pays for encoding or calibration.
Overhead per run: the workers' time not spent inside runs (start-up, imports, scheduling, waiting at the
end), ``(wall time x workers - sum of run times) / runs``, where a run's time is its manifest's.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from dcai_lab import experiments
from dcai_lab.experiments.sweep import sweep


def _grid(runs: int, backend: str, days: float) -> dict:
    base = {"name": "bench", "dataset": "fitness_synthetic", "model": "perceptron", "duration_days": days,
            "eval_interval_hours": 2.0, "test_limit": 500, "backend": backend}
    return {"name": "bench", "base": base, "axes": {}, "seeds": runs}


def _timed(way: str, grid: dict, out: Path, workers: int, **engine) -> dict:
    start = time.perf_counter()
    result = sweep(grid, out, workers=workers, progress=False, **engine)
    wall = time.perf_counter() - start
    inside = sum(r.manifest["finished"] - r.manifest["started"] for r in result.results.values())
    runs = len(result.runs)
    assert (result.runs["status"] == "finished").all(), result.failures
    return {"way": way, "workers": workers, "seconds": round(wall, 1), "runs": runs,
            "run_seconds_sum": round(inside, 1), "overhead_per_run_s": round((wall * workers - inside) / runs, 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="py-evm", choices=experiments.BACKENDS)
    parser.add_argument("--days", type=float, default=1.0, help="simulated days per run")
    args = parser.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    grid = _grid(args.runs, args.backend, args.days)
    folder = Path(tempfile.mkdtemp(prefix="dcai-lab-sweep-bench-"))
    experiments.run({**grid["base"], "seed": 10_000}, progress=False)  # warm the caches
    rows = [_timed("serial", grid, folder / "serial", 1),
            _timed("joblib", grid, folder / "joblib", args.workers)]
    started = time.perf_counter()
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(args.workers)
        cluster_start = time.perf_counter() - started
        rows.append({**_timed("dask", grid, folder / "dask", args.workers, client=client),
                     "cluster_start_s": round(cluster_start, 1)})  # once per session, not in its seconds
    serial = rows[0]["seconds"]
    for row in rows:
        row["speedup_over_serial"] = round(serial / row["seconds"], 2)
        row.update(benchmark="sweep", backend=args.backend, simulated_days=args.days, cpus=os.cpu_count())
        print(json.dumps(row) if args.json else row)


if __name__ == "__main__":
    main()

"""Encoding speed: the 1000-word vocabulary over IMDB's 25,000 training reviews.

    python benchmarks/encoding.py --json
"""
from __future__ import annotations

import argparse
import json
import os
import time

from dcai_lab import datasets, encoders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    texts = datasets.load("imdb", "train")["text"]
    start = time.perf_counter()
    enc = encoders.Vocabulary(k=1000).fit(texts)
    fitted = time.perf_counter()
    X = enc.transform(texts)
    done = time.perf_counter()
    row = {"benchmark": "encode_imdb_train", "reviews": len(X), "fit_seconds": round(fitted - start, 2),
           "transform_seconds": round(done - fitted, 2), "reviews_per_s": round(len(X) / (done - fitted)),
           "cpus": os.cpu_count()}
    print(json.dumps(row) if args.json else row)


if __name__ == "__main__":
    main()

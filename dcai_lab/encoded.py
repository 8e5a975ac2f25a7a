"""A task's splits encoded once for the contracts, cached, with the hash that names a test set."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from . import datasets, encoders, files, own_data, settings


def encode(task, encoder, split):
    """``(X, y)`` of a split: samples as the contracts take them, empty ones dropped (the contracts refuse
    them)."""
    X = encoder.transform(split["text"] if task.kind == "text" else split)
    y = np.asarray(split["label"])
    keep = [i for i, x in enumerate(X) if len(x)]
    return [X[i] for i in keep], y[keep]


def encoded_splits(dataset: str, seed: int = 0, model: str | None = None):
    """The encoder ``model`` takes by default for this task (see :mod:`dcai_lab.models.registry`; the
    task's sparse default when no model is named) fitted on the training split, and both splits encoded:
    ``(encoder, X, y, X_test, y_test)``. Text datasets read from files are cached under ``$DCAI_LAB_CACHE`` by
    the files' sha256 (a registered dataset's: its content and registration, :func:`datasets.identity`) and
    the code that loads and encodes them, so a sweep loads and encodes them once."""
    from .models import registry

    task = datasets.task(dataset)
    entry = registry.entry(model) if model is not None else None
    if entry is not None:
        entry.check_task(task)
    hashes = datasets.file_hashes(dataset) if task.kind == "text" else {}
    path = None
    if hashes:
        code = b"".join(Path(m.__file__).read_bytes() for m in (datasets, own_data, encoders))
        key = hashlib.sha256(json.dumps([datasets.identity(dataset), seed, hashes]).encode() + code).hexdigest()[:16]
        path = settings.cache_dir() / "encoded" / f"{dataset}-{key}.npz"
        if path.exists():
            with np.load(path) as f:
                encoder = encoders.from_json(str(f["encoder"]))
                return (encoder, np.split(f["X"], f["X_ends"][:-1]), f["y"],
                        np.split(f["X_test"], f["X_test_ends"][:-1]), f["y_test"])
    train = datasets.load(dataset, "train", seed=seed)
    test = datasets.load(dataset, "test", seed=seed)
    encoder = entry.default_encoder(task, train) if entry is not None else encoders.for_task(task, train)
    X, y = encode(task, encoder, train)
    X_test, y_test = encode(task, encoder, test)
    if path is not None:
        with files.whole(path) as temporary:  # whole or not at all, if two runs race
            np.savez(temporary, encoder=encoder.to_json(), y=y, y_test=y_test,
                     X=np.concatenate(X), X_ends=np.cumsum([len(x) for x in X]),
                     X_test=np.concatenate(X_test), X_test_ends=np.cumsum([len(x) for x in X_test]))
    return encoder, X, y, X_test, y_test


def test_set_hash(X, y) -> str:
    """sha256 over the encoded test samples and labels: which test set an accuracy was measured on."""
    digest = hashlib.sha256()
    for x, label in zip(X, y):
        digest.update(json.dumps([[int(v) for v in x], int(label)]).encode())
    return digest.hexdigest()

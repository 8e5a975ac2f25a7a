"""Subsets of a split: always a seeded random draw, stratified by label.

Some sources ship their splits sorted by label (IMDB and Rotten Tomatoes on the Hugging Face hub: every
negative review, then every positive one), so "the first N samples" can hold a single class. Every
subset the lab takes (a test limit, a market's hidden test set, an on-chain check sample, a workshop's
samples) comes from :func:`draw`: the same indices for the same seed, every class in its proportion.
"""
from __future__ import annotations

import hashlib

import numpy as np


def draw(y, n: int, seed, *, exclude=None) -> np.ndarray:
    """Indices of ``n`` samples of labels ``y``, drawn at random and stratified by label.

    Each class gets its share of ``n`` (largest remainders first, ties to the larger class), at least
    one sample while ``n`` allows, so a small draw still holds every class. The indices come in random
    order. ``seed`` is anything :func:`numpy.random.default_rng` takes (an int, or a list of ints to keep
    draws of one run independent: ``[seed, 1]``); ``exclude`` are indices not to draw.

    Raises ValueError, naming the sizes, when ``n`` is larger than what is left to draw.
    """
    y = np.asarray(y)
    available = np.ones(len(y), bool)
    if exclude is not None:
        available[np.asarray(exclude, dtype=int)] = False
    pool = np.flatnonzero(available)
    if n > len(pool):
        raise ValueError(f"cannot draw {n} samples from {len(pool)} (of {len(y)}): ask for at most {len(pool)}")
    rng = np.random.default_rng(seed)
    if n == len(pool):
        return rng.permutation(pool)
    classes, counts = np.unique(y[pool], return_counts=True)
    quota = _quotas(counts, n)
    chosen = [rng.choice(pool[y[pool] == c], size=q, replace=False) for c, q in zip(classes, quota) if q]
    return rng.permutation(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=int)


def _quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Each class's share of ``n``: proportional with largest remainders, and at least one for every class
    when ``n`` is at least the number of classes (taken from the largest shares); fewer than that, one
    each for the ``n`` largest classes."""
    exact = counts * n / counts.sum()
    quota = np.floor(exact).astype(int)
    if n < len(counts):  # too few for every class: one each for the n largest
        quota = np.zeros(len(counts), int)
        quota[np.argsort(-counts, kind="stable")[:n]] = 1
        return quota
    quota = np.maximum(quota, 1)
    while quota.sum() > n:
        quota[np.argmax(quota)] -= 1
    left = n - quota.sum()
    if left > 0:
        remainder = np.where(quota < counts, exact - quota, -np.inf)
        for c in np.argsort(-remainder, kind="stable")[:left]:
            quota[c] += 1
    return np.minimum(quota, counts)


def take(X, y, indices):
    """``(X, y)`` at ``indices``: X a list of samples or an array, y an array."""
    indices = np.asarray(indices, dtype=int)
    X_part = X[indices] if isinstance(X, np.ndarray) else [X[i] for i in indices]
    return X_part, np.asarray(y)[indices]


def describe(y, indices, seed) -> dict:
    """What a manifest records of a subset: its size, class counts, the seed and a hash of the indices."""
    indices = np.asarray(indices, dtype=int)
    labels, counts = np.unique(np.asarray(y)[indices], return_counts=True)
    return {"size": int(len(indices)), "class_counts": {int(k): int(v) for k, v in zip(labels, counts)},
            "seed": seed if isinstance(seed, int) else [int(s) for s in seed],
            "indices_sha256": hashlib.sha256(np.sort(indices).astype(np.int64).tobytes()).hexdigest()}

"""Subsets are seeded random draws, stratified by label: the same for the same seed, every class in its
share, even from a split sorted by label."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcai_lab import subsets

SORTED = np.array([0] * 12_500 + [1] * 12_500)  # as IMDB's splits come from the hub


def test_a_draw_from_a_sorted_split_holds_both_classes_in_their_share():
    drawn = subsets.draw(SORTED, 1000, 0)
    assert SORTED[drawn].mean() == 0.5 and len(set(drawn)) == 1000
    assert SORTED[drawn[:100]].mean() not in (0.0, 1.0)  # in random order, not class by class


def test_the_same_seed_draws_the_same_and_streams_are_independent():
    assert np.array_equal(subsets.draw(SORTED, 50, 7), subsets.draw(SORTED, 50, 7))
    assert not np.array_equal(subsets.draw(SORTED, 50, [7, 1]), subsets.draw(SORTED, 50, [7, 2]))


def test_small_draws_hold_every_class():
    y = np.array([0] * 100 + [1] * 5 + [2])
    assert sorted(y[subsets.draw(y, 3, 1)]) == [0, 1, 2]
    assert sorted(y[subsets.draw(y, 2, 1)]) == [0, 1]  # too few for all: the largest classes


def test_exclusions_and_sizes():
    first = subsets.draw(SORTED, 100, 0)
    second = subsets.draw(SORTED, 100, 1, exclude=first)
    assert not set(first) & set(second)
    with pytest.raises(ValueError, match="cannot draw 30 samples from 20"):
        subsets.draw(np.zeros(20), 30, 0)


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(1, 60), min_size=1, max_size=6), n=st.integers(0, 200), seed=st.integers(0, 99))
def test_every_class_gets_its_share_within_one(counts, n, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    n = min(n, len(y))
    drawn = subsets.draw(y, n, seed)
    assert len(drawn) == n == len(set(drawn))
    got = np.bincount(y[drawn], minlength=len(counts))
    share = np.asarray(counts) * n / len(y)
    if n >= len(counts):
        assert (got >= 1).all()
        assert (np.abs(got - share) < len(counts) + 1).all()
    assert (got <= counts).all()


def test_describe_records_what_a_manifest_needs():
    drawn = subsets.draw(SORTED, 10, [3, 1])
    record = subsets.describe(SORTED, drawn, [3, 1])
    assert record["size"] == 10 and record["class_counts"] == {0: 5, 1: 5} and record["seed"] == [3, 1]
    assert len(record["indices_sha256"]) == 64

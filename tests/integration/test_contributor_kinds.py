"""The contributor kinds that stress what mechanisms pay for: replicators, colluding rings, free riders."""
import pandas as pd
import pytest

from dcai_lab import contributors, experiments


def config(incentive, kinds, **extra):
    return {"name": "kinds", "dataset": "fitness_synthetic", "model": "nb", "incentive": incentive,
            "initial_fraction": 0.05, "duration_days": 0.5, "eval_interval_hours": 3.0, "test_limit": 200,
            "seed": 0, "backend": "twin", "contributors": kinds, **extra}


def added(result) -> pd.DataFrame:
    rows = result.contributions
    return rows[rows["outcome"] == "added"]


@pytest.mark.parametrize("incentive", ["deposit-refund-take", "points"])
def test_a_replicator_resubmits_its_own_earlier_samples_with_their_labels(incentive):
    result = experiments.run(config(incentive, [{"kind": "replicator"}, {"kind": "honest"}]), progress=False)
    rows = added(result)
    mine = rows[rows["contributor"] == "replicator-1"]
    copies, originals = mine[mine["copy"] == 1], mine[mine["copy"] == 0]
    assert len(copies) > 5 and len(originals) > 5
    first = {s: (label, t) for s, label, t in zip(originals["sample"], originals["label"], originals["time_h"])}
    for sample, label, t in zip(copies["sample"], copies["label"], copies["time_h"]):
        assert sample in first and first[sample][0] == label and first[sample][1] < t  # its own, earlier, same label
    assert (rows.loc[rows["contributor"] == "honest-1", "copy"] == 0).all()  # other kinds never copy
    assert rows["sample"][rows["copy"] == 0].is_unique  # new samples still come from the pool once each


@pytest.mark.parametrize("incentive", ["deposit-refund-take", "points"])
def test_a_free_rider_adds_nothing(incentive):
    kinds = [{"kind": "free-rider"}, {"kind": "honest"}, {"kind": "adversarial"}]
    result = experiments.run(config(incentive, kinds), progress=False)
    assert "free-rider-1" not in set(result.contributions["contributor"])
    final = result.balances.groupby("contributor").last()
    assert final.loc["free-rider-1", "balance_percent"] >= 100  # it pays nothing in
    if incentive == "points":  # reporting the adversary's data earns it points for no data at all
        assert final.loc["free-rider-1", "points"] > 0
    else:  # Deposit-Refund-Take pays a reporter in proportion to its own validated data: nothing
        assert final.loc["free-rider-1", "balance_percent"] == 100


@pytest.mark.parametrize("incentive", ["deposit-refund-take", "points"])
def test_a_colluding_ring_reports_its_own_members_first(incentive):
    # honest contributors come first in the order of turns: without the ring's rule they would report first
    kinds = [{"kind": "honest", "count": 2}, {"kind": "colluder", "count": 2}]
    result = experiments.run(config(incentive, kinds), progress=False)
    rows = added(result)
    ring = rows[rows["kind"] == "colluder"]
    reported = ring[ring["reports"] > 0]
    assert len(reported) > 3
    by_ring = reported["reported_by"].isin(["colluder-1", "colluder-2"])
    assert (reported.loc[by_ring, "reported_by"] != reported.loc[by_ring, "contributor"]).all()
    if incentive == "points":  # anyone may report: the ring always does first
        assert by_ring.all()
    else:  # a reporter's share grows with its own validated data: the ring reports first once it has some
        assert by_ring.sum() > 0
    # the others' data is reported in the usual order, by an honest contributor when one may
    others = rows[(rows["kind"] == "honest") & (rows["reports"] > 0)]
    assert set(others["reported_by"]) <= {"honest-1", "honest-2", "colluder-1", "colluder-2"}


def test_new_kinds_are_checked():
    with pytest.raises(ValueError, match="replicates must be a probability"):
        contributors.make("replicator", replicates=1.5)
    assert not contributors.make("free-rider").contributes and contributors.make("colluder").colludes

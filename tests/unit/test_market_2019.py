"""The 2019 framework's prediction-market payout rule (dcai_lab.market_2019): hand-computed markets, each
defect of the 2019 code shown by a case its fix changes, what the rule conserves, and properties of random
small markets."""
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab.market import Entry, Settlement, settle
from dcai_lab.market_2019 import DEFECTS, compare_payouts, settle_2019
from strategies import MODELS


class Memo:
    """A model whose predictions are computed by hand: the last label it was given for a sample, else 0."""

    def __init__(self):
        self.seen = {}

    def partial_fit(self, X, y):
        for x, label in zip(X, y):
            self.seen[tuple(x)] = label
        return self

    def predict(self, X):
        return np.array([self.seen.get(tuple(x), 0) for x in X])


# Four test samples; the initial model (all 0) gets only [3] right: accuracy 1/4.
PIECES = [([[0], [1], [2], [3]], [1, 1, 1, 0])]
# alice labels [0] honestly (accuracy 1/4 -> 2/4), mallory flips [3] (2/4 -> 1/4), bob labels [1] honestly
# (1/4 -> 2/4). Stakes of 10 wei, a bounty of 100 wei (100 rounds); min_stake defaults to 10.
ENTRIES = [Entry(0, "alice", (0,), 1, 10), Entry(1, "mallory", (3,), 1, 10), Entry(2, "bob", (1,), 1, 10)]


def run(entries=ENTRIES, bounty=100, **options):
    return settle_2019(Memo(), entries, PIECES, bounty, "provider", **options)


def final_accounts(result):
    """Each author's 2019 account (before the payout floors it at zero): the last row that names them."""
    return {row["contributor"]: row["account"] for row in result.rounds}


def test_the_2019_rule_as_coded_by_hand():
    result = run()
    assert isinstance(result, Settlement)
    table = result.to_pandas()
    # Pass 0: scores +1/4, -1/4, +1/4. mallory's is the lowest: r = 10 / (1/4) = 40 rounds (60 left).
    # Balances: alice 10 + 40/4 = 20, mallory 10 - 10 = 0 (dropped: below 10), bob 20.
    # Dropped with its stake still credited: mallory's account is 10 + 0 = 10.
    assert table[table["round"] == 0][["contributor", "score", "rounds", "balance", "account", "dropped"]] \
        .values.tolist() == [["alice", 0.25, 40.0, 20.0, 10.0, False], ["mallory", -0.25, 40.0, 0.0, 10.0, True],
                             ["bob", 0.25, 40.0, 20.0, 10.0, False]]
    # Pass 1, without mallory; the model is not reset, accuracies are those of pass 0: alice 2/4 - 1/4 = +1/4,
    # bob 2/4 (measured after mallory's damage) - 2/4 = 0. No negative score: the 60 rounds left.
    # The last pass sets each account: alice = 60/4 = 15, bob = 0 * 60 = 0 (stake and gains gone).
    assert table[table["round"] == 1][["contributor", "score", "rounds", "account"]].values.tolist() == \
        [["alice", 0.25, 60.0, 15.0], ["bob", 0.0, 60.0, 0.0]]
    assert len(table) == 5
    # The provider keeps 30 + 100 - 25 = 105.
    assert result.balances == {"alice": 15.0, "mallory": 10.0, "bob": 0.0, "provider": 105.0}
    assert result.returned_to_provider == 105.0
    # The market's model went through pass 0 (all three) and pass 1 (alice, bob): [0], [1] and [3] labelled 1.
    assert result.model.seen == {(0,): 1, (3,): 1, (1,): 1}


def test_with_every_fix_by_hand():
    # Same passes. Accounts move by each contribution's balance change: alice 10 + (20 + 15 - 10) = 35,
    # bob 10 + (20 + 0 - 10) = 20, mallory 10 + (0 - 10) = 0; the provider keeps 130 - 55 = 75.
    assert run(fix_defects=True).balances == {"alice": 35.0, "mallory": 0.0, "bob": 20.0, "provider": 75.0}


def test_ours_pays_the_honest_the_whole_bounty_where_2019_pays_accuracy_times_rounds():
    frame = compare_payouts(Memo(), ENTRIES, PIECES, 100, "provider")
    # Ours scores in correct predictions: +1, -1, +1; r = 10 // 1 = 10: alice 20, bob 20, mallory 0 (dropped),
    # pool 100 - 1 * 10 = 90. Next round +1, +1: the pool, 90 // 2 = 45 each: alice and bob 65, provider 0.
    assert frame["ours"].to_dict() == {"alice": 65.0, "mallory": 0.0, "bob": 65.0, "provider": 0.0}
    assert frame["2019"].to_dict() == {"alice": 15.0, "mallory": 10.0, "bob": 0.0, "provider": 105.0}
    assert frame["2019 fixed"].to_dict() == {"alice": 35.0, "mallory": 0.0, "bob": 20.0, "provider": 75.0}
    assert frame["stake"].to_dict() == {"alice": 10.0, "mallory": 10.0, "bob": 10.0, "provider": 100.0}
    # Net shares of the bounty: alice (65 - 10) / 100 = 0.55 under ours, (15 - 10) / 100 = 0.05 under 2019.
    assert frame.loc["alice", ["ours share", "2019 share", "2019 fixed share"]].tolist() == \
        pytest.approx([0.55, 0.05, 0.25])
    for column in ("ours share", "2019 share", "2019 fixed share"):
        assert frame[column].sum() == pytest.approx(0, abs=1e-12)


def test_reset_mode_by_hand():
    # Pass 0 as before (the model is fresh anyway): r = 40, mallory dropped, alice and bob at 20.
    # Pass 1 replays alice and bob on a reset model: accuracy 2/4 after alice, 3/4 after bob. The 2019 code
    # measures alice against the last accuracy of pass 0 (2/4): 0; bob: 3/4 - 2/4 = +1/4. Last pass, r = 60:
    # alice = 0, bob = 15 (set, not added), mallory 10 (stake credited). The provider keeps 130 - 25 = 105.
    assert run(reset_model=True).balances == {"alice": 0.0, "mallory": 10.0, "bob": 15.0, "provider": 105.0}
    # Every fix: alice +1/4 against 1/4: accounts alice 10 + (20 + 15 - 10) = 35, bob 35, mallory 0.
    assert run(reset_model=True, fix_defects=True).balances == \
        {"alice": 35.0, "mallory": 0.0, "bob": 35.0, "provider": 60.0}


@pytest.mark.parametrize("defect, options, before, after", [
    # The baseline after a reset: alice's pass-1 score 0 -> +1/4, her account 0 -> 60/4 = 15.
    ("reset_baseline", {"reset_model": True}, {"alice": 0.0, "mallory": 10.0, "bob": 15.0, "provider": 105.0},
     {"alice": 15.0, "mallory": 10.0, "bob": 15.0, "provider": 90.0}),
    # mallory's loss of 10 is debited: 10 -> 0, and the provider keeps it.
    ("dropped_losses", {}, {"alice": 15.0, "mallory": 10.0, "bob": 0.0, "provider": 105.0},
     {"alice": 15.0, "mallory": 0.0, "bob": 0.0, "provider": 115.0}),
    # The last pass adds instead of setting: alice 10 + 25 = 35, bob 10 + 10 = 20.
    ("final_overwrite", {}, {"alice": 15.0, "mallory": 10.0, "bob": 0.0, "provider": 105.0},
     {"alice": 35.0, "mallory": 10.0, "bob": 20.0, "provider": 65.0}),
])
def test_each_fix_changes_a_market_it_applies_to(defect, options, before, after):
    assert run(**options).balances == before
    assert run(**options, fix_defects=[defect]).balances == after
    # And it is that fix that matters: every fix but this one differs from every fix.
    others = [d for d in DEFECTS if d != defect]
    assert run(**options, fix_defects=others).balances != run(**options, fix_defects=True).balances


def test_the_reset_baseline_fix_alone_shows_under_the_other_fixes():
    # Every fix but the baseline: alice's pass-1 score is 0, her account 10 + (20 + 0 - 10) = 20; bob 35.
    assert run(reset_model=True, fix_defects=["dropped_losses", "final_overwrite"]).balances == \
        {"alice": 20.0, "mallory": 0.0, "bob": 35.0, "provider": 75.0}


def test_grouped_by_hand_and_the_fixes_do_not_apply():
    # alice labels [0] and [1] (1/4 -> 3/4), then mallory flips [3] and [0] (3/4 -> 1/4).
    entries = [Entry(0, "alice", (0,), 1, 10), Entry(1, "alice", (1,), 1, 10),
               Entry(2, "mallory", (3,), 1, 10), Entry(3, "mallory", (0,), 0, 10)]
    # Pass 0 by author: alice +1/2, mallory -1/2; r = mallory's account 20 / (1/2) = 40 (60 left):
    # alice 20 + 20 = 40, mallory 20 - 20 = 0, below 2 contributions * 10: dropped.
    # Pass 1: alice +1/2 again (accuracy 3/4 from pass 0, against 1/4): 40 + 60/2 = 70. Provider: 140 - 70.
    for fix in (False, True):
        result = run(entries, group_contributions=True, fix_defects=fix)
        assert result.balances == {"alice": 70.0, "mallory": 0.0, "provider": 70.0}
        assert result.to_pandas()[["contributor", "score", "rounds", "account", "dropped"]].values.tolist() == \
            [["alice", 0.5, 40.0, 40.0, False], ["mallory", -0.5, 40.0, 0.0, True], ["alice", 0.5, 60.0, 70.0, False]]
    # Ours: +2 and -2 correct, r = 20 // 2 = 10: alice 40, mallory 0 (dropped); then the pool, 100, to alice.
    assert settle(Memo(), entries, PIECES, 100, "provider").balances == {"alice": 140, "mallory": 0, "provider": 0}


def test_a_contribution_that_moves_nothing_stays_in_and_as_coded_ends_at_zero():
    # alice +1/4, carol labels [2] with 0, which the model already predicts (score 0), mallory -1/4.
    entries = [Entry(0, "alice", (0,), 1, 10), Entry(1, "carol", (2,), 0, 10), Entry(2, "mallory", (3,), 1, 10)]
    # Pass 0: r = 40; alice 20, carol 10 + 0: not below min_stake 10, she stays; mallory 0, dropped.
    # Pass 1: alice +1/4, carol 2/4 - 2/4 = 0; last pass, r = 60: as coded, alice = 15 and carol = 0 * 60 = 0.
    result = run(entries)
    assert [(r["round"], r["contributor"], r["balance"], r["dropped"]) for r in result.rounds] == \
        [(0, "alice", 20.0, False), (0, "carol", 10.0, False), (0, "mallory", 0.0, True),
         (1, "alice", 35.0, False), (1, "carol", 10.0, False)]
    assert result.balances == {"alice": 15.0, "carol": 0.0, "mallory": 10.0, "provider": 105.0}
    # Fixed: carol keeps her stake, 10 + (10 + 0 - 10) = 10; alice 10 + (20 + 15 - 10) = 35.
    assert run(entries, fix_defects=True).balances == {"alice": 35.0, "carol": 10.0, "mallory": 0.0,
                                                        "provider": 85.0}


def test_the_first_of_tied_lowest_scorers_sets_the_rounds():
    # Eight samples, all labelled 1 and all predicted 1 by the initial model; mallory (stake 40) and eve
    # (stake 10) each break one: -1/8 both. The first, mallory, sets r = 40 / (1/8) = 320 rounds; eve loses 40.
    pieces = [([[i] for i in range(8)], [1] * 8)]
    entries = [Entry(0, "mallory", (10,), 0, 40), Entry(1, "eve", (11,), 0, 10)]

    class Breaker(Memo):   # labelling 10 + k with 0 breaks sample k
        def predict(self, X):
            return np.array([0 if (10 + x[0],) in self.seen else 1 for x in X])

    result = settle_2019(Breaker(), entries, pieces, 1000, "provider", min_stake=10)
    assert [(r["contributor"], r["score"], r["rounds"], r["balance"]) for r in result.rounds] == \
        [("mallory", -0.125, 320.0, 0.0), ("eve", -0.125, 320.0, -30.0)]


def test_grouped_an_author_needs_min_stake_per_contribution():
    # y = 1 on [0]..[3], 0 on [4]..[7]: the initial model (all 0) is right on half. By author: alice labels
    # [0], [1] with 1 (+2/8), mallory [4], [5] with 1 (-2/8), eve [6] with 1 and [7] with 0 (-1/8).
    pieces = [([[i] for i in range(8)], [1, 1, 1, 1, 0, 0, 0, 0])]
    entries = [Entry(0, "alice", (0,), 1, 10), Entry(1, "alice", (1,), 1, 10), Entry(2, "mallory", (4,), 1, 10),
               Entry(3, "mallory", (5,), 1, 10), Entry(4, "eve", (6,), 1, 10), Entry(5, "eve", (7,), 0, 10)]
    # Pass 0: r = 20 / (2/8) = 80 (120 left): alice 20 + 20 = 40, mallory 0, eve 20 - 10 = 10: below
    # 2 contributions * 10, eve is dropped too. Pass 1: alice +2/8 again, r = 120: 40 + 30 = 70.
    result = settle_2019(Memo(), entries, pieces, 200, "provider", group_contributions=True)
    assert [(r["round"], r["contributor"], r["account"], r["dropped"]) for r in result.rounds] == \
        [(0, "alice", 40.0, False), (0, "mallory", 0.0, True), (0, "eve", 10.0, True), (1, "alice", 70.0, False)]
    assert result.balances == {"alice": 70.0, "mallory": 0.0, "eve": 10.0, "provider": 180.0}


def test_a_bounty_spent_while_a_score_is_negative_ends_the_market_in_that_pass():
    # A bounty of 30 rounds: pass 0 would stand for 40, so it stands for the 30 left and is the last one.
    # As coded, accounts are set to score * 30: alice 7.5, mallory -7.5 (collects 0), bob 7.5.
    result = run(bounty=30)
    assert [(r["contributor"], r["rounds"], r["balance"], r["dropped"]) for r in result.rounds] == \
        [("alice", 30, 17.5, False), ("mallory", 30, 2.5, False), ("bob", 30, 17.5, False)]
    assert result.balances == {"alice": 7.5, "mallory": 0.0, "bob": 7.5, "provider": 45.0}
    # Fixed: each keeps its balance, 17.5, 2.5 and 17.5; the provider keeps 60 - 37.5.
    assert run(bounty=30, fix_defects=True).balances == {"alice": 17.5, "mallory": 2.5, "bob": 17.5,
                                                         "provider": 22.5}


def test_grouped_the_lowest_author_is_found_again_when_its_score_rises():
    # y = 1 on [0]..[3], 0 on [4]..[7]; accuracy 4/8 at first. mallory labels [4], [5] with 1 (-> 2/8), eve [6]
    # with 1 (-> 1/8), mallory again [0], [1], [2] with 1 (-> 4/8). By author: mallory -2/8 + 3/8 = +1/8,
    # eve -1/8: eve is the lowest, r = 10 / (1/8) = 80. mallory 5 * 10 + 10 = 60, eve 0, dropped.
    # Pass 1: mallory's contributions are one run now, 4/8 - 4/8 = 0: last pass, she keeps 60.
    pieces = [([[i] for i in range(8)], [1, 1, 1, 1, 0, 0, 0, 0])]
    entries = [Entry(0, "mallory", (4,), 1, 10), Entry(1, "mallory", (5,), 1, 10), Entry(2, "eve", (6,), 1, 10),
               Entry(3, "mallory", (0,), 1, 10), Entry(4, "mallory", (1,), 1, 10), Entry(5, "mallory", (2,), 1, 10)]
    result = settle_2019(Memo(), entries, pieces, 1000, "provider", group_contributions=True)
    assert [(r["round"], r["contributor"], r["score"], r["rounds"], r["account"]) for r in result.rounds] == \
        [(0, "mallory", 0.125, 80.0, 60.0), (0, "eve", -0.125, 80.0, 0.0), (1, "mallory", 0.0, 920.0, 60.0)]
    assert result.balances == {"mallory": 60.0, "eve": 0.0, "provider": 1000.0}


def test_a_loser_other_than_the_lowest_can_fall_below_zero_and_collects_nothing():
    # Eight test samples: each label moves accuracy by 1/8. mallory stakes 40 and flips two of them (-2/8),
    # eve stakes 10 and flips one (-1/8). r is set by the lowest score alone: 40 / (2/8) = 160 rounds, and eve
    # loses 160/8 = 20 of her 10: her balance is -10. (Ours would take min(40 // 2, 10 // 1) = 10 rounds.)
    pieces = [([[i] for i in range(8)], [1] * 8)]
    entries = [Entry(0, "mallory", (9,), 0, 40), Entry(1, "eve", (8,), 0, 10)]

    class Flipper(Memo):   # labelling 9 with 0 breaks samples 0 and 1, labelling 8 with 0 breaks sample 2
        def predict(self, X):
            broken = {0, 1} if (9,) in self.seen else set()
            broken |= {2} if (8,) in self.seen else set()
            return np.array([0 if x[0] in broken else 1 for x in X])

    result = settle_2019(Flipper(), entries, pieces, 1000, "provider", min_stake=10)
    assert [(r["contributor"], r["score"], r["rounds"], r["balance"], r["dropped"]) for r in result.rounds] == \
        [("mallory", -0.25, 160.0, 0.0, True), ("eve", -0.125, 160.0, -10.0, True)]
    # Both dropped, nobody left: the other 840 rounds are never paid. As coded, the stakes stay credited:
    # mallory 40 + 0, eve 10 - 10 = 0. Fixed: mallory 0, eve -10, paid as 0; the provider keeps everything.
    assert result.balances == {"mallory": 40.0, "eve": 0.0, "provider": 1010.0}
    fixed = settle_2019(Flipper(), entries, pieces, 1000, "provider", min_stake=10, fix_defects=True)
    assert final_accounts(fixed) == {"mallory": 0.0, "eve": -10.0}
    assert fixed.balances == {"mallory": 0.0, "eve": 0.0, "provider": 1050.0}


def test_what_the_rule_conserves():
    """The 2019 rule pays for accuracy, not from a pool: with every fix, the accounts are the stakes plus each
    pass's summed scores times its rounds, and the provider keeps the rest; the defects break the first."""
    for options in ({}, {"reset_model": True}):
        fixed = run(fix_defects=True, **options)
        moved = sum(row["score"] * row["rounds"] for row in fixed.rounds)
        assert sum(final_accounts(fixed).values()) == pytest.approx(30 + moved)
        assert sum(fixed.balances.values()) == 130   # stakes and bounty, booked
    # As coded, in the default mode: the passes move 1/4 * 40 + 1/4 * 60 = 25 to the contributors, but their
    # accounts add up to 15 + 10 + 0 = 25 instead of 30 + 25 = 55.
    as_coded = run()
    assert sum(row["score"] * row["rounds"] for row in as_coded.rounds) == 25
    assert sum(final_accounts(as_coded).values()) == 25
    assert sum(as_coded.balances.values()) == 130


def test_defaults_are_the_2019_defaults_and_names_are_checked():
    explicit = run(reset_model=False, group_contributions=False, min_stake=10, fix_defects=False)
    assert explicit.balances == run().balances
    assert run(fix_defects=list(DEFECTS)).balances == run(fix_defects=True).balances
    assert run(fix_defects="final_overwrite").balances == run(fix_defects=["final_overwrite"]).balances
    with pytest.raises(ValueError, match="unknown 2019 defect"):
        run(fix_defects=["baseline"])
    with pytest.raises(ValueError, match="min_stake"):
        run(min_stake=0)
    # No contribution: nothing to score, the provider keeps the bounty.
    assert settle_2019(Memo(), [], PIECES, 100, "provider").balances == {"provider": 100.0}


@st.composite
def small_market(draw):
    kind = draw(st.sampled_from(sorted(MODELS)))
    twin, sample, label = draw(MODELS[kind]())
    test = draw(st.lists(st.tuples(sample, label), min_size=1, max_size=8))
    pieces = [([list(x) for x, _ in test], [y for _, y in test])]
    equal = draw(st.booleans())
    entries = [Entry(i, f"a{who}", tuple(x), y, 10 if equal else stake) for i, (who, x, y, stake) in
               enumerate(draw(st.lists(st.tuples(st.integers(0, 3), sample, label, st.integers(1, 50)),
                                       min_size=1, max_size=8)))]
    bounty = draw(st.sampled_from([1, 100, 10**6, 10**18]))
    options = {"reset_model": draw(st.booleans()), "group_contributions": draw(st.booleans())}
    return twin, entries, pieces, bounty, options


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(small_market())
def test_properties_of_random_small_markets(market):
    twin, entries, pieces, bounty, options = market
    stakes = sum(e.stake for e in entries)
    as_coded = settle_2019(twin, entries, pieces, bounty, "p", **options)
    fixed = settle_2019(twin, entries, pieces, bounty, "p", fix_defects=True, **options)
    for result in (as_coded, fixed):
        # Booked in full, nobody collects less than nothing, the rounds spent never exceed the bounty.
        assert sum(result.balances.values()) == pytest.approx(stakes + bounty, rel=1e-12)
        assert all(v >= 0 for k, v in result.balances.items() if k != "p")
        spent = sum({r["round"]: r["rounds"] for r in result.rounds}.values())
        assert spent <= bounty * (1 + 1e-12)
        # Every pass but the last drops a lowest scorer, whose balance is then zero (to rounding): at most
        # one pass per contribution.
        table = result.to_pandas()
        assert table["round"].max() < len(entries)
        for _, this in list(table.groupby("round"))[:-1]:
            lowest = this[this.score == this.score.min()]
            assert (lowest.score < 0).all()
            assert (lowest.dropped & (lowest.balance.abs() <= 1e-9 * (stakes + bounty))).any()
    # The first pass's scores add up to the change in accuracy over every contribution, computed here anew.
    X, y = pieces[0][0], np.array(pieces[0][1])
    model = copy.deepcopy(twin)
    start = float((model.predict(X) == y).mean())
    for e in entries:
        try:
            model.partial_fit([list(e.data)], [e.label])
        except OverflowError:
            pass
    first = [r["score"] for r in fixed.rounds if r["round"] == 0]
    assert sum(first) == pytest.approx(float((model.predict(X) == y).mean()) - start, abs=1e-9)
    # With every fix, the accounts are the stakes plus the scores times the rounds.
    moved = sum(r["score"] * r["rounds"] for r in fixed.rounds)
    assert sum(final_accounts(fixed).values()) == pytest.approx(stakes + moved, rel=1e-9, abs=1e-6)
    # A fix changes nothing where its defect cannot occur.
    if not options["reset_model"]:
        assert settle_2019(twin, entries, pieces, bounty, "p", fix_defects=["reset_baseline"],
                           **options).balances == as_coded.balances
    if options["group_contributions"]:
        assert settle_2019(twin, entries, pieces, bounty, "p", fix_defects=["dropped_losses", "final_overwrite"],
                           **options).balances == as_coded.balances
    # The rule is in units of the stakes: scaling stakes and bounty by 8 (exact in floats) scales every payout.
    scaled = [Entry(e.index, e.author, e.data, e.label, 8 * e.stake) for e in entries]
    eight = settle_2019(twin, scaled, pieces, 8 * bounty, "p", **options)
    assert eight.balances == {k: 8 * v for k, v in as_coded.balances.items()}

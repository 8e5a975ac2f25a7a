"""The payout rule of the 2019 framework's prediction market, replayed off chain beside ours.

Microsoft's 2019 Decentralized & Collaborative AI framework (the ``0xDeCA10B`` repository) simulated a
prediction market in Python (``simulation/decai/simulation/contract/incentive/prediction_market.py``).
Its reward phase differs from the rule our contract runs (:func:`dcai_lab.market.settle`):
:func:`settle_2019` is our own re-implementation of that rule, on our :class:`~dcai_lab.market.Entry`
records, test pieces and twins, returning the same :class:`~dcai_lab.market.Settlement`, so that both can
be compared on the same contributions (:func:`compare_payouts`). Nothing here runs on chain.
"""
from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Collection

import numpy as np
import pandas as pd

from .market import Entry, Settlement, settle

#: The 2019 code's defects, by the names ``fix_defects`` takes (see :func:`settle_2019`).
DEFECTS = ("reset_baseline", "dropped_losses", "final_overwrite")


def _fixes(fix_defects) -> frozenset[str]:
    if fix_defects is True:
        return frozenset(DEFECTS)
    if fix_defects is False or fix_defects is None:
        return frozenset()
    if isinstance(fix_defects, str):
        fix_defects = (fix_defects,)
    unknown = sorted(set(fix_defects) - set(DEFECTS))
    if unknown:
        raise ValueError(f"unknown 2019 defect(s) {', '.join(unknown)}: the names are {', '.join(DEFECTS)}")
    return frozenset(fix_defects)


def settle_2019(initial_model, entries: list[Entry], test_pieces, bounty: int, provider: str, *,
                reset_model: bool = False, group_contributions: bool = False, min_stake: int | None = None,
                fix_defects: bool | Collection[str] = False) -> Settlement:
    """The 2019 framework's reward phase on our contributions: who gets what, in wei (as floats).

    Parameters
    ----------
    initial_model
        The model before any contribution (a twin; it is copied, never changed).
    entries
        The contributions in order, with their authors and stakes (wei), as ``Market.entries()`` gives them.
        Each entry's stake is its deposit, as with the 2019 option ``allow_greater_deposit``; our
        contract records the minimum stake for every entry, which is what the 2019 default deposits.
    test_pieces
        The scored test pieces as ``(data, labels)`` pairs (``Market.scoring_pieces``).
    bounty
        The provider's bounty in wei. The 2019 rule also reads it as a number of *rounds*.
    provider
        The bounty provider's account: what the rule does not pay out is booked to it.
    reset_model
        2019's ``reset_model_during_reward_phase`` (default False, as in 2019): whether every round
        replays the remaining contributions on a fresh copy of the initial model. When False, the
        accuracy after each contribution is measured once, in the first pass (with every contribution
        before it applied), and later rounds reuse those accuracies.
    group_contributions
        2019's ``group_contributions`` (default False, as in 2019): score each run of consecutive
        contributions by one author together, against that author's account, instead of scoring every
        contribution on its own with a balance of its own.
    min_stake
        The least balance, in wei, that keeps a contribution in the market (2019's ``min_stake``: 1 unit,
        the deposit of every contribution by default; with ``group_contributions``, an author needs it once
        per contribution). Default: the smallest stake in ``entries`` (our market's minimum stake).
    fix_defects
        ``True`` corrects every defect of the 2019 code named below; a collection of names (from
        :data:`DEFECTS`) corrects those only. Default False: the 2019 code as written.

    The 2019 rule, step by step
    ---------------------------
    0. The bounty ``B`` is a budget of rounds: ``B`` wei are ``B`` rounds. Each contribution (or, grouped,
       each author) holds a balance, its stake to begin with; each author also has an account, the sum of
       their stakes, which is what they collect at the end.
    1. A pass goes through the contributions still in the market, in order, training the market's model on
       each. A contribution's score is the test accuracy (a fraction) after it minus the accuracy before it:
       before the first one, the accuracy of the initial model; then that of the previous scored
       contribution. Scores telescope: a pass's scores add up to the change in accuracy it measured.
    2. If the lowest score is negative, the pass stands for ``r`` rounds: as many as the lowest scorer's
       balance can pay at that score, ``r = balance / -score``, capped at the rounds left. Every balance
       then moves by ``score * r`` and ``r`` rounds are spent. A contribution whose balance fell below
       ``min_stake`` is dropped (grouped: an author whose account fell below ``min_stake`` times their
       contributions in the pass), and its balance goes to its author's account. The lowest scorer always
       falls to zero; others with negative scores may fall below zero, since ``r`` is set by the lowest
       score only (ours takes the fewest rounds any negative scorer can pay).
    3. Repeat from 1 with the remaining contributions, each scored again against the contribution before
       it among those remaining, until no score is negative, the rounds are spent or nobody is left.
    4. The last pass stands for every round left: each remaining contribution's ``score * r`` goes to its
       author's account.
    5. Each author collects their account if positive, nothing otherwise. What is not paid out stays in
       the 2019 contract (no one can claim it there); here it is booked to ``provider``, as ours returns the
       remaining pool, so that ``sum(balances.values())`` is the stakes plus the bounty.

    The market pays for accuracy, not from a pool: a pass that raises accuracy by ``d`` moves ``d * r``
    wei to the contributors, so the bounty is paid out in full only if accuracy rises from 0 to 1. (Ours
    divides the whole pool by the positive scores at the end.) The 2019 rule computes in floats: accuracies
    are fractions, ``r`` a true quotient and the balances floats, so the balances here are floats of wei,
    with about 16 significant digits (sums near 1e18 wei are exact to a few hundred wei).

    The defects of the 2019 code, and what fixing each changes
    ----------------------------------------------------------
    ``"reset_baseline"``
        With ``reset_model``, the accuracy the first contribution of a pass is measured against is not
        re-evaluated after the model is reset: it is still the last accuracy of the previous pass. Each
        later pass's scores then add up to the change since the end of the previous pass instead of the
        change from the initial model, and the first remaining contribution is charged or credited for it.
        Fixed: every pass starts from the initial model's accuracy (the reset model is the initial model).
    ``"dropped_losses"``
        Without ``group_contributions``, a dropped contribution's remaining balance is added to its author's
        account, which still holds the stake it started from: its losses are never debited, and the author
        gets the stake back plus what was left of it. Fixed: the account moves by the balance minus the stake.
    ``"final_overwrite"``
        Without ``group_contributions``, the last pass *sets* the author's account to the contribution's
        ``score * r`` instead of adding to it, one contribution after the other: the author keeps only what
        their last remaining contribution earned in that pass, losing their stakes, their earlier passes'
        gains and their other contributions (a contribution that did not move accuracy ends at zero).
        Fixed: the account moves by the contribution's whole balance change, last pass included.

    The last one is our finding, beyond the two an earlier review named. With every fix, the contributors'
    accounts add up to their stakes plus, over the passes, the sum of the scores times ``r``.

    Returns
    -------
    Settlement
        ``balances``: what each author (and the provider) can collect, in wei as floats;
        ``returned_to_provider``: the stakes and bounty not paid out; ``rounds``: one row per pass and
        scored contribution (or author), with ``entry`` (its position in ``entries``; None when grouped),
        ``score`` (accuracy change), ``rounds`` (the pass's ``r``), ``balance`` (of the contribution or,
        grouped, the author, after the pass), ``account`` (the author's, after the pass), ``dropped``;
        ``model``: the market's model as the 2019 market leaves it.
    """
    fixes = _fixes(fix_defects)
    entries = list(entries)
    X_test = [x for data, _ in test_pieces for x in data]
    y_test = np.array([v for _, labels in test_pieces for v in labels])
    if min_stake is None:
        min_stake = min((e.stake for e in entries), default=1)
    if min_stake <= 0:
        raise ValueError(f"min_stake must be positive (wei), got {min_stake}")

    def accuracy(model) -> float:
        return float((model.predict(X_test) == y_test).sum()) / len(y_test) if len(y_test) else 0.0

    def train(model, e: Entry) -> None:
        try:
            model.partial_fit([list(e.data)], [e.label])
        except OverflowError:  # the contract's model refuses it; nothing changes
            pass

    authors: list[str] = list(dict.fromkeys(e.author for e in entries))
    account: dict[str, float] = {a: 0.0 for a in authors}
    for e in entries:
        account[e.author] += e.stake
    balance = [float(e.stake) for e in entries]   # per contribution (ungrouped)
    seen_accuracy: dict[int, float] = {}          # accuracy after each contribution, first pass (no reset)
    live = list(range(len(entries)))              # positions of the contributions still in
    model = copy.deepcopy(initial_model)
    original = prev = None
    left = bounty                                 # rounds left
    rows, pass_ = [], 0

    while left > 0 and live:
        if reset_model:
            model = copy.deepcopy(initial_model)
        if original is None:
            original = prev = accuracy(model)
        elif not reset_model or "reset_baseline" in fixes:
            prev = original
        # else (2019 defect "reset_baseline"): prev is still the previous pass's last accuracy.

        scores: dict = {}                         # position (ungrouped) or author (grouped) -> score
        in_pass = Counter()
        worst, lowest = None, math.inf
        for k, i in enumerate(live):
            e = entries[i]
            in_pass[e.author] += 1
            train(model, e)
            if not reset_model and i not in seen_accuracy:
                seen_accuracy[i] = accuracy(model)
            if group_contributions and k + 1 < len(live) and entries[live[k + 1]].author == e.author:
                continue                          # the author's run goes on
            acc = accuracy(model) if reset_model else seen_accuracy[i]
            key = e.author if group_contributions else i
            scores[key] = scores.get(key, 0.0) + (acc - prev)
            if scores[key] < lowest:
                worst, lowest = key, scores[key]
            elif group_contributions and key == worst:   # the worst author's score rose: find the lowest again
                worst, lowest = min(scores.items(), key=lambda kv: kv[1])
            prev = acc

        final = lowest >= 0
        if final:
            r = left
        else:
            r = (account[worst] if group_contributions else balance[worst]) / -lowest
            if r > left:
                r = left
            final = r == left
        left -= r

        dropped: set = set()
        for key, score in scores.items():
            author = key if group_contributions else entries[key].author
            if group_contributions:
                account[author] += score * r
                if not final and account[author] < min_stake * in_pass[author]:
                    dropped.add(author)
                row_balance = account[author]
            else:
                balance[key] += score * r
                stake = entries[key].stake
                if final:
                    if "final_overwrite" in fixes:
                        account[author] += balance[key] - stake
                    else:                         # 2019 defect "final_overwrite"
                        account[author] = score * r
                elif balance[key] < min_stake:
                    dropped.add(key)
                    if "dropped_losses" in fixes:
                        account[author] += balance[key] - stake
                    else:                         # 2019 defect "dropped_losses": the stake stays credited
                        account[author] += balance[key]
                row_balance = balance[key]
            rows.append({"round": pass_, "contributor": author, "entry": None if group_contributions else key,
                         "score": score, "rounds": r, "balance": row_balance, "account": account[author],
                         "dropped": key in dropped})
        live = [i for i in live if (entries[i].author if group_contributions else i) not in dropped]
        pass_ += 1
        if final:
            break

    payouts = {a: max(0.0, v) for a, v in account.items()}
    kept = bounty + sum(e.stake for e in entries) - sum(payouts.values())
    payouts[provider] = payouts.get(provider, 0.0) + kept
    return Settlement(payouts, kept, rows, model)


def compare_payouts(initial_model, entries: list[Entry], test_pieces, bounty: int, provider: str,
                    **options) -> pd.DataFrame:
    """Our payouts and the 2019 rule's on the same contributions, one row per participant.

    Columns: ``stake`` (what each put in, wei: the provider's is the bounty); payouts in wei under ours
    (:func:`dcai_lab.market.settle`), ``2019`` (:func:`settle_2019` as the 2019 code does it) and
    ``2019 fixed`` (with every defect fixed); and each payout's net, ``(payout - stake) / bounty``, as a
    share of the bounty (``ours share``, ``2019 share``, ``2019 fixed share``): 1.0 is the whole bounty won,
    negative shares are stakes (for the provider, bounty) lost. Each share column adds up to zero.
    ``options`` go to :func:`settle_2019` (``reset_model``, ``group_contributions``, ``min_stake``).
    """
    ours = settle(initial_model, entries, test_pieces, bounty, provider)
    as_coded = settle_2019(initial_model, entries, test_pieces, bounty, provider, **options)
    fixed = settle_2019(initial_model, entries, test_pieces, bounty, provider, fix_defects=True, **options)
    stakes = Counter()
    for e in entries:
        stakes[e.author] += e.stake
    stakes[provider] += bounty
    frame = pd.DataFrame({"stake": pd.Series(stakes, dtype=float)})
    frame.index.name = "participant"
    for name, result in (("ours", ours), ("2019", as_coded), ("2019 fixed", fixed)):
        frame[name] = pd.Series(result.balances, dtype=float).reindex(frame.index, fill_value=0.0)
    for name in ("ours", "2019", "2019 fixed"):
        frame[f"{name} share"] = (frame[name] - frame["stake"]) / bounty
    return frame

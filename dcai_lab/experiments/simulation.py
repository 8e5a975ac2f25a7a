"""The event loop in simulated time: contributors act at exponentially spaced times, claims and evaluations
happen at evaluation ticks. One loop for every mechanism; the prediction market's variant extends it."""
from __future__ import annotations

import heapq

import numpy as np
from tqdm.auto import tqdm

from .. import contributors
from ..encoded import test_set_hash


def make_agents(config, accounts) -> list[tuple]:
    """(name, contributor kind, account) for every simulated contributor; ``accounts[0]`` is the owner."""
    agents = []
    free = iter(accounts[1:])
    for group in config.contributors:
        kind = contributors.make(group["kind"], **{k: v for k, v in group.items() if k not in ("kind", "count")})
        for i in range(group.get("count", 1)):
            try:
                account = next(free)
            except StopIteration:
                raise ValueError(f"more contributors than the chain's {len(accounts) - 1} free accounts: lower the "
                                 "counts in `contributors`") from None
            agents.append((f"{kind.kind}-{i + 1}", kind, account))
    return agents


class Simulation:
    """Contributions claimed one by one through a trainer (Deposit-Refund-Take, Points, any mechanism
    whose contributions are refunded or reported on their own).

    ``system`` is a :class:`~dcai_lab.system.System` or a twin-only stand-in; ``mechanism`` its spec, asked
    for the deposit unit, when claims come due, whether reporting pays and when a contribution is settled.
    Rows of contributions, accuracy and balances accumulate for the results folder.
    """

    def __init__(self, config, chain, system, mechanism, rng, X, y, pool, X_test, y_test, check=None):
        self.config, self.chain, self.system, self.mechanism, self.rng = config, chain, system, mechanism, rng
        self.X, self.y, self.pool = X, y, list(pool)
        self.X_test, self.y_test = X_test, y_test
        self.test_hash = test_set_hash(X_test, y_test)
        # test samples the contract's own evaluate is checked on (a stratified draw: see plan_subsets)
        check = np.arange(min(config.onchain_check, len(y_test))) if check is None else np.asarray(check, dtype=int)
        self.X_check, self.y_check = [X_test[i] for i in check], np.asarray(y_test)[check]
        self.unit = config.deposit_unit or mechanism.deposit_unit()
        self.agents = make_agents(config, chain.accounts)
        self.start = chain.now
        self.balance = {name: config.initial_balance * self.unit for name, _, _ in self.agents}
        self.open = []  # contributions not yet settled: (Contribution, author name)
        self.contribution_rows, self.accuracy_rows, self.balance_rows = [], [], []
        self._test_rows = None

    # -- the loop ------------------------------------------------------------------------------
    def run(self, progress: bool = True) -> None:
        # The bar counts simulated hours up to where the loop will stop: its total is the work the run will
        # really do (how many of the pool's samples get contributed depends on the schedule, not the pool).
        total = round((self._horizon() - self.start) / 3600, 1)
        self._bar = tqdm(total=total, desc=self.config.name, unit="h", disable=not progress,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} simulated hours "
                                    "[{elapsed}<{remaining}]")
        try:
            self._loop(self._bar)
            self._bar.update(self._bar.total - self._bar.n)  # the last tick may fall short of the horizon
        finally:
            self._bar.close()
        self._finish(progress)

    def _horizon(self) -> int:
        """The simulated time the loop stops at: after the last contribution, the clock runs on until every
        claim has come due."""
        end, step = self._bounds()
        return end + self.mechanism.claims_due_after + step

    def _bounds(self) -> tuple[int, int]:
        """The end of contributions and the evaluation interval."""
        return self.start + int(self.config.duration_days * 86_400), max(1, int(self.config.eval_interval_hours * 3600))

    def _schedule(self) -> tuple[list, int, int]:
        """The contributors' first turns as a heap of (time, agent index), the end of contributions and the
        evaluation interval."""
        queue = [(self.start + self._wait(kind), i) for i, (_, kind, _) in enumerate(self.agents)]
        heapq.heapify(queue)
        return (queue, *self._bounds())

    def _loop(self, bar) -> None:
        queue, end, step = self._schedule()
        # After the last contribution, the clock runs on until every claim has come due, so that final
        # balances count refunds and reports and not deposits still held.
        settled = self._horizon()
        next_eval = self.start
        while True:
            next_event = queue[0][0] if queue and self.pool and queue[0][0] <= end else settled + 1
            if next_eval <= min(next_event, settled):
                self._move_to(next_eval)
                self._claims()
                self._evaluate()
                next_eval += step
                continue
            if next_event > settled:
                break
            self._turn(queue, bar)

    def _turn(self, queue, bar) -> None:
        t, i = heapq.heappop(queue)
        self._contribute(t, i)
        heapq.heappush(queue, (t + self._wait(self.agents[i][1]), i))

    def _finish(self, progress: bool) -> None:
        """What happens after the loop: nothing here; a market settles."""

    # -- one step ------------------------------------------------------------------------------
    def _wait(self, kind) -> int:
        return max(1, int(self.rng.exponential(kind.interval)))

    def _move_to(self, t: int) -> None:
        if t > self.chain.now + 1:
            self.chain.time_travel(t - self.chain.now)
        bar = getattr(self, "_bar", None)
        if bar is not None:
            hours = min(bar.total, (self.chain.now - self.start) / 3600)
            if hours > bar.n:
                bar.update(hours - bar.n)

    def _label(self, kind, index) -> tuple[int, int]:
        """(label given, true label): a contributor gets it wrong at its mistake rate."""
        true = int(self.y[index])
        label = true
        if self.rng.random() < kind.mistake_rate:
            classes = self.system.num_classes
            label = 1 - true if classes == 2 else int((true + self.rng.integers(1, classes)) % classes)
        return label, true

    def _contribute(self, t: int, i: int) -> None:
        name, kind, account = self.agents[i]
        index = self.pool[0]
        self._move_to(t)
        required = self.system.deposit_required()
        willing = max(0.0, self.rng.normal(kind.deposit_mean, kind.deposit_std)) * self.unit
        row = {"time_h": (max(t, self.chain.now + 1) - self.start) / 3600, "contributor": name, "kind": kind.kind,
               "sample": int(index), "required_deposit": required}
        if required > willing:
            self.contribution_rows.append({**row, "outcome": "skipped: deposit too high", "label": -1,
                                           "true_label": -1, "deposit": 0, "gas_used": 0})
            return
        self.pool.pop(0)
        label, true = self._label(kind, index)
        c = self.system.add_data(self.X[index], label, sender=account, value=required)
        self.balance[name] -= c.deposit
        self.open.append((c, name))
        self.contribution_rows.append({**row, "outcome": "added", "label": label, "true_label": true,
                                       "deposit": c.deposit, "gas_used": c.gas_used})

    def _claims(self) -> None:
        """Refunds when the model agrees, reports when it does not and the mechanism says reporting pays."""
        if not self.open:
            return
        now = self.chain.now + 1
        due = [(c, a) for c, a in self.open if now >= c.added_time + self.mechanism.claims_due_after]
        if not due:
            return
        model = self.system.twin()
        agrees = model.predict([c.data for c, _ in due]) == np.array([c.label for c, _ in due])
        names = {name: (kind, account) for name, kind, account in self.agents}
        settled = set()
        for (c, author), ok in zip(due, agrees):
            if ok and names[author][0].claims:
                self.balance[author] += self.system.refund(c)
                settled.add(id(c))
        for (c, author), ok in zip(due, agrees):
            if ok:
                continue
            left = self.system.claimable(c)
            for name, (kind, account) in names.items():
                if name == author or not kind.claims:
                    continue
                if not self.mechanism.worth_reporting(left, lambda: self.system.num_valid(account)):
                    continue
                if self.system.has_claimed(c, account):
                    continue
                amount = self.system.report(c, sender=account)
                self.balance[name] += amount
                left -= amount
            if self.mechanism.settled(left):
                settled.add(id(c))
        self.open = [(c, a) for c, a in self.open if id(c) not in settled]

    def _evaluate(self) -> None:
        model = self.system.twin()
        if self._test_rows is None:  # checked and converted once, scored many times
            self._test_rows = model.prepare(self.X_test)
        accuracy = model.score(self._test_rows, self.y_test)
        # The contract's own evaluate on a sample must agree with the twin; a twin-only run has no contract.
        k = 0 if self.chain.backend == "twin" else len(self.y_check)
        onchain = self.system.evaluate(self.X_check[:k], self.y_check[:k])
        twin_correct = int((model.predict(self.X_check[:k]) == self.y_check[:k]).sum()) if k else 0
        if onchain != twin_correct:
            raise AssertionError(f"divergence: the contract gets {onchain} of {k} test samples right, its twin "
                                 f"{twin_correct}: stop and investigate")
        t = (self.chain.now - self.start) / 3600
        added = sum(1 for r in self.contribution_rows if r["outcome"] == "added")
        self.accuracy_rows.append({"time_h": t, "accuracy": accuracy, "contributions": added,
                                   "onchain_checked": k, "test_set_sha256": self.test_hash})
        start = self.config.initial_balance * self.unit
        for name, kind, _ in self.agents:
            self.balance_rows.append({"time_h": t, "contributor": name, "kind": kind.kind,
                                      "balance_percent": 100 * self.balance[name] / start})


class MarketSimulation(Simulation):
    """A prediction market: contributors stake on their data for ``duration_days`` (the model does not
    change meanwhile; nothing is claimed during participation); then participation ends, the provider
    reveals the test set, the reward rounds run on chain and everyone withdraws. Balances count stakes out
    and withdrawals in, in units of the minimum stake (or ``deposit_unit``)."""

    def _horizon(self) -> int:
        """Participation ends after ``duration_days``, but not before the market's minimum duration."""
        end, _ = self._bounds()
        return self.start + max(end - self.start, self.mechanism.min_duration)

    def _loop(self, bar) -> None:
        queue, _, step = self._schedule()
        self._end = self._horizon()
        next_eval = self.start
        while queue and self.pool and queue[0][0] <= self._end:
            while next_eval <= queue[0][0]:
                self._move_to(next_eval)
                self._evaluate()
                next_eval += step
            self._turn(queue, bar)

    def _finish(self, progress: bool) -> None:
        self._move_to(self._end)
        self._evaluate()
        self.system.end_participation()
        self.system.reveal()
        self.system.process_rewards(progress=progress)
        for name, _, account in self.agents:
            if self.system.claimable(account):
                self.balance[name] += self.system.withdraw(account)
        self._evaluate()

    def _contribute(self, t: int, i: int) -> None:
        name, kind, account = self.agents[i]
        index = self.pool.pop(0)
        self._move_to(t)
        label, true = self._label(kind, index)
        entry = self.system.add_data(self.X[index], label, sender=account)
        self.balance[name] -= entry.stake
        self.contribution_rows.append({"time_h": (self.chain.now - self.start) / 3600, "contributor": name,
                                       "kind": kind.kind, "sample": int(index), "required_deposit": entry.stake,
                                       "outcome": "added", "label": label, "true_label": true,
                                       "deposit": entry.stake, "gas_used": entry.gas_used})

"""The event loop in simulated time: contributors act at exponentially spaced times, claims and evaluations
happen at evaluation ticks. One loop for every mechanism; the prediction market's variant extends it."""
from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

from .. import contributors
from ..encoded import test_set_hash
from ..errors import ContractRevert
from ..interrupts import StopRequest
from ..progress import bar as progress_bar

#: What a contribution row records of its claims, until they come: ``validated`` (its author claimed it
#: back: refunded under Deposit-Refund-Take, a point under Points), ``refund`` (wei returned to its author)
#: ``taken`` (wei others took from its deposit) and ``reports`` (how many reports it earned others; under Points
#: each is a point) with ``reported_by`` (the first reporter). What each contribution earned is then in the results.
UNCLAIMED = {"validated": 0, "refund": 0, "taken": 0, "reports": 0, "reported_by": ""}


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
        self.points = {name: 0 for name, _, _ in self.agents}  # under a mechanism that pays in points
        self._badges = {}  # name -> (points when read, badges): under a mechanism that awards badges
        self.open = []  # contributions not yet settled: (Contribution, author name)
        self._turns = {}  # id(contribution) -> contributors who have had their turn at claiming it
        self._given = {}  # name -> (sample, label) of each of its new contributions: what a replicator copies
        self._row_of = {}  # id(contribution) -> its row in contribution_rows, where its claims add up
        self._stack, self._stack_size = None, 0  # the open contributions' samples, converted (_open_samples)
        self._current = None  # the model's twin, read again only after it learns
        self.contribution_rows, self.accuracy_rows, self.balance_rows = [], [], []
        self._test_rows = None

    # -- the loop ------------------------------------------------------------------------------
    def run(self, progress: bool = True, stop: StopRequest | None = None) -> None:
        """Run to the end, or, once ``stop.requested`` (Ctrl-C inside :func:`~dcai_lab.interrupts.between_steps`),
        to the end of the current step: ``interrupted`` is then True and nothing is settled."""
        self.stop = stop or StopRequest()
        self._bar = self._progress_bar(progress)
        try:
            self._loop(self._bar)
            if not self.stop.requested:
                self._bar.update(self._bar.total - self._bar.n)  # the last tick may fall short of the horizon
        finally:
            self._bar.close()
        self.interrupted = self.stop.requested
        if not self.interrupted:
            self._finish(progress)

    def _progress_bar(self, progress: bool):
        """A bar whose total is the work the run will really do: simulated hours up to where the loop stops,
        or, when the run goes on until the data is used up, the samples to contribute (how many of the
        pool's samples a fixed duration gets through depends on the schedule, not the pool)."""
        if self.config.until_all_claimed:
            return progress_bar(progress, total=len(self.pool), desc=self.config.name, unit="sample",
                                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} samples contributed "
                                           "[{elapsed}<{remaining}]")
        total = round((self._horizon() - self.start) / 3600, 1)
        return progress_bar(progress, total=total, desc=self.config.name, unit="h",
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} simulated hours "
                                       "[{elapsed}<{remaining}]")

    def _horizon(self) -> int:
        """The simulated time the loop stops at: after the last contribution, the clock runs on until every
        claim has come due."""
        end, step = self._bounds()
        return end + self.mechanism.claims_due_after + step

    def _tail(self, step: int) -> int:
        """How long a run that goes on until every deposit is claimed runs after its last contribution: until
        deposits can be swept (when contributors sweep), else until claims come due; plus one tick."""
        sweep = self.mechanism.sweep_after if self.config.sweeps else None
        return (sweep or self.mechanism.claims_due_after) + step

    def _bounds(self) -> tuple[int, int]:
        """The end of contributions and the evaluation interval."""
        step = max(1, int(self.config.eval_interval_hours * 3600))
        if self.config.until_all_claimed:
            return None, step
        return self.start + int(self.config.duration_days * 86_400), step

    def _schedule(self) -> tuple[list, int, int]:
        """The contributors' first turns as a heap of (time, agent index), the end of contributions and the
        evaluation interval."""
        queue = [(self.start + self._wait(kind), i) for i, (_, kind, _) in enumerate(self.agents)]
        heapq.heapify(queue)
        return (queue, *self._bounds())

    def _loop(self, bar) -> None:
        queue, end, step = self._schedule()
        until_claimed = self.config.until_all_claimed
        at_own_events = self.config.claims == "at-own-events"
        # After the last contribution, the clock runs on until every claim has come due, so that final
        # balances count refunds and reports and not deposits still held. A run that goes on until every
        # deposit is claimed learns when its contributions end only when the data (or the contributors) run out.
        settled = None if until_claimed else self._horizon()
        next_eval = self.start
        while not self.stop.requested:
            contributing = bool(queue and self.pool) and (until_claimed or queue[0][0] <= end)
            if settled is None and not contributing:
                settled = max(self.chain.now, next_eval - step) + self._tail(step)
            if until_claimed and not self.pool and not self.open:
                break  # every sample contributed, every deposit claimed
            acting = contributing or (at_own_events and queue and self.open)
            next_event = queue[0][0] if acting else float("inf")
            limit = float("inf") if settled is None else settled
            if next_eval <= min(next_event, limit):
                self._move_to(next_eval)
                if not at_own_events:
                    self._claims()
                self._evaluate()
                next_eval += step
                continue
            if next_event > limit:
                break
            self._turn(queue, bar, at_own_events)
        if until_claimed or self.stop.requested:
            self._evaluate()  # where the run ends, between ticks

    def _turn(self, queue, bar, claim: bool = False) -> None:
        t, i = heapq.heappop(queue)
        name, kind, _ = self.agents[i]
        if self.pool and kind.contributes:
            self._contribute(t, i)
        else:
            self._move_to(t)
        if claim:
            self._claims(acting=name)
        if self.balance[name] > 0:  # a contributor at zero stops
            heapq.heappush(queue, (t + self._wait(self.agents[i][1]), i))

    def _finish(self, progress: bool) -> None:
        """What happens after the loop: nothing here; a market settles."""

    # -- one step ------------------------------------------------------------------------------
    def _wait(self, kind) -> int:
        if kind.wait_std is None:
            return max(1, int(self.rng.exponential(kind.interval)))
        return max(1, int(self.rng.normal(kind.interval, kind.wait_std)))

    def _move_to(self, t: int) -> None:
        if t > self.chain.now + 1:
            self.chain.time_travel(t - self.chain.now)
        bar = getattr(self, "_bar", None)
        if bar is not None and not self.config.until_all_claimed:
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
        copy = self._copy_to_replicate(name, kind)
        index = self.pool[0] if copy is None else copy[0]
        self._move_to(t)
        required = self.system.deposit_required()
        row = {"time_h": (max(t, self.chain.now + 1) - self.start) / 3600, "contributor": name, "kind": kind.kind,
               "sample": int(index), "required_deposit": required, "copy": int(copy is not None)}
        skipped = {"label": -1, "true_label": -1, "deposit": 0, "gas_used": 0, **UNCLAIMED}
        if kind.accuracy_margin is not None and self.rng.random() >= self._accuracy() + kind.accuracy_margin:
            self.contribution_rows.append({**row, "outcome": "skipped: model not good enough", **skipped})
            return
        willing = max(0.0, self.rng.normal(kind.deposit_mean, kind.deposit_std)) * self.unit
        if required > min(willing, self.balance[name]):  # no one deposits more than it has
            outcome = "skipped: balance too low" if required > self.balance[name] else "skipped: deposit too high"
            self.contribution_rows.append({**row, "outcome": outcome, **skipped})
            return
        if copy is None:
            self.pool.pop(0)
            if self.config.until_all_claimed:
                self._bar.update(1)
            label, true = self._label(kind, index)
            self._given.setdefault(name, []).append((index, label))
        else:
            label, true = copy[1], int(self.y[index])
        c = self.system.add_data(self.X[index], label, sender=account, value=required)
        self.balance[name] -= c.deposit
        self._current = None  # the model has learnt
        self.open.append((c, name))
        self._row_of[id(c)] = {**row, "outcome": "added", "label": label, "true_label": true,
                               "deposit": c.deposit, "gas_used": c.gas_used, **UNCLAIMED}
        self.contribution_rows.append(self._row_of[id(c)])

    def _copy_to_replicate(self, name: str, kind) -> tuple[int, int] | None:
        """(sample, label) of one of the contributor's own earlier contributions to submit again, when its
        kind replicates and this turn does; else None (a new sample from the pool)."""
        given = self._given.get(name)
        if not kind.replicates or not given or self.rng.random() >= kind.replicates:
            return None
        return given[int(self.rng.integers(len(given)))]

    def _claims(self, acting: str | None = None) -> None:
        """Refunds when the model agrees, reports when it does not and the mechanism says reporting pays,
        and (when contributors sweep) taking what is left once the mechanism's any-address wait has passed.
        ``acting`` None: every contributor claims (at an evaluation tick); a name: only that contributor, at
        its own turn, oldest deposit first (the 2020 simulation's rule)."""
        if not self.open:
            return
        now = self.chain.now + 1
        # open is in the order of adding and every deposit waits as long: the due ones come first
        k = 0
        while k < len(self.open) and now >= self.open[k][0].added_time + self.mechanism.claims_due_after:
            k += 1
        if not k:
            return
        due = self.open[:k]
        model = self._model()
        agrees = model.predict(self._open_samples(k, model)) == np.array([c.label for c, _ in due])
        everyone = {name: (kind, account) for name, kind, account in self.agents}
        names = everyone if acting is None else {acting: everyone[acting]}
        sweep_after = self.mechanism.sweep_after if self.config.sweeps else None
        claimers = {n for n, (kind, _) in everyone.items() if kind.claims}
        settled = set()
        valid = {}  # validated contributions per account: only refunds change them, and they all come first

        def num_valid(account):
            if account not in valid:
                valid[account] = self.system.num_valid(account)
            return valid[account]

        for (c, author), ok in zip(due, agrees):
            if ok and author in names and names[author][0].claims:
                paid = self.system.refund(c)
                self.balance[author] += paid
                self._row_of[id(c)].update(validated=1, refund=int(paid))
                self.points[author] += self.mechanism.pays_points
                settled.add(id(c))
        for (c, author), ok in zip(due, agrees):
            if id(c) in settled:
                continue
            left = self.system.claimable(c)
            sweepable = sweep_after is not None and now >= c.added_time + sweep_after
            if ok and not sweepable:
                continue  # its author may still claim it
            turns = self._turns.setdefault(id(c), set())
            reporters = names.items()
            if everyone[author][0].colludes:  # the author's ring reports first (a stable sort keeps the rest)
                reporters = sorted(reporters, key=lambda item: not item[1][0].colludes)
            for name, (kind, account) in reporters:
                if name == author or not kind.claims:
                    continue
                turns.add(name)
                if sweepable:  # what is left goes to whoever takes it first (each address claims once)
                    if left > 0 and not self.system.has_claimed(c, account):
                        amount = self.system.report(c, sender=account)
                        self.balance[name] += amount
                        self._row_of[id(c)]["taken"] += int(amount)
                        left -= amount
                    continue
                if not self.mechanism.worth_reporting(left, lambda: num_valid(account)):
                    continue
                if self.system.has_claimed(c, account):
                    continue
                try:
                    amount = self.system.report(c, sender=account)
                except ContractRevert as refused:
                    if refused.error != "ShareRoundsToZero":
                        raise
                    continue  # its share is worth nothing yet: the claim stays for later
                self.balance[name] += amount
                self.points[name] += self.mechanism.pays_points
                row = self._row_of[id(c)]
                row.update(taken=row["taken"] + int(amount), reports=row["reports"] + 1,
                           reported_by=row["reported_by"] or name)
                left -= amount
                if self.mechanism.reports_once:
                    settled.add(id(c))  # its one report point is taken
                    break
            # Settled once the mechanism needs no more claims: a deposit claimed in full, or, with nothing
            # deposited (Points), once every contributor who could report it has had its turn.
            if id(c) in settled:
                continue
            if self.mechanism.settled(left) and (c.deposit > 0 or turns >= claimers - {author}):
                settled.add(id(c))
        self._close(settled)

    def _model(self):
        """The deployed model's twin. Only an added contribution changes the model, so the twin read after
        the last one serves every claim and evaluation until the next (reading it from a chain is costly)."""
        if self._current is None:
            self._current = self.system.twin()
        return self._current

    def _open_samples(self, k: int, model):
        """The first ``k`` open contributions' samples as one input to ``model.predict``. The open samples
        are kept converted and stacked in the order of ``open`` (the 2020 profile's claims ask about the same
        open deposits at every turn: converting and stacking them each time would cost more than the run)."""
        if self._stack_size < len(self.open):  # contributions added since, converted together
            rows = model.prepare([c.data for c, _ in self.open[self._stack_size:]])
            if sp.issparse(rows):
                self._stack = rows if self._stack is None else sp.vstack([self._stack, rows], format="csr")
            else:  # dense rows (an array, which + would add elementwise): a list of them
                self._stack = (self._stack or []) + list(rows)
            self._stack_size = len(self.open)
        return self._stack[:k]

    def _close(self, settled: set) -> None:
        """Drop settled contributions from ``open`` and from the stacked samples."""
        keep = [i for i, (c, _) in enumerate(self.open) if id(c) not in settled]
        if len(keep) == len(self.open):
            return
        if self._stack is not None:
            self._stack = self._stack[keep] if sp.issparse(self._stack) else [self._stack[i] for i in keep]
        self.open = [self.open[i] for i in keep]
        self._stack_size = len(self.open)
        for key in settled:
            self._turns.pop(key, None)
            self._row_of.pop(key, None)

    def _accuracy(self) -> float:
        """The last measured accuracy (what a contributor sees of the model)."""
        return self.accuracy_rows[-1]["accuracy"] if self.accuracy_rows else 0.0

    def _evaluate(self) -> None:
        model = self._model()
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
        awards_badges = hasattr(self.mechanism, "badge_names")
        for name, kind, account in self.agents:
            row = {"time_h": t, "contributor": name, "kind": kind.kind,
                   "balance_percent": 100 * self.balance[name] / start, "points": self.points[name]}
            if awards_badges:
                row["badges"] = self._badges_of(name, account)
            self.balance_rows.append(row)

    def _badges_of(self, name: str, account: str) -> str:
        """A contributor's badges, space-separated names, read from the system again only when its points
        have changed since (every badge comes with a point)."""
        points = self.points[name]
        if self._badges.get(name, (None,))[0] != points:
            self._badges[name] = (points, " ".join(self.system.badges(account)) if points else "")
        return self._badges[name][1]


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
        while queue and self.pool and queue[0][0] <= self._end and not self.stop.requested:
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
        self._current = None  # the reward rounds replay contributions through the model
        for name, _, account in self.agents:
            if self.system.claimable(account):
                self.balance[name] += self.system.withdraw(account)
        self._evaluate()

    def _contribute(self, t: int, i: int) -> None:
        name, kind, account = self.agents[i]
        self._move_to(t)
        if self.balance[name] < self.mechanism.min_stake:  # no one stakes more than it has
            self.contribution_rows.append({"time_h": (self.chain.now - self.start) / 3600, "contributor": name,
                                           "kind": kind.kind, "sample": int(self.pool[0]),
                                           "required_deposit": self.mechanism.min_stake,
                                           "outcome": "skipped: balance too low", "label": -1, "true_label": -1,
                                           "deposit": 0, "gas_used": 0})
            return
        copy = self._copy_to_replicate(name, kind)
        if copy is None:
            index = self.pool.pop(0)
            label, true = self._label(kind, index)
            self._given.setdefault(name, []).append((index, label))
        else:
            (index, label), true = copy, int(self.y[copy[0]])
        entry = self.system.add_data(self.X[index], label, sender=account)
        self.balance[name] -= entry.stake
        self.contribution_rows.append({"time_h": (self.chain.now - self.start) / 3600, "contributor": name,
                                       "kind": kind.kind, "sample": int(index), "required_deposit": entry.stake,
                                       "copy": int(copy is not None), "outcome": "added", "label": label,
                                       "true_label": true, "deposit": entry.stake, "gas_used": entry.gas_used})

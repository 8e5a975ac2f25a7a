"""The prediction market on chain (:class:`Market`, :func:`deploy_market`) and its exact Python twin
(:func:`settle`), which reproduces the contract's payouts to the wei.

Protocol: ``contracts/incentives/PredictionMarket.sol`` documents it; in short, a provider commits to a
hidden test set in hashed pieces and deposits a bounty; contributors stake on their data; after the
reveal, rounds of replaying the contributions score each contributor by the change in correct test
predictions their updates caused, move balances by score times the number of rounds the worst negative
score allows, drop whoever cannot pay another round, and finally divide the pool by positive scores.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from eth_abi import encode
from eth_utils import keccak

from . import abi, inputs
from .deployed import DeployedModel, Payout, deploy_model
from .errors import ContractRevert
from .models import ChainModel
from .progress import bar as progress_bar

PHASES = ("initialisation", "participation", "reveal", "reward", "collection", "cancelled")
STAGES = ("restore", "baseline", "replay", "scan", "apply")
# Saving a word: a cold read and a fresh write, plus the loop.
GAS_PER_SAVED_WORD = 2_100 + 22_100 + 200


def split_pieces(X, y, pieces: int) -> list[tuple[list[list[int]], list[int]]]:
    """The test set in ``pieces`` contiguous pieces, as the contract hashes them."""
    bounds = np.linspace(0, len(y), pieces + 1).astype(int)
    return [([inputs.sample(x, where=f"test sample {i}") for i, x in enumerate(X[a:b], start=a)],
             inputs.labels(y[a:b], where="test labels")) for a, b in zip(bounds[:-1], bounds[1:])]


def piece_hash(data, labels) -> bytes:
    """keccak256(abi.encode(int64[][] data, uint64[] labels)): a piece's commitment."""
    return keccak(encode(["int64[][]", "uint64[]"], [data, labels]))


@dataclass(frozen=True)
class Entry:
    """One contribution to the market, as its Contribution event recorded it (``gas_used``: of the
    transaction that made it, None when rebuilt from logs)."""

    index: int
    author: str
    data: tuple[int, ...]
    label: int
    stake: int
    gas_used: int | None = field(default=None, compare=False)


@dataclass
class Settlement:
    """What :func:`settle` computes: final balances (wei), the pool returned to the provider, and one row
    per contributor per round (score, balance after, dropped)."""

    balances: dict[str, int]
    returned_to_provider: int
    rounds: list[dict] = field(default_factory=list)
    model: ChainModel | None = None

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.rounds)


def settle(initial_model: ChainModel, entries: list[Entry], test_pieces, bounty: int, provider: str) -> Settlement:
    """The reward phase in Python, with the contract's integer arithmetic: the market's twin.

    ``test_pieces`` are the scored pieces (the sample piece excluded) as ``(data, labels)`` pairs.
    Returns balances as the contract's accounts hold them when collection opens.
    """
    X_test = [x for data, _ in test_pieces for x in data]
    y_test = np.array([v for _, labels in test_pieces for v in labels])

    def correct(model) -> int:
        return int((model.predict(X_test) == y_test).sum()) if len(y_test) else 0

    participants, balances = [], {}
    for e in entries:
        if e.author not in balances:
            participants.append(e.author)
            balances[e.author] = 0
        balances[e.author] += e.stake
    balances.setdefault(provider, 0)
    active = set(participants)
    pool, round_ = bounty, 0
    rows = []
    while True:
        model = copy.deepcopy(initial_model)
        start = prev = correct(model)
        scores = {a: 0 for a in active}
        pending = None
        for e in entries:
            if e.author not in active:
                continue
            if pending is not None and pending != e.author:
                now = correct(model)
                scores[pending] += now - prev
                prev, pending = now, None
            try:
                model.partial_fit([list(e.data)], [e.label])
            except OverflowError:  # the contract's model refuses it; nothing changes
                continue
            pending = e.author
        if pending is not None:
            now = correct(model)
            scores[pending] += now - prev
            prev = now
        total = prev - start
        negative = [a for a in active if scores[a] < 0]
        last = not negative
        if negative:
            r = min(balances[a] // -scores[a] for a in negative)
            if total > 0 and pool // total < r:
                r, last = pool // total, True
        else:
            r = pool // total if total > 0 else 0
        for a in participants:
            if a not in active:
                continue
            balances[a] += scores[a] * r
            dropped = scores[a] < 0 and balances[a] < -scores[a]
            if dropped:
                active.discard(a)
            rows.append({"round": round_, "contributor": a, "score": scores[a], "rounds": r,
                         "balance": balances[a], "dropped": dropped})
        pool -= total * r
        round_ += 1
        if last or not active:
            balances[provider] += pool
            return Settlement(balances, pool, rows, model)


class Market:
    """A deployed prediction market; use :func:`deploy_market` (or ``chain.deploy_market``).

    ``contract`` and ``model_contract`` are web3 contracts; ``mechanism`` the spec; ``pieces`` the provider's
    test set as committed (the provider's secret until revealed).
    """

    def __init__(self, chain, contract, model: DeployedModel, mechanism, pieces, initial_model, first_block: int = 0):
        self.chain, self.contract, self.deployed = chain, contract, model
        self.first_block = first_block  # the market's deployment: its events are not older
        self.mechanism, self.pieces = mechanism, pieces
        self.initial_model = initial_model
        self.provider = self.chain.call(contract.functions.provider())
        self.sample_index = self.chain.call(contract.functions.sampleIndex())

    def __repr__(self):
        return (f"<Market at {self.contract.address}: {self.deployed.twin_class.__name__}, phase {self.phase}, "
                f"{self.num_contributions} contributions>")

    # -- state ------------------------------------------------------------------------------------
    @property
    def phase(self) -> str:
        return PHASES[self.chain.call(self.contract.functions.progress())[0]]

    def progress(self) -> dict:
        """Where the reward phase stands, read from the chain: the stage, its cursor, and the evaluation
        under way (``eval_piece``, ``eval_sample``: the scoring piece and sample it continues at)."""
        (phase, stage, pending, any_negative, round_, cursor, active, evaluating, eval_piece, eval_sample,
         _) = self.chain.call(self.contract.functions.progress())
        return {"phase": PHASES[phase], "stage": STAGES[stage], "round": round_, "cursor": cursor,
                "active": active, "evaluating": evaluating, "eval_piece": eval_piece, "eval_sample": eval_sample,
                "pool": self.chain.call(self.contract.functions.pool())}

    @property
    def model_contract(self):
        return self.deployed.model_contract

    @property
    def num_classes(self) -> int:
        return self.deployed.num_classes

    @property
    def num_contributions(self) -> int:
        return self.chain.call(self.contract.functions.numContributions())

    @property
    def min_stake(self) -> int:
        return self.chain.call(self.contract.functions.minStake())

    @property
    def scoring_pieces(self) -> list:
        """The pieces the rewards are scored on: every piece but the sample, in order."""
        return [p for i, p in enumerate(self.pieces) if i != self.sample_index]

    def participants(self) -> list[str]:
        f = self.contract.functions
        return [self.chain.call(f.participants(i)) for i in range(self.chain.call(f.numParticipants()))]

    def claimable(self, account: str) -> int:
        return self.chain.call(self.contract.functions.claimable(account))

    def total_owed(self) -> int:
        """The pool plus every balance: always equal to the contract's ether."""
        return self.chain.call(self.contract.functions.totalOwed())

    def balances(self) -> pd.DataFrame:
        """Each participant's (and the provider's) balance held by the market and claimable now."""
        rows = []
        for a in dict.fromkeys(self.participants() + [self.provider]):
            balance, score, _, active, _ = self.chain.call(self.contract.functions.accounts(a))
            rows.append({"account": a, "balance": balance, "active": active, "claimable": self.claimable(a)})
        return pd.DataFrame(rows)

    def entries(self) -> list[Entry]:
        """Every contribution, rebuilt from the market's Contribution events."""
        logs = self.contract.events.Contribution().get_logs(from_block=self.first_block)
        return [Entry(e.args.index, e.args.author, tuple(e.args.data), e.args.label, e.args.stake) for e in logs]

    def twin(self, **params) -> ChainModel:
        """A twin holding the market's model as it is now."""
        return self.deployed.twin(**params)

    def expected_settlement(self) -> Settlement:
        """The twin's settlement of this market's contributions: what processing the rewards must give."""
        return settle(self.initial_model, self.entries(), self.scoring_pieces, self.mechanism.bounty, self.provider)

    # -- actions ----------------------------------------------------------------------------------
    def add_data(self, x, label: int, *, sender: str | None = None, value: int | None = None) -> Entry:
        """Contribute one sample with the minimum stake (or ``value``; the excess is returned)."""
        sender = sender or self.chain.accounts[0]
        value = self.min_stake if value is None else value
        receipt = self.chain.transact(self.contract.functions.addData(self.deployed.encode(x), inputs.label(label)),
                                      sender=sender, value=value, operation="add_data")
        e = abi.event(self.contract, "Contribution", receipt)
        return Entry(e["index"], e["author"], tuple(e["data"]), e["label"], e["stake"], receipt["gasUsed"])

    def predict(self, x) -> int:
        """Free prediction by the market's model (a call, no transaction)."""
        return self.deployed.predict(x)

    def evaluate(self, X, y) -> int:
        """Number of samples the market's model classifies correctly (one call)."""
        return self.deployed.evaluate(X, y)

    def end_participation(self, *, sender: str | None = None) -> None:
        self.chain.transact(self.contract.functions.endParticipation(), sender=sender, operation="end", phase="market")

    def reveal(self) -> None:
        """The provider reveals every piece but the sample, one transaction each."""
        for i, (data, labels) in enumerate(self.pieces):
            if i != self.sample_index:
                self.chain.transact(self.contract.functions.revealPiece(i, data, labels), sender=self.provider,
                                    operation="reveal", phase="market")

    def cancel(self, *, sender: str | None = None) -> None:
        """Cancel the market: the provider before participation; anyone after the reveal deadline (test set
        not revealed) or the reward deadline (rewards not processed). Stakes come back with a share of the
        bounty."""
        self.chain.transact(self.contract.functions.cancel(), sender=sender or self.provider, operation="cancel",
                            phase="market")

    def process_rewards(self, *, batch: int = 64, reserve_gas: int | None = None, samples_per_step: int | None = None,
                        sender: str | None = None, progress: bool = True) -> int:
        """Drive the reward rounds to the end, one transaction at a time (each as far as its gas goes).

        ``batch`` contributions are passed per transaction. Each transaction carries every scoring piece when
        they fit in a quarter of the transaction gas limit as calldata, else only the piece the evaluation
        under way needs (carrying and hashing them within a quarter of the transaction gas limit). ``samples_per_step`` test samples are evaluated per step (None: whole pieces, halved
        whenever a step does not fit in a transaction). ``reserve_gas`` is the gas a step may use at most
        (default: a third of the transaction gas limit). Returns the number of transactions.
        """
        if self.phase != "reward":
            raise RuntimeError(f"the market is in its {self.phase} phase: rewards are processed after the reveal "
                               "(end_participation(), then reveal())")
        entries = self.entries()
        test = [(data, labels) for data, labels in self.scoring_pieces]
        limit = self.chain.tx_gas_limit
        carry_all = _carry_gas(test) <= limit // 4
        reserve = reserve_gas or limit // 3
        step = samples_per_step or 0
        sent = 0
        bar = progress_bar(progress, desc="reward rounds", unit="tx")
        state = self.progress()
        while state["phase"] == "reward":
            start = state["cursor"] if state["stage"] == "replay" else 0
            chunk = [(list(e.data), e.label, e.author) for e in entries[start:start + batch]]
            first = 0 if carry_all or not state["evaluating"] else state["eval_piece"]
            pieces = test if carry_all else test[first:first + 1]
            call = self.contract.functions.processRewards(first, pieces, step, start, chunk, reserve)
            try:
                self.chain.transact(call, sender=sender, operation="reward", phase="market")
                moved = self.progress()
            except ContractRevert as err:
                if err.error != "StepOutOfGas":
                    raise
                moved = state
            sent += 1
            bar.set_postfix(round=state["round"], stage=state["stage"], cursor=state["cursor"], refresh=False)
            bar.update()
            if moved == state:  # a step did not fit in a transaction: evaluate fewer samples per step
                if step == 1:
                    raise RuntimeError(f"the reward phase cannot progress: one step at {state} does not fit in a "
                                       f"transaction of {limit:,} gas with {reserve:,} reserved; lower reserve_gas "
                                       "or use a chain with a larger gas limit")
                step = max(1, (step or max(len(labels) for _, labels in test)) // 2)
            state = moved
        bar.close()
        return sent

    def settle(self, *, progress: bool = True, **kwargs) -> int:
        """End participation, reveal and process every round: the market's whole second half."""
        self.end_participation()
        self.reveal()
        return self.process_rewards(progress=progress, **kwargs)

    def withdraw(self, account: str) -> Payout:
        """``account`` withdraws what the market owes it; returns the amount."""
        receipt = self.chain.transact(self.contract.functions.withdraw(), sender=account, operation="withdraw")
        amount = abi.event(self.contract, "Withdrawal", receipt)["amount"]
        return Payout(amount, receipt["gasUsed"])

    def take_unclaimed(self, account: str, *, sender: str) -> Payout:
        receipt = self.chain.transact(self.contract.functions.takeUnclaimed(account), sender=sender,
                                      operation="withdraw")
        amount = abi.event(self.contract, "Withdrawal", receipt)["amount"]
        return Payout(amount, receipt["gasUsed"])


def calldata_gas(pieces) -> int:
    """What carrying ``pieces`` as calldata costs at most: the larger of the standard price (4 gas per zero
    byte, 16 per other byte) and the EIP-7623 floor (10 per zero byte, 40 per other)."""
    data = encode(["(int64[][],uint64[])[]"], [[(list(map(list, d)), list(l)) for d, l in pieces]])
    zeros = data.count(0)
    return max(4 * zeros + 16 * (len(data) - zeros), 10 * zeros + 40 * (len(data) - zeros))


#: What checking a piece against its commitment may cost per byte of its encoding (re-encoding each value
#: into memory and hashing it; about 6 measured, the contract's HASH_GAS_PER_BYTE).
HASH_GAS_PER_BYTE = 8


def _carry_gas(pieces) -> int:
    """A transaction carrying ``pieces`` and checking them: its base cost, the calldata and the hashing."""
    size = len(encode(["(int64[][],uint64[])[]"], [[(list(map(list, d)), list(l)) for d, l in pieces]]))
    return 21_000 + calldata_gas(pieces) + HASH_GAS_PER_BYTE * size


def deploy_market(chain, model: ChainModel, X_test, y_test, mechanism, *, owner: str | None = None,
                  encoder=None, secret: bytes | None = None) -> Market:
    """Deploy a prediction market as its provider: the model with the twin's state, the market with the
    bounty and the commitments to ``(X_test, y_test)`` in ``mechanism.pieces`` pieces; bind the model, save
    its initial state and reveal the piece drawn from ``secret`` (committed to at deployment) and the next
    block's hash, which opens participation. ``secret`` (32 bytes) defaults to one derived from the test
    set, which only the provider knows until the reveal, so that seeded runs repeat; pass random bytes
    (``os.urandom(32)``) when the draw must be unpredictable to anyone who knows the test set.

    ``mechanism`` is an :class:`dcai_lab.incentives.PredictionMarket` (``dcai_lab.deploy_market`` and
    ``chain.deploy_market`` default it). Set-up is in the gas ledger's ``deploy`` phase, the provider's later
    steps in its ``market`` phase.
    """
    if not getattr(mechanism, "settles_in_rounds", False):
        raise TypeError(f"a market needs a prediction-market spec (incentives.PredictionMarket), got "
                        f"{type(mechanism).__name__}")
    if len(y_test) < mechanism.pieces:
        raise ValueError(f"the test set has {len(y_test)} samples, fewer than the {mechanism.pieces} pieces")
    owner = owner or chain.accounts[0]
    pieces = split_pieces(X_test, y_test, mechanism.pieces)
    _check_pieces_fit(chain, pieces, mechanism)
    deployed = deploy_model(chain, model, owner, encoder=encoder)
    model_contract = deployed.model_contract
    hashes = [piece_hash(d, l) for d, l in pieces]
    secret = keccak(b"dcai-lab sample draw" + b"".join(hashes)) if secret is None else bytes(secret)
    if len(secret) != 32:
        raise ValueError(f"secret must be 32 bytes, got {len(secret)}")
    market = chain.deploy("PredictionMarket", model_contract.address,
                          *mechanism.constructor_args(hashes, keccak(encode(["bytes32"], [secret]))),
                          sender=owner, value=mechanism.bounty)
    first_block = chain.gas.records[-1].block_number
    chain.transact(model_contract.functions.setTrainer(market.address), sender=owner, operation="bind",
                   phase="deploy")
    total = chain.call(model_contract.functions.numWords())
    per_tx = max(1, (chain.tx_gas_limit * 9 // 10 - 100_000) // GAS_PER_SAVED_WORD)
    for _ in range(max(1, -(-total // per_tx))):
        chain.transact(market.functions.saveModel(per_tx), sender=owner, operation="save model", phase="deploy")
    sample = chain.call(market.functions.drawnSample(secret))  # the saving's blocks put the draw block behind
    chain.transact(market.functions.revealSample(secret, *pieces[sample]), sender=owner, operation="reveal sample",
                   phase="market")
    return Market(chain, market, deployed, mechanism, pieces, copy.deepcopy(model), first_block)


def _check_pieces_fit(chain, pieces, mechanism) -> None:
    """Refuse a test set whose largest piece could not be revealed, or carried by a reward transaction
    with room to evaluate it, under the chain's per-transaction gas limit: the market could never finish."""
    limit = chain.tx_gas_limit
    largest = max(range(len(pieces)), key=lambda i: calldata_gas(pieces[i:i + 1]))
    need = _carry_gas(pieces[largest:largest + 1])
    if need > limit // 2:  # the other half: at least one step of evaluation beside it
        data, labels = pieces[largest]
        values = sum(len(x) for x in data)
        more = -(-mechanism.pieces * need // (limit // 2))
        raise ValueError(f"test-set piece {largest} ({len(labels)} samples, {values:,} values) needs about {need:,} gas "
                         f"to carry in one transaction, more than half the per-transaction limit of {limit:,}: the "
                         f"market could not finish. Split the test set into more pieces (pieces = {more} or more) or "
                         "use fewer test samples (test_size) or features")

"""Random sequences of transactions against every mechanism, with the money checked after each one.

    python benchmarks/fuzz.py --json                     one JSON object per mechanism
    python benchmarks/fuzz.py --sequences 200 --steps 40

For Deposit-Refund-Take, Points and the prediction market, each sequence deploys a fresh system and
plays random actions from four accounts and one re-entering contract (Deposit-Refund-Take and Points:
it tries to claim its refund again from inside the payment). After every transaction, mined or
reverted, it checks:

- the contract holds exactly what it still owes: the trainer's ether equals the sum of what every record
  can still pay (the data handler's ``claimable``); the market's ether equals ``totalOwed()``;
- every account's ether moved by exactly what the rules say (deposit or stake out, the excess back, the
  payout in) minus the transaction's fee (gas used times its price);
- the re-entering contract never claimed twice.

A violation is any check that fails; the JSON rows count sequences, transactions, seconds and
violations, with the first few violations described. Runs on the embedded py-evm chain or, with
``--backend edr``, on the fast engine; every sequence starts from the same fresh chain (a snapshot).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dcai_lab import Chain, ContractRevert, incentives, models  # noqa: E402

HOUR, DAY = 3600, 86_400
N_FEATURES = 16


def sparse_twin(rng):
    twin = models.SparsePerceptron(n_features=N_FEATURES, max_iter=1, shuffle=False)
    twin.set_state(rng.integers(-3000, 3000, N_FEATURES), 0)
    return twin


def sample(rng):
    return sorted(rng.choice(N_FEATURES, int(rng.integers(1, 5)), replace=False).tolist())


class Ledger:
    """What each account's ether should be: the chain's balances, moved by what the rules say and fees."""

    def __init__(self, chain, accounts):
        self.chain, self.expected = chain, {a: chain.balance(a) for a in accounts}

    def fee(self) -> int:
        record = self.chain.gas.records[-1]
        receipt = self.chain.w3.eth.get_transaction_receipt(record.tx_hash)
        return receipt["gasUsed"] * receipt["effectiveGasPrice"]

    def moved(self, account, amount, pays_fee=True) -> None:
        self.expected[account] += amount - (self.fee() if pays_fee else 0)

    def check(self) -> list[str]:
        return [f"{a} holds {self.chain.balance(a)}, expected {e}" for a, e in self.expected.items()
                if self.chain.balance(a) != e]


def trainer_sequence(chain, spec, rng, steps: int) -> tuple[int, list[str]]:
    """One Deposit-Refund-Take or Points sequence; returns (transactions, violations)."""
    system = chain.deploy_system(sparse_twin(rng), spec)
    users = chain.accounts[1:5]
    attacker = chain.deploy("ReentrantContributor", system.trainer.address, sender=users[0])
    ledger = Ledger(chain, users)
    made, attacker_adds, sent, violations = [], 0, 0, []
    for _ in range(steps):
        action = rng.choice(["add", "add", "wait", "refund", "report", "attack_add", "attack_refund"])
        try:
            if action == "wait":
                chain.time_travel(int(rng.choice([600, HOUR, DAY, 10 * DAY])))
                continue
            if action == "add":
                who = users[int(rng.integers(0, 4))]
                required = system.deposit_required()
                value = required + int(rng.integers(0, 3)) * 10**12
                sent += 1
                try:
                    c = system.add_data(sample(rng), int(rng.integers(0, 2)), sender=who, value=value)
                except ContractRevert:
                    ledger.moved(who, 0)
                    raise
                made.append(c)
                ledger.moved(who, -c.deposit)
            elif action in ("refund", "report") and made:
                c = made[int(rng.integers(0, len(made)))]
                who = c.author if action == "refund" else users[int(rng.integers(0, 4))]
                if who == attacker.address:
                    continue
                sent += 1
                try:
                    paid = system.refund(c) if action == "refund" else system.report(c, sender=who)
                except ContractRevert:
                    ledger.moved(who, 0)
                    raise
                ledger.moved(who, int(paid))
            elif action == "attack_add" and attacker_adds == 0:
                value = system.deposit_required()
                sent += 1
                chain.transact(attacker.functions.add(sample(rng), 1), sender=users[0], value=value)
                ledger.moved(users[0], -value)
                attacker_adds = 1
            elif action == "attack_refund" and attacker_adds:
                sent += 1
                try:
                    chain.transact(attacker.functions.claimRefund(), sender=users[0])
                finally:
                    ledger.moved(users[0], 0)
        except ContractRevert:
            pass
        claimable = sum(system.claimable(c) for c in made) + _attacker_claimable(system, attacker, chain)
        if chain.balance(system.trainer.address) != claimable:
            violations.append(f"trainer holds {chain.balance(system.trainer.address)}, owes {claimable}")
        violations += ledger.check()
        if attacker.functions.reentrySucceeded().call():
            violations.append("a re-entering contributor claimed twice")
        if violations:
            break
    return sent, violations


def _attacker_claimable(system, attacker, chain) -> int:
    """What the re-entering contract's contribution can still pay, read from the trainer's events."""
    total = 0
    for c in system.contributions():
        if c.author == attacker.address:
            total += system.claimable(c)
    return total


def market_sequence(chain, rng, steps: int) -> tuple[int, list[str]]:
    """One prediction-market sequence: random contributions, then a random ending (settled, not revealed
    and cancelled, or rewards abandoned and cancelled), then random withdrawals."""
    twin = sparse_twin(rng)
    X_test = [sample(rng) for _ in range(12)]
    y_test = rng.integers(0, 2, 12).tolist()
    spec = incentives.PredictionMarket(bounty=int(rng.integers(1, 10**18)), min_stake=int(rng.integers(1, 10**16)),
                                       pieces=3, test_size=12, min_contributions=2**32, min_duration=HOUR,
                                       reveal_wait=HOUR, reward_wait=HOUR, claim_wait=DAY)
    market = chain.deploy_market(twin, X_test, y_test, spec)
    users = chain.accounts[1:5]
    ledger = Ledger(chain, users + [market.provider])
    sent, violations = 0, []

    def check():
        if chain.balance(market.contract.address) != market.total_owed():
            violations.append(f"market holds {chain.balance(market.contract.address)}, owes {market.total_owed()}")
        violations.extend(ledger.check())

    for _ in range(int(rng.integers(1, max(2, steps // 2)))):
        who = users[int(rng.integers(0, 4))]
        value = spec.min_stake + int(rng.integers(0, 3))
        sent += 1
        try:
            market.add_data(sample(rng), int(rng.integers(0, 2)), sender=who, value=value)
            ledger.moved(who, -spec.min_stake)
        except ContractRevert:
            ledger.moved(who, 0)
        check()
    chain.time_travel(HOUR + 1)
    market.end_participation(sender=users[0])
    ledger.moved(users[0], 0)
    ending = rng.choice(["settle", "no_reveal", "abandoned"])
    before = len(chain.gas)
    if ending == "settle":
        market.reveal()
        market.process_rewards(progress=False, batch=int(rng.integers(1, 4)))
    elif ending == "abandoned":
        market.reveal()
    for record in chain.gas.records[before:]:
        receipt = chain.w3.eth.get_transaction_receipt(record.tx_hash)
        ledger.expected[record.sender] -= receipt["gasUsed"] * receipt["effectiveGasPrice"]
        sent += 1
    check()
    if ending != "settle":
        chain.time_travel(HOUR + 1)
        market.cancel(sender=users[1])
        ledger.moved(users[1], 0)
        check()
    for _ in range(2):  # in a random order; a second pass for what becomes due last (a cancellation's dust)
        for who in rng.permutation(users + [market.provider]).tolist():
            owed = market.claimable(who)
            if not owed:
                continue
            sent += 1
            paid = market.withdraw(who)
            if paid != owed:
                violations.append(f"{who} was owed {owed}, withdrew {paid}")
            ledger.moved(who, int(paid))
            check()
    if chain.balance(market.contract.address) != 0:
        violations.append(f"{chain.balance(market.contract.address)} wei left in the market after every withdrawal")
    return sent, violations


def fuzz(mechanism: str, sequences: int, steps: int, seed: int = 0, backend: str = "py-evm") -> dict:
    rng = np.random.default_rng(seed)
    chain = Chain.edr() if backend == "edr" else Chain()
    started, transactions, found = time.time(), 0, []
    spec = {"deposit-refund-take": incentives.DepositRefundTake(cost_weight=10**12, refund_wait=DAY,
                                                                owner_claim_wait=2 * DAY, any_address_claim_wait=3 * DAY),
            "points": incentives.Points(refund_wait=DAY)}.get(mechanism)
    fresh = chain.snapshot()
    for _ in range(sequences):  # each from the same fresh chain
        with chain.anchor():
            sent, violations = (market_sequence(chain, rng, steps) if spec is None
                                else trainer_sequence(chain, spec, rng, steps))
        transactions += sent
        found += violations
    chain.revert(fresh)
    chain.close()
    return {"mechanism": mechanism, "engine": backend, "sequences": sequences, "steps": steps,
            "transactions": transactions, "seconds": round(time.time() - started, 1), "violations": len(found),
            "first_violations": found[:5], "seed": seed}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sequences", type=int, default=100, help="sequences per mechanism (default 100)")
    parser.add_argument("--steps", type=int, default=30, help="actions per sequence (default 30)")
    parser.add_argument("--mechanisms", default="deposit-refund-take,points,prediction-market")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=["py-evm", "edr"], default="py-evm",
                        help="the embedded chain (default) or the fast engine (Node and npm's edr package)")
    parser.add_argument("--json", action="store_true", help="one JSON object per mechanism (default: a line each)")
    args = parser.parse_args(argv)
    violations = 0
    for mechanism in args.mechanisms.split(","):
        row = fuzz(mechanism, args.sequences, args.steps, args.seed, args.backend)
        violations += row["violations"]
        print(json.dumps(row) if args.json else
              f"{mechanism:>20}: {row['sequences']} sequences, {row['transactions']} transactions in "
              f"{row['seconds']} s, {row['violations']} violations", flush=True)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

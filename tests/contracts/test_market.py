"""The prediction market: the contract pays exactly what its Python twin computes, never owes more than
it holds, and guards every phase."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab import Chain, ContractRevert, incentives, models
from dcai_lab.market import Entry, piece_hash, settle, split_pieces
from strategies import MODELS

_CHAIN = []


def shared_chain():
    if not _CHAIN:
        _CHAIN.append(Chain())
    return _CHAIN[0]


def assert_solvent(market):
    """The invariant: the contract's ether is exactly the pool plus every balance it owes."""
    assert market.chain.balance(market.contract.address) == market.total_owed()


@pytest.mark.slow
@pytest.mark.parametrize("kind", MODELS)
def test_contract_pays_what_the_twin_computes_and_stays_solvent(kind):
    @settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def check(data):
        twin, sample, label = data.draw(MODELS[kind]())
        test = data.draw(st.lists(st.tuples(sample, label), min_size=4, max_size=12))
        pieces = data.draw(st.integers(2, 4))
        contributions = data.draw(st.lists(st.tuples(st.integers(1, 4), sample, label), min_size=1, max_size=10))
        spec = incentives.PredictionMarket(bounty=data.draw(st.integers(1, 10**18)),
                                           min_stake=data.draw(st.integers(1, 10**17)), pieces=pieces,
                                           test_size=len(test), min_contributions=len(contributions))
        # A reserve close to the block's gas makes each transaction take a few steps, one piece per
        # transaction and a few samples per step evaluate below the piece level: resumption is tested.
        reserve = data.draw(st.sampled_from([None, 29_000_000]))
        one_piece = data.draw(st.booleans())
        per_step = data.draw(st.sampled_from([0, 1, 2, 3]))
        chain = shared_chain()
        X_test, y_test = [x for x, _ in test], [y for _, y in test]
        market = chain.deploy_market(twin, X_test, y_test, spec)
        for who, x, y in contributions:
            market.add_data(x, y, sender=chain.accounts[who])
            assert_solvent(market)
        expected = market.expected_settlement()
        market.end_participation(sender=chain.accounts[5])
        market.reveal()
        assert_solvent(market)
        while market.phase == "reward":  # one transaction at a time, checking the invariant between them
            start = market.progress()
            f = market.contract.functions
            cursor = start["cursor"] if start["stage"] == "replay" else 0
            chunk = [(list(e.data), e.label, e.author) for e in market.entries()[cursor:cursor + 3]]
            first = start["eval_piece"] if one_piece and start["evaluating"] else 0
            pieces = market.scoring_pieces[first:first + 1] if one_piece else market.scoring_pieces
            chain.transact(f.processRewards(first, pieces, per_step, cursor, chunk,
                                            reserve or chain.block_gas_limit // 3), operation="reward", phase="market")
            assert market.progress() != start, "every transaction must make progress"
            assert_solvent(market)
        assert market.phase == "collection"
        for account, balance in expected.balances.items():
            assert market.claimable(account) == balance, account
        assert market.twin().to_chain_params() == expected.model.to_chain_params()
        paid = 0
        for account in expected.balances:
            if market.claimable(account):
                paid += market.withdraw(account)
                assert_solvent(market)
        assert paid == spec.bounty + spec.min_stake * len(contributions)
        assert chain.balance(market.contract.address) == 0

    check()


def small_market(spec=None, contributions=6):
    """A dense perceptron market on the first features of breast cancer-like toy data."""
    chain = Chain()
    twin = models.DensePerceptron(n_features=2, learning_rate=1, max_abs_value=10, max_iter=1, shuffle=False)
    twin.fit([[1, 1], [-1, -1]], [1, 0])
    X_test = [[i % 5 - 2, (i * 3) % 5 - 2] for i in range(8)]
    y_test = [int(x[0] + x[1] > 0) for x in X_test]
    spec = spec or incentives.PredictionMarket(bounty=10**18, min_stake=10**16, pieces=4, test_size=8,
                                               min_contributions=contributions)
    return chain, chain.deploy_market(twin, X_test, y_test, spec), X_test, y_test


def test_phases_are_guarded_and_reveals_must_match():
    chain, market, X_test, y_test = small_market()
    alice, bob = chain.accounts[1:3]
    with pytest.raises(ContractRevert, match="StakeTooSmall"):
        market.add_data([1, 1], 1, sender=alice, value=market.min_stake - 1)
    with pytest.raises(ContractRevert, match="WrongLength"):
        market.add_data([1, 1, 1], 1, sender=alice)
    with pytest.raises(ContractRevert, match="UnknownLabel"):
        market.add_data([1, 1], 2, sender=alice)
    with pytest.raises(ContractRevert, match="WrongPhase"):
        market.reveal()
    with pytest.raises(ContractRevert, match="WrongPhase"):
        market.withdraw(alice)
    market.add_data([2, 2], 1, sender=alice, value=market.min_stake * 3)  # the excess comes back
    assert market.entries()[0].stake == market.min_stake
    with pytest.raises(ContractRevert, match="MarketStillOpen"):
        market.end_participation()
    for i in range(5):
        market.add_data([i % 3, 1], i % 2, sender=bob)
    market.end_participation(sender=bob)
    with pytest.raises(ContractRevert, match="WrongPhase"):
        market.add_data([1, 1], 1, sender=alice)
    f = market.contract.functions
    other = next(i for i in range(4) if i != market.sample_index)
    data, labels = market.pieces[other]
    with pytest.raises(ContractRevert, match="NotProvider"):
        chain.transact(f.revealPiece(other, data, labels), sender=alice)
    with pytest.raises(ContractRevert, match="RevealMismatch"):
        chain.transact(f.revealPiece(other, data, [1 - v for v in labels]))
    with pytest.raises(ContractRevert, match="AlreadyRevealed"):
        chain.transact(f.revealPiece(market.sample_index, *market.pieces[market.sample_index]))
    market.reveal()
    assert market.phase == "reward"
    entries = [(list(e.data), e.label, e.author) for e in market.entries()]
    wrong_test = [(d, [1 - v for v in l]) for d, l in market.scoring_pieces]
    with pytest.raises(ContractRevert, match="TestSetMismatch"):
        chain.transact(f.processRewards(0, wrong_test, 0, 0, entries, 10_000_000))
    forged = [(entries[0][0], entries[0][1], bob)] + entries[1:]
    with pytest.raises(ContractRevert, match="ContributionMismatch"):
        chain.transact(f.processRewards(0, market.scoring_pieces, 0, 0, forged, 10_000_000))
    with pytest.raises(ContractRevert, match="ReserveTooSmall"):
        chain.transact(f.processRewards(0, market.scoring_pieces, 0, 0, entries, 0))
    market.process_rewards(progress=False)
    # The commitments never changed, and nothing in the interface could change them.
    assert [f.pieceHashes(i).call() for i in range(4)] == [piece_hash(d, l) for d, l in market.pieces]
    writers = {item["name"] for item in market.contract.abi
               if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")}
    assert writers == {"saveModel", "revealSample", "addData", "endParticipation", "revealPiece", "cancel",
                       "processRewards", "withdraw", "takeUnclaimed"}
    with pytest.raises(ContractRevert, match="WrongPhase"):
        chain.transact(f.processRewards(0, market.scoring_pieces, 0, 0, entries, 10_000_000))


def test_a_provider_who_does_not_reveal_loses_the_bounty_to_the_contributors():
    chain, market, _, _ = small_market(contributions=3)
    alice, bob, carol = chain.accounts[1:4]
    for who in (alice, alice, bob):
        market.add_data([1, 1], 1, sender=who)
    market.end_participation()
    with pytest.raises(ContractRevert, match="RevealStillOpen"):
        market.cancel()
    chain.time_travel(market.mechanism.reveal_wait + 1)
    with pytest.raises(ContractRevert, match="RevealClosed"):
        market.reveal()
    market.cancel(sender=carol)
    assert_solvent(market)
    stake, bounty = market.min_stake, market.mechanism.bounty
    assert market.withdraw(alice) == 2 * stake + bounty * 2 // 3
    assert_solvent(market)
    assert market.claimable(market.provider) == 0
    with pytest.raises(ContractRevert, match="ClaimTooEarly"):
        market.take_unclaimed(bob, sender=carol)
    chain.time_travel(market.mechanism.claim_wait)
    assert market.take_unclaimed(bob, sender=carol) == stake + bounty // 3
    assert_solvent(market)
    with pytest.raises(ContractRevert, match="NothingToWithdraw"):
        market.withdraw(bob)


def test_an_adversary_loses_its_stake_and_honest_data_earns_the_bounty():
    chain, market, X_test, y_test = small_market(contributions=8)
    honest, adversary = chain.accounts[1:3]
    for x in ([2, 1], [-2, -1], [1, 2], [-1, -2]):
        market.add_data(x, 1 - int(sum(x) > 0), sender=adversary)
        market.add_data(x, int(sum(x) > 0), sender=honest)
    market.settle(progress=False)
    honest_balance, adversary_balance = market.claimable(honest), market.claimable(adversary)
    assert adversary_balance < 4 * market.min_stake < honest_balance
    assert market.twin().score(X_test, y_test) >= market.initial_model.score(X_test, y_test)


def test_twin_settlement_conserves_money_on_its_own():
    twin = models.SparsePerceptron(n_features=4, max_iter=1, shuffle=False).fit([[0], [1]], [1, 0])
    entries = [Entry(i, f"a{i % 3}", (i % 4,), i % 2, 10) for i in range(9)]
    pieces = split_pieces([[0], [1], [2], [3], [0, 1], [2, 3]], [1, 0, 1, 0, 1, 0], 2)
    result = settle(twin, entries, pieces[1:], bounty=1000, provider="provider")
    assert sum(result.balances.values()) == 1000 + 90
    assert all(v >= 0 for v in result.balances.values())


# -- nothing locked --------------------------------------------------------------------------------
def test_a_market_cancelled_without_contributors_returns_the_bounty_to_the_provider():
    chain, market, _, _ = small_market()
    chain.time_travel(market.mechanism.min_duration + 1)
    market.end_participation()
    chain.time_travel(market.mechanism.reveal_wait + 1)
    before = chain.balance(market.provider)
    market.cancel(sender=chain.accounts[3])
    assert market.claimable(market.provider) == market.mechanism.bounty
    paid = market.withdraw(market.provider)
    assert paid == market.mechanism.bounty and chain.balance(market.contract.address) == 0
    assert chain.balance(market.provider) - before > 0


def test_rounding_dust_of_a_cancellation_goes_to_the_provider():
    spec = incentives.PredictionMarket(bounty=10**18 + 1, min_stake=10**16, pieces=4, test_size=8, min_contributions=3)
    chain, market, _, _ = small_market(spec)
    alice, bob, carol = chain.accounts[1:4]
    for who in (alice, bob, carol):
        market.add_data([1, 1], 1, sender=who)
    market.end_participation()
    chain.time_travel(market.mechanism.reveal_wait + 1)
    market.cancel(sender=alice)
    shares = [market.withdraw(who) for who in (alice, bob, carol)]
    assert shares == [market.min_stake + spec.bounty // 3] * 3
    dust = market.claimable(market.provider)
    assert dust == spec.bounty - 3 * (spec.bounty // 3) > 0
    assert market.withdraw(market.provider) == dust and chain.balance(market.contract.address) == 0


def test_the_provider_may_cancel_before_participation_opens():
    from dcai_lab.market import piece_hash, split_pieces

    chain = Chain()
    twin = models.DensePerceptron(n_features=2, learning_rate=1, max_abs_value=10, max_iter=1, shuffle=False)
    twin.fit([[1, 1], [-1, -1]], [1, 0])
    model = chain.deploy(twin.contract_name, *twin.constructor_args())
    hashes = [piece_hash(d, l) for d, l in split_pieces([[1, 1], [2, 2], [-1, -1], [0, 1]], [1, 1, 0, 1], 2)]
    spec = incentives.PredictionMarket(bounty=10**18, pieces=2, test_size=4)
    contract = chain.deploy("PredictionMarket", model.address, *spec.constructor_args(hashes, b"\x07" * 32),
                            value=spec.bounty)
    with pytest.raises(ContractRevert, match="NotProvider"):
        chain.transact(contract.functions.cancel(), sender=chain.accounts[2])
    chain.transact(contract.functions.cancel())
    assert contract.functions.claimable(chain.accounts[0]).call() == spec.bounty
    chain.transact(contract.functions.withdraw())
    assert chain.balance(contract.address) == 0


def test_rewards_not_processed_by_the_deadline_can_be_cancelled_midway():
    chain, market, _, _ = small_market(contributions=4)
    alice, bob = chain.accounts[1:3]
    for x, who in (([2, 1], alice), ([-2, -1], bob), ([1, 2], alice), ([-1, -2], bob)):
        market.add_data(x, int(sum(x) > 0), sender=who)
    market.end_participation()
    market.reveal()
    entries = [(list(e.data), e.label, e.author) for e in market.entries()]
    f = market.contract.functions
    chain.transact(f.processRewards(0, market.scoring_pieces[:1], 1, 0, entries[:1], 10_000_000))  # a few steps
    assert market.phase == "reward"
    with pytest.raises(ContractRevert, match="RewardsStillOpen"):
        market.cancel(sender=alice)
    chain.time_travel(market.mechanism.reward_wait + 1)
    market.cancel(sender=alice)
    assert_solvent(market)
    stake, bounty = market.min_stake, market.mechanism.bounty
    assert market.withdraw(alice) == 2 * stake + bounty // 2 and market.withdraw(bob) == 2 * stake + bounty // 2
    assert chain.balance(market.contract.address) == 0 and market.total_owed() == 0


def test_every_wait_is_bounded():
    for name in ("min_duration", "reveal_wait", "reward_wait", "claim_wait"):
        with pytest.raises(ValueError, match=f"{name} must be .*at most a year"):
            incentives.PredictionMarket(**{name: 366 * 86_400})
    chain = Chain()
    with pytest.raises(ContractRevert, match="rewardWait"):
        chain.deploy("PredictionMarket", chain.accounts[1], [b"\x01" * 32] * 2, 1, 1, 0, 1, 0, 0, b"\x00" * 32, value=1)


def large_market(n_features=1000, samples=16, pieces=4, **spec):
    """The sparse perceptron on a test set of 1000-feature samples: no transaction can carry all of it."""
    chain = Chain()
    rng = np.random.default_rng(0)
    twin = models.SparsePerceptron(n_features=n_features, max_input_length=n_features, max_iter=1, shuffle=False)
    twin.fit([list(range(0, n_features, 2)), list(range(1, n_features, 2))], [1, 0])
    X_test = [np.sort(rng.choice(n_features, n_features - rng.integers(0, 50), replace=False)).tolist()
              for _ in range(samples * pieces)]
    y_test = rng.integers(0, 2, samples * pieces).tolist()
    spec = incentives.PredictionMarket(bounty=10**18, min_stake=10**16, pieces=pieces, test_size=samples * pieces,
                                       min_contributions=3, **spec)
    return chain, chain.deploy_market(twin, X_test, y_test, spec), rng


@pytest.mark.slow
def test_a_market_whose_test_set_no_transaction_can_carry_still_finishes():
    from dcai_lab.market import _carry_gas

    chain, market, rng = large_market()
    assert _carry_gas(market.scoring_pieces) > chain.tx_gas_limit // 4  # so each transaction carries one piece
    alice, bob = chain.accounts[1:3]
    for who in (alice, bob, alice):
        market.add_data(np.sort(rng.choice(1000, 30, replace=False)).tolist(), int(rng.integers(0, 2)), sender=who)
    expected = market.expected_settlement()
    market.end_participation()
    market.reveal()
    sent = market.process_rewards(progress=False)
    assert market.phase == "collection" and sent > 3
    for account, balance in expected.balances.items():
        assert market.claimable(account) == balance, account
    assert market.total_owed() == chain.balance(market.contract.address)


def test_a_test_set_too_large_to_reveal_is_refused_at_deployment():
    with pytest.raises(ValueError, match=r"piece \d+ \(64 samples.*pieces = \d+ or more"):
        large_market(samples=64, pieces=2)


def test_running_out_of_gas_in_any_step_is_named():
    """Gas limits from too little to enough for a step: every failing reward transaction names StepOutOfGas
    (or, when even the caller's bookkeeping cannot be paid, OutOfGas), never a bare revert. The margin a
    model call must leave is the contract's CALL_MARGIN (64,000: the 1/64 left after a failed call pays
    for naming the failure)."""
    chain, market, rng = large_market(n_features=200, samples=8, pieces=2)
    for who in chain.accounts[1:4]:
        market.add_data(np.sort(rng.choice(200, 20, replace=False)).tolist(), int(rng.integers(0, 2)), sender=who)
    market.end_participation()
    market.reveal()
    entries = [(list(e.data), e.label, e.author) for e in market.entries()]
    call = market.contract.functions.processRewards(0, market.scoring_pieces, 0, 0, entries, 200_000)
    failures = []
    for gas in range(300_000, 4_000_000, 100_000):
        with chain.anchor():
            try:
                chain.transact(call, gas=gas)
            except ContractRevert as err:
                failures.append((gas, err.error))
    errors = {error for _, error in failures}
    assert "StepOutOfGas" in errors and errors <= {"StepOutOfGas", "OutOfGas"}, failures


def test_the_provider_cannot_choose_the_sample_piece():
    """The draw mixes a secret committed at deployment with the hash of a block that did not exist then:
    the provider cannot draw before that block, cannot swap the secret, and cannot reveal another piece."""
    from eth_abi import encode
    from eth_utils import keccak

    from dcai_lab.market import piece_hash, split_pieces

    def deploy(chain, secret, bind=True):
        twin = models.DensePerceptron(n_features=2, learning_rate=1, max_abs_value=10, max_iter=1, shuffle=False)
        model = chain.deploy(twin.contract_name, *twin.fit([[1, 1], [-1, -1]], [1, 0]).constructor_args())
        pieces = split_pieces([[i % 5 - 2, i % 3 - 1] for i in range(16)], [i % 2 for i in range(16)], 8)
        spec = incentives.PredictionMarket(bounty=10**18, pieces=8, test_size=16)
        commitment = keccak(encode(["bytes32"], [secret]))
        market = chain.deploy("PredictionMarket", model.address,
                              *spec.constructor_args([piece_hash(d, l) for d, l in pieces], commitment), value=spec.bounty)
        if bind:
            chain.transact(model.functions.setTrainer(market.address))
        return market, model, pieces

    secret = b"\x42" * 32
    chain = Chain()
    market, model, pieces = deploy(chain, secret)
    f = market.functions
    assert f.sampleIndex().call() == 2**256 - 1  # nothing is drawn at deployment
    draws = set()
    for wait in range(1, 7):  # the same secret, test set and addresses; only the blocks' times differ
        other_chain = Chain()
        other_chain.time_travel(wait)
        other, _, _ = deploy(other_chain, secret)
        other_chain.time_travel(1)
        other_chain.transact(other_chain.w3.eth.contract(abi=[], bytecode="0x00").constructor())
        assert other.address == market.address
        draws.add(other_chain.call(other.functions.drawnSample(secret)))
    assert len(draws) > 1, "the draw block's hash must move the draw"
    chain.transact(f.saveModel(100))
    with pytest.raises(ContractRevert, match="SeedMismatch"):
        chain.call(f.drawnSample(b"\x43" * 32))
    drawn = chain.call(f.drawnSample(secret))
    other = (drawn + 1) % len(pieces)
    with pytest.raises(ContractRevert, match="SeedMismatch"):
        chain.transact(f.revealSample(b"\x43" * 32, *pieces[other]))
    with pytest.raises(ContractRevert, match="RevealMismatch"):
        chain.transact(f.revealSample(secret, *pieces[other]))
    chain.transact(f.revealSample(secret, *pieces[drawn]))
    assert f.sampleIndex().call() == drawn

    fresh = Chain()
    market, _, _ = deploy(fresh, secret, bind=False)
    with pytest.raises(ContractRevert, match="DrawNotReady"):  # no block after the deployment's yet
        fresh.call(market.functions.drawnSample(secret))

"""Points' badges: awarded at their milestones, soulbound EIP-1155 tokens, the Python rules equal to the
contract (points, validated counts, streaks, badges and badge events), and the leaderboard."""
import base64
import json

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dcai_lab import Chain, ContractRevert, incentives, reverts
from dcai_lab.incentives import Badge
from dcai_lab.offchain import GasModel, OffchainSystem

from helpers import perceptron

HOUR = 3600
#: Small thresholds and a one-minute wait, so that random sequences reach every milestone.
SMALL = incentives.Points(refund_wait=60, validated_few=2, validated_many=4, streak_length=3)
SAMPLES = [[1, 2, 3], [40, 41]]  # the small twin predicts 1, 0


def small_twin():
    """64 features, +3000 on the first half and -3000 on the second: a few updates flip no prediction."""
    return perceptron(64, [3000] * 32 + [-3000] * 32)


@pytest.fixture(scope="module")
def deployed():
    """SMALL on the embedded chain, deployed once; each test or example runs inside ``chain.anchor()``."""
    chain = Chain()
    return chain, SMALL.deploy(chain, small_twin())


def account(system, address):
    """(points, validated, streak, badge bitmap) as the contract holds them."""
    return tuple(system.chain.call(system.mechanism_contract.functions.accountOf(address)))


# -- the spec and the constructor --------------------------------------------------------------------
def test_defaults_and_the_constructor_checks(chain):
    spec = incentives.Points()
    assert (spec.validated_few, spec.validated_many, spec.streak_length) == (10, 100, 5)
    assert spec.constructor_args() == (86_400, 10, 100, 5)
    assert [spec.badge_name(b) for b in Badge] == ["first-validated", "validated-10", "validated-100",
                                                  "first-report", "streak-5"]
    for args, name in [((HOUR, 1, 100, 5), "validatedFew < 2"), ((HOUR, 10, 10, 5), "validatedMany <= validatedFew"),
                       ((HOUR, 10, 100, 1), "streakLength < 2")]:
        with reverts("InvalidParameter", name=name):
            chain.deploy("Points", *args)
        with pytest.raises(ValueError, match=name):
            incentives.Points(*args)


# -- milestones -------------------------------------------------------------------------------------
def test_each_badge_at_its_milestone(deployed):
    chain, system = deployed
    with chain.anchor():
        alice, bob, carol = chain.accounts[1:4]
        good = [system.add_data(SAMPLES[0], 1, sender=alice) for _ in range(5)]
        bad = [system.add_data(SAMPLES[0], 0, sender=alice) for _ in range(2)]
        chain.time_travel(HOUR)
        names = lambda: [(e["holder"], e["name"]) for e in system.badge_events()]  # noqa: E731
        system.refund(good[0])
        assert names() == [(alice, "first-validated")]
        system.refund(good[1])
        assert names()[1:] == [(alice, "validated-2")] and account(system, alice) == (2, 2, 2, 0b11)
        system.report(bad[0], sender=bob)  # ends alice's streak at 2, one short
        assert names()[2:] == [(bob, "first-report")] and system.chain.call(
            system.mechanism_contract.functions.streak(alice)) == 0
        system.refund(good[2])
        assert len(names()) == 3  # streak 1, validated 3: no badge
        system.refund(good[3])
        assert names()[3:] == [(alice, "validated-4")]  # streak 2: not yet
        system.refund(good[4])  # validated 5, streak 3
        assert names()[4:] == [(alice, "streak-3")]
        system.report(bad[1], sender=bob)  # a second report: a point, no badge
        assert len(names()) == 5
        assert system.points(alice) == system.num_valid(alice) == 5 and system.points(bob) == 2
        assert system.badges(alice) == ["first-validated", "validated-2", "validated-4", "streak-3"]
        assert names() == [(alice, "first-validated"), (alice, "validated-2"), (bob, "first-report"),
                           (alice, "validated-4"), (alice, "streak-3")]
        assert system.badges(bob) == ["first-report"] and system.badges(carol) == []


def test_badges_are_soulbound_erc1155_tokens(deployed):
    chain, system = deployed
    f = system.mechanism_contract.functions
    with chain.anchor():
        alice, bob = chain.accounts[1:3]
        c = system.add_data(SAMPLES[0], 1, sender=alice)
        chain.time_travel(HOUR)
        system.refund(c)
        log = system.mechanism_contract.events.TransferSingle().get_logs(from_block=system.first_block)[-1].args
        assert (log.operator, log["from"], log.to, log.id, log.value) == (system.trainer.address, "0x" + "00" * 20,
                                                                          alice, Badge.FIRST_VALIDATED, 1)
        assert chain.call(f.balanceOf(alice, 0)) == 1 and chain.call(f.balanceOf(bob, 0)) == 0
        assert chain.call(f.balanceOf(alice, 2**255)) == 0
        assert chain.call(f.balanceOfBatch([alice, bob, alice], [0, 0, 3])) == [1, 0, 0]
        with reverts("LengthMismatch", accounts=2, ids=1):
            chain.call(f.balanceOfBatch([alice, bob], [0]))
        for call in (f.safeTransferFrom(alice, bob, 0, 1, b""), f.safeBatchTransferFrom(alice, bob, [0], [1], b""),
                     f.setApprovalForAll(bob, True)):
            with reverts("Soulbound"):
                chain.transact(call, sender=alice)
        assert chain.call(f.balanceOf(alice, 0)) == 1 and not chain.call(f.isApprovedForAll(alice, bob))
        assert chain.call(f.isSoulbound(0))
    # EIP-165, EIP-1155, its metadata URI extension, EIP-5633; nothing else
    for interface, supported in [("01ffc9a7", True), ("d9b67a26", True), ("0e89341c", True), ("911ec470", True),
                                 ("ffffffff", False), ("80ac58cd", False)]:
        assert chain.call(f.supportsInterface(bytes.fromhex(interface))) is supported, interface


def test_each_badge_describes_itself_on_chain(deployed):
    chain, system = deployed
    f = system.mechanism_contract.functions
    for badge in Badge:
        prefix, encoded = chain.call(f.uri(badge)).split(",", 1)
        assert prefix == "data:application/json;base64"
        metadata = json.loads(base64.b64decode(encoded, validate=True))
        assert metadata["name"] == chain.call(f.badgeName(badge)) == SMALL.badge_name(badge)
        assert metadata["description"]
    assert chain.call(f.uri(Badge.STREAK)).count(",") == 1
    for call in (f.uri(len(Badge)), f.badgeName(len(Badge))):
        with reverts("UnknownBadge", id=len(Badge)):
            chain.call(call)


# -- the Python rules are the contract ----------------------------------------------------------------
def outcome(action):
    """What an operation gave: ok, or the named error (values left out: keys and addresses differ)."""
    try:
        action()
    except ContractRevert as err:
        return err.error
    return "ok"


def by_index(chain, rows):
    """Rows with addresses replaced by account indices (the chain's and a twin-only run's accounts differ)."""
    return [{**r, "holder": chain.accounts.index(r["holder"])} for r in rows]


def play(deployed, actions):
    """Play ``actions`` through the API users call, on the chain and twin-only (from the same deployment):
    every outcome must be the same, and so must every address's points, validated count, streak and
    badges, the badge events in order and the leaderboard. Returns the twin-only rules at the end.

    An action is (kind, who, sample, right, pick): ``add`` (account ``1 + who`` adds sample ``sample`` with
    the label the model predicts if ``right``, else the other one), ``wait`` (``30 * pick + 1`` seconds),
    ``refund`` (by its author) and ``report`` (by account ``1 + who``) of contribution ``pick`` (modulo the
    contributions made)."""
    chain, system = deployed
    with chain.anchor():
        gas_model = GasModel.fit(chain.gas.to_pandas(), [], SMALL)
        twin_chain = Chain.twin_only(start=chain.now - gas_model.deploy_transactions)
        offchain = OffchainSystem(twin_chain, small_twin(), SMALL, gas_model)
        assert twin_chain.now == chain.now
        made = []
        for kind, who, sample, right, pick in actions:
            if kind == "wait":
                for ch in (chain, twin_chain):
                    ch.time_travel(30 * pick + 1)
                continue
            if kind == "add":
                pair = []
                for side, ch in ((system, chain), (offchain, twin_chain)):
                    label = side.predict(SAMPLES[sample]) if right else 1 - side.predict(SAMPLES[sample])
                    pair.append(side.add_data(SAMPLES[sample], label, sender=ch.accounts[1 + who]))
                made.append(pair)
                continue
            if not made:
                continue
            on_chain, twin_only = made[pick % len(made)]
            if kind == "refund":
                got = (outcome(lambda: system.refund(on_chain)), outcome(lambda: offchain.refund(twin_only)))
            else:
                got = (outcome(lambda: system.report(on_chain, sender=chain.accounts[1 + who])),
                       outcome(lambda: offchain.report(twin_only, sender=twin_chain.accounts[1 + who])))
            assert got[0] == got[1], (kind, got)
        rules = offchain.rules
        for i in range(1, 5):
            a, t = chain.accounts[i], twin_chain.accounts[i]
            expected = (rules.points.get(t, 0), rules.num_valid.get(t, 0), rules.streak.get(t, 0),
                        rules.badges.get(t, 0))
            assert account(system, a) == expected, i
            assert (system.points(a), system.num_valid(a), system.badges(a)) == (
                offchain.points(t), offchain.num_valid(t), offchain.badges(t))
        assert by_index(chain, system.badge_events()) == by_index(twin_chain, offchain.badge_events())
        boards = [board.rename(index=ch.accounts.index) for board, ch in
                  ((system.leaderboard(), chain), (offchain.leaderboard(), twin_chain))]
        assert all(board["points"].is_monotonic_decreasing for board in boards)
        assert boards[0].sort_index().equals(boards[1].sort_index())  # ties are broken by address, which differ
        assert chain.now == twin_chain.now
    return rules


#: Every badge, every refusal: alice (0) adds five good samples and a bad one, bob (1) a bad one and a good
#: one; carol (2) reports alice's bad one between alice's refunds (ending her streak at 2), then bob's.
EVERY_BADGE = [("add", 0, 0, True, 0)] * 5 + [("add", 0, 0, False, 0), ("add", 1, 1, False, 0), ("add", 1, 1, True, 0),
    ("refund", 0, 0, True, 0), ("wait", 0, 0, True, 2), ("refund", 0, 0, True, 0), ("refund", 0, 0, True, 1),
    ("report", 2, 0, True, 5), ("refund", 0, 0, True, 2), ("refund", 0, 0, True, 3), ("refund", 0, 0, True, 4),
    ("refund", 0, 0, True, 7), ("report", 2, 0, True, 6), ("report", 0, 0, True, 6), ("refund", 0, 0, True, 5),
    ("report", 1, 0, True, 7), ("report", 2, 0, True, 0), ("refund", 0, 0, True, 0)]


def test_rules_award_every_badge_as_the_contract_does(deployed):
    rules = play(deployed, EVERY_BADGE)
    assert sorted({badge for _, badge in rules.badge_events}) == list(Badge)
    assert len(rules.badge_events) == 6  # alice 4 (the streak's after her fifth refund), bob 1, carol 1
    assert sorted(rules.points.values()) == [1, 2, 5]


ACTIONS = st.lists(st.tuples(st.sampled_from(["add", "add", "refund", "refund", "refund", "report", "report", "wait"]),
                             st.integers(0, 2), st.integers(0, 1), st.integers(0, 3).map(bool), st.integers(0, 40)),
                   min_size=20, max_size=50)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(actions=ACTIONS)
def test_rules_award_what_the_contract_awards(deployed, actions):
    """Random adds, waits, refunds and reports (mostly of right labels, by three accounts, so that one
    author reaches several milestones), on the chain and twin-only."""
    rules = play(deployed, actions)
    for badge in {badge for _, badge in rules.badge_events}:
        event(f"badge {Badge(badge).name}")


# -- the leaderboard ------------------------------------------------------------------------------------
def test_leaderboard(deployed):
    chain, system = deployed
    with chain.anchor():
        alice, bob, carol = chain.accounts[1:4]
        good = [system.add_data(SAMPLES[0], 1, sender=alice) for _ in range(4)]
        bad = system.add_data(SAMPLES[1], 1, sender=bob)
        bobs = system.add_data(SAMPLES[1], 0, sender=bob)
        chain.time_travel(HOUR)
        for c in good[:3]:
            system.refund(c)
        system.refund(bobs)
        system.report(bad, sender=carol)
        board = system.leaderboard()
    assert list(board.index) == [alice, bob, carol]  # by points, then badges, then validated contributions
    assert list(board.columns) == ["points", "badges", "validated", "contributions", "validated_share", "streak"]
    assert board.loc[alice].to_dict() == {"points": 3, "badges": ("first-validated", "validated-2", "streak-3"),
                                          "validated": 3, "contributions": 4, "validated_share": 0.75, "streak": 3}
    assert board.loc[bob, "validated_share"] == 0.5 and board.loc[bob, "streak"] == 0  # reported after its refund
    assert board.loc[carol, "badges"] == ("first-report",) and board.loc[carol, "contributions"] == 0
    assert board["validated_share"].isna().tolist() == [False, False, True]  # carol added nothing


def test_leaderboard_of_another_mechanism_says_why_not(chain, drt):
    system = chain.deploy_system(small_twin(), drt)
    with pytest.raises(TypeError, match="only Points awards; this system runs DepositRefundTake"):
        system.leaderboard()
    offchain = OffchainSystem(Chain.twin_only(), small_twin(), drt, GasModel())
    with pytest.raises(TypeError, match="DepositRefundTake"):
        offchain.badges(chain.accounts[1])

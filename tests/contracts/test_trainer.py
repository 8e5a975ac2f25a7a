"""CollaborativeTrainer with Deposit-Refund-Take and Points: every rule and every bad input."""
import math

import pytest

from helpers import SAMPLE, perceptron, positive_on_sample
from dcai_lab import ContractRevert, incentives, reverts

DAY = 86_400


def expected_deposit(cost_weight, elapsed):
    return cost_weight * 3600 // math.isqrt(max(1, elapsed))


# -- adding data ----------------------------------------------------------------------------------
def test_add_data_takes_the_deposit_and_returns_the_excess(system, accounts):
    chain, alice = system.chain, accounts["alice"]
    last_update = system.mechanism_contract.functions.lastUpdateTime().call()
    chain.time_travel(600)
    before = chain.balance(alice)
    c = system.add_data(SAMPLE, 1, sender=alice, value=10**18)
    receipt = chain.w3.eth.get_transaction_receipt("0x" + chain.gas.records[-1].tx_hash)
    assert c.gas_used == receipt["gasUsed"]  # the contribution carries its transaction's gas
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert c.deposit == expected_deposit(10**12, c.added_time - last_update)
    assert before - chain.balance(alice) == c.deposit + fee
    assert chain.balance(system.trainer.address) == c.deposit


def test_deposit_required_is_what_add_data_charges(system, accounts):
    system.chain.time_travel(3600)
    required = system.deposit_required()
    c = system.add_data(SAMPLE, 1, sender=accounts["alice"], value=required)
    assert c.deposit == required == expected_deposit(10**12, 3600)


def test_too_small_a_deposit_is_refused(system, accounts):
    required = system.deposit_required()
    with reverts("DepositTooSmall", required=required, sent=required - 1):
        system.add_data(SAMPLE, 1, sender=accounts["alice"], value=required - 1)


def test_every_contribution_can_be_rebuilt_from_events(system, accounts):
    sent = [([0, 5, 9], 1), (SAMPLE, 0), ([999], 1)]
    made = [system.add_data(x, y, sender=accounts["bob"]) for x, y in sent]
    rebuilt = system.contributions()
    assert rebuilt == made
    assert [(list(c.data), c.label) for c in rebuilt] == sent
    for c in made:
        key = system.data_handler.functions.keyOf(list(c.data), c.label, c.added_time, c.author).call()
        assert key == c.key
        deposit, claimable, claims, exists, refunded = system.data_handler.functions.records(key).call()
        assert (deposit, claimable, claims, exists, refunded) == (c.deposit, c.deposit, 0, True, False)


@pytest.mark.parametrize("data, label, error, args", [
    ([], 1, "EmptyData", {}),
    ([5, 3], 1, "IndicesNotIncreasing", {"position": 1}),
    ([5, 5], 1, "IndicesNotIncreasing", {"position": 1}),
    ([1, 1000], 1, "IndexOutOfRange", {"position": 1, "index": 1000, "numFeatures": 1000}),
    ([-3], 1, "IndexOutOfRange", {"position": 0, "index": -3}),
    ([1, 2], 2, "UnknownLabel", {"label": 2, "numClasses": 2}),
])
def test_bad_samples_are_refused_with_the_reason(system, accounts, data, label, error, args):
    with reverts(error, **args):
        system.add_data(data, label, sender=accounts["alice"])
    if label in (0, 1):
        with reverts(error, **args):
            system.predict(data)


def test_too_many_features_is_refused(chain, drt, accounts):
    system = chain.deploy_system(perceptron(100, max_input_length=3), drt)
    with reverts("TooManyFeatures", length=4, maxLength=3):
        system.add_data([1, 2, 3, 4], 1, sender=accounts["alice"])
    system.add_data([1, 2, 3], 1, sender=accounts["alice"])


def test_raw_text_needs_an_encoder(system):
    with pytest.raises(TypeError, match="no encoder"):
        system.predict("a great film")


# -- refunds --------------------------------------------------------------------------------------
def test_refund_after_the_wait_when_the_model_agrees(system, accounts):
    chain, alice = system.chain, accounts["alice"]
    c = system.add_data(SAMPLE, 1, sender=alice)
    with reverts("ClaimTooEarly", availableAt=c.added_time + DAY):
        system.refund(c)
    chain.time_travel(DAY - (chain.now - c.added_time))
    assert system.refund(c) == c.deposit
    assert chain.balance(system.trainer.address) == 0
    im = system.mechanism_contract.functions
    assert (im.numValid(alice).call(), im.totalValid().call()) == (1, 1)
    with reverts("AlreadyClaimed"):
        system.refund(c)


def test_refund_only_by_the_author_of_that_exact_contribution(system, accounts):
    c = system.add_data(SAMPLE, 1, sender=accounts["alice"])
    system.chain.time_travel(days=1)
    with reverts("RecordNotFound"):
        system.refund(c, sender=accounts["bob"])
    from dataclasses import replace
    with reverts("RecordNotFound"):
        system.refund(replace(c, added_time=c.added_time + 1))


def test_no_refund_when_the_model_disagrees(system, accounts):
    c = system.add_data(SAMPLE, 0, sender=accounts["alice"])  # the model still says 1
    system.chain.time_travel(days=1)
    with reverts("ModelDisagrees"):
        system.refund(c)


# -- reports (take) -------------------------------------------------------------------------------
@pytest.fixture
def bad_and_validated(system, accounts):
    """Mallory adds a sample the model disagrees with; alice (1) and bob (2) have validated ones."""
    chain = system.chain
    good = [system.add_data(SAMPLE, 1, sender=a) for a in (accounts["alice"], accounts["bob"], accounts["bob"])]
    chain.time_travel(3600)
    bad = system.add_data(SAMPLE, 0, sender=accounts["mallory"], value=10**18)
    chain.time_travel(days=1)
    for c in good:
        system.refund(c)
    return bad


def test_report_takes_a_share_by_validated_contributions(system, accounts, bad_and_validated):
    bad = bad_and_validated
    taken_alice = system.report(bad, sender=accounts["alice"])
    assert taken_alice == bad.deposit * 1 // 3
    taken_bob = system.report(bad, sender=accounts["bob"])
    assert taken_bob == min(bad.deposit * 2 // 3, bad.deposit - taken_alice)
    deposit, claimable, claims, *_ = system.data_handler.functions.records(bad.key).call()
    assert (claimable, claims) == (bad.deposit - taken_alice - taken_bob, 2)
    with reverts("AlreadyClaimed"):
        system.report(bad, sender=accounts["alice"])
    assert system.chain.balance(system.trainer.address) == claimable


def test_report_rules(system, accounts, bad_and_validated):
    bad, chain = bad_and_validated, system.chain
    with reverts("CannotReportOwnData"):
        system.report(bad, sender=accounts["mallory"])
    with reverts("NoValidContributions", reporter=accounts["carol"]):
        system.report(bad, sender=accounts["carol"])
    good = system.add_data(SAMPLE, 1, sender=accounts["carol"])
    with reverts("ClaimTooEarly"):
        system.report(good, sender=accounts["alice"])
    chain.time_travel(days=1)
    with reverts("ModelAgrees"):
        system.report(good, sender=accounts["alice"])


def test_owner_then_anyone_take_what_is_left(system, accounts, bad_and_validated):
    bad, chain = bad_and_validated, system.chain
    first = system.report(bad, sender=accounts["alice"])
    with reverts("NoValidContributions"):
        system.report(bad, sender=accounts["owner"])
    chain.time_travel(bad.added_time + 9 * DAY - chain.now)
    assert system.report(bad, sender=accounts["owner"]) == bad.deposit - first
    with reverts("NothingLeftToClaim"):
        system.report(bad, sender=accounts["bob"])


def test_anyone_takes_an_abandoned_deposit_but_never_their_own(system, accounts):
    chain = system.chain
    c = system.add_data(SAMPLE, 1, sender=accounts["alice"])  # good data, never refunded
    chain.time_travel(10 * DAY)
    with reverts("CannotReportOwnData"):
        system.report(c, sender=accounts["alice"])
    assert system.report(c, sender=accounts["carol"]) == c.deposit  # carol has no validated data
    with reverts("NothingLeftToClaim"):
        system.refund(c)


def test_a_share_that_rounds_to_zero_is_refused_and_the_claim_kept(chain, accounts):
    drt = incentives.DepositRefundTake(cost_weight=1, refund_wait=DAY, owner_claim_wait=9 * DAY,
                                       any_address_claim_wait=10 * DAY)
    system = chain.deploy_system(positive_on_sample(), drt)
    alice, bob, mallory = accounts["alice"], accounts["bob"], accounts["mallory"]
    good = [system.add_data(SAMPLE, 1, sender=alice)]
    for _ in range(20):
        chain.time_travel(3600)
        good.append(system.add_data(SAMPLE, 1, sender=bob))
    chain.time_travel(days=1)
    bad = system.add_data(SAMPLE, 0, sender=mallory)  # 1 * 3600 // isqrt(86400) = 12 wei
    chain.time_travel(days=1)
    for c in good:
        system.refund(c)
    assert bad.deposit * 1 // 21 == 0
    with reverts("ShareRoundsToZero", deposit=bad.deposit, reporterValid=1, totalValid=21):
        system.report(bad, sender=alice)
    assert system.report(bad, sender=bob) == bad.deposit * 20 // 21  # bob's share is worth something
    chain.time_travel(bad.added_time + 10 * DAY - chain.now)
    assert system.report(bad, sender=alice) == bad.deposit - bad.deposit * 20 // 21  # alice's claim was kept


def test_mechanism_parameters_are_checked(chain):
    with reverts("InvalidParameter", name="ownerClaimWait < refundWait"):
        chain.deploy("DepositRefundTake", 1, 10, 5, 20)
    with reverts("InvalidParameter", name="anyAddressClaimWait < ownerClaimWait"):
        chain.deploy("DepositRefundTake", 1, 10, 20, 15)


def test_unknown_mechanism_name(chain):
    with pytest.raises(ValueError, match="choose one of"):
        chain.deploy_system(perceptron(10), "auction")


# -- Points ---------------------------------------------------------------------------------------
def test_points_are_free_and_count_claims(chain, accounts):
    system = chain.deploy_system(positive_on_sample(), incentives.Points(refund_wait=DAY))
    alice, bob, carol = accounts["alice"], accounts["bob"], accounts["carol"]
    before = chain.balance(alice)
    good = system.add_data(SAMPLE, 1, sender=alice, value=10**15)
    bad = system.add_data(SAMPLE, 0, sender=bob)
    assert good.deposit == 0 and chain.balance(system.trainer.address) == 0
    assert before - chain.balance(alice) < 10**15  # only gas was spent
    with reverts("ClaimTooEarly"):
        system.refund(good)
    chain.time_travel(days=1)
    assert system.refund(good) == 0
    with reverts("ModelDisagrees"):
        system.refund(bad)
    with reverts("ModelAgrees"):
        system.report(good, sender=carol)
    with reverts("CannotReportOwnData"):
        system.report(bad, sender=bob)
    system.report(bad, sender=carol)
    with reverts("AlreadyReported", key="0x" + bad.key.hex()):  # one report point per contribution
        system.report(bad, sender=alice)
    with reverts("AlreadyClaimed"):
        system.report(bad, sender=carol)
    points = system.mechanism_contract.functions.points
    assert (points(alice).call(), points(bob).call(), points(carol).call()) == (1, 0, 1)


@pytest.mark.parametrize("backend", ["py-evm", "twin"])
def test_points_cannot_be_multiplied_by_adding_addresses(backend):
    from dcai_lab import Chain
    from dcai_lab.offchain import GasModel, OffchainSystem

    chain = Chain.for_backend(backend) if backend == "twin" else Chain(num_accounts=12)
    spec = incentives.Points(refund_wait=DAY)
    twin = positive_on_sample()
    system = (OffchainSystem(chain, twin, spec, GasModel(deploy=0)) if backend == "twin"
              else chain.deploy_system(twin, spec))
    author, reporters = chain.accounts[1], chain.accounts[2:]
    bad = [system.add_data(SAMPLE, 0, sender=author) for _ in range(3)]
    chain.time_travel(days=1)
    awarded = 0
    for c in bad:
        for reporter in reporters:
            try:
                system.report(c, sender=reporter)
                awarded += 1
            except ContractRevert as refused:
                assert refused.error == "AlreadyReported"
    assert awarded == len(bad)  # one point per bad contribution, however many addresses report it


# -- access ---------------------------------------------------------------------------------------
def test_components_only_obey_their_trainer(system, accounts):
    chain, mallory = system.chain, accounts["mallory"]
    calls = [
        system.model_contract.functions.update(SAMPLE, 0),
        system.data_handler.functions.add(b"\x01" * 32, 0),
        system.data_handler.functions.claim(b"\x01" * 32, mallory, True),
        system.data_handler.functions.pay(b"\x01" * 32, 0),
        system.mechanism_contract.functions.handleAddData(mallory, 0),
        system.mechanism_contract.functions.handleRefund(mallory, 0, 0, 0, True),
        system.mechanism_contract.functions.handleReport(mallory, accounts["alice"], b"\x02" * 32, 1, 1, 0, False),
    ]
    for call in calls:
        for sender in (mallory, accounts["owner"]):
            with reverts("NotTrainer", caller=sender):
                chain.transact(call, sender=sender)


def test_trainer_is_bound_once_by_the_owner(chain, system, accounts):
    for part in (system.model_contract, system.mechanism_contract):
        with reverts("TrainerAlreadySet"):
            chain.transact(part.functions.setTrainer(accounts["mallory"]), sender=accounts["owner"])
    # the data handler is the trainer's own creation: bound from its first block, with nothing to rebind
    assert chain.call(system.data_handler.functions.trainer()) == system.trainer.address
    assert not any(item.get("name") == "setTrainer" for item in system.data_handler.abi)
    spec = incentives.resolve("deposit-refund-take")
    fresh = chain.deploy(spec.contract_name, *spec.constructor_args())
    with reverts("NotOwner", caller=accounts["mallory"]):
        chain.transact(fresh.functions.setTrainer(accounts["mallory"]), sender=accounts["mallory"])
    with reverts("ZeroAddress"):
        chain.transact(fresh.functions.setTrainer("0x" + "00" * 20))


def test_data_handler_rules(chain, accounts):
    dh = chain.deploy("DataHandler", sender=accounts["owner"])  # its creator is its trainer
    key = b"\x07" * 32
    chain.transact(dh.functions.add(key, 10))
    with reverts("DuplicateContribution"):
        chain.transact(dh.functions.add(key, 10))
    with reverts("AmountTooLarge", amount=2**96, limit=2**96 - 1):
        chain.transact(dh.functions.add(b"\x08" * 32, 2**96))
    with reverts("AmountTooLarge", amount=11, limit=10):
        chain.transact(dh.functions.pay(key, 11))
    with reverts("RecordNotFound"):
        chain.transact(dh.functions.claim(b"\x09" * 32, accounts["bob"], False))


def test_refunds_cannot_be_reentered(system, accounts):
    chain = system.chain
    attacker = chain.deploy("ReentrantContributor", system.trainer.address, sender=accounts["mallory"])
    deposit = system.deposit_required()
    chain.transact(attacker.functions.add(SAMPLE, 1), sender=accounts["mallory"], value=deposit)
    chain.time_travel(days=1)
    chain.transact(attacker.functions.claimRefund(), sender=accounts["mallory"])
    assert attacker.functions.reentryAttempts().call() == 1
    assert attacker.functions.reentrySucceeded().call() is False
    assert chain.balance(attacker.address) == deposit
    assert chain.balance(system.trainer.address) == 0

"""Fixtures only; what tests build is in helpers.py and strategies.py (on the path through pyproject's
``pythonpath``)."""
import pytest

from dcai_lab import Chain, incentives

from helpers import positive_on_sample


@pytest.fixture
def chain():
    return Chain()


@pytest.fixture
def drt():
    return incentives.DepositRefundTake(cost_weight=10**12, refund_wait=86_400, owner_claim_wait=9 * 86_400,
                                        any_address_claim_wait=10 * 86_400)


@pytest.fixture
def system(chain, drt):
    """Sparse perceptron (predicts 1 on SAMPLE) under Deposit-Refund-Take."""
    return chain.deploy_system(positive_on_sample(), drt)


@pytest.fixture
def accounts(chain):
    owner, alice, bob, carol, mallory = chain.accounts[:5]
    return {"owner": owner, "alice": alice, "bob": bob, "carol": carol, "mallory": mallory}

import pytest

from dcai_lab import Chain, ContractRevert
from dcai_lab.errors import decode_revert


def test_accounts_are_funded(chain):
    assert len(chain.accounts) == 10
    assert all(chain.balance(a) == 10**24 for a in chain.accounts)
    assert chain.fork == "prague"


def test_deploy_and_gas_ledger_records_every_transaction(chain):
    dh = chain.deploy("DataHandler")
    chain.transact(dh.functions.setTrainer(chain.accounts[1]), operation="bind")
    frame = chain.gas.to_pandas()
    assert list(frame["operation"]) == ["deploy:DataHandler", "bind"]
    assert (frame["gas_used"] > 21_000).all() and (frame["status"] == 1).all()
    assert frame["sender"].tolist() == [chain.accounts[0]] * 2


def test_failed_transaction_raises_with_reason_and_is_still_recorded(chain):
    dh = chain.deploy("DataHandler")
    with pytest.raises(ContractRevert) as info:
        chain.transact(dh.functions.add(b"\x01" * 32, 5), sender=chain.accounts[3], operation="add")
    assert info.value.error == "NotTrainer"
    assert info.value.args_ == {"caller": chain.accounts[3]}
    assert "only through the CollaborativeTrainer" in str(info.value)
    last = chain.gas.records[-1]
    assert (last.operation, last.status) == ("add", 0) and last.gas_used > 21_000


def test_reverting_call_raises_with_reason(chain):
    model = chain.deploy("SparsePerceptron", 10, 5, 1000, 0)
    with pytest.raises(ContractRevert) as info:
        chain.call(model.functions.predict([3, 2]))
    assert info.value.error == "IndicesNotIncreasing" and info.value.args_ == {"position": 1}


def test_deploying_an_interface_is_refused(chain):
    with pytest.raises(ValueError, match="interface"):
        chain.deploy("IClassifier")


def test_time_travel_sets_the_next_transaction_time(chain):
    start = chain.now
    target = chain.time_travel(days=1, hours=2)
    assert target == start + 26 * 3600
    receipt = chain.transact(chain.w3.eth.contract(abi=[], bytecode="0x00").constructor())
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == target
    with pytest.raises(ValueError, match="forward"):
        chain.time_travel(-5)


def test_snapshot_and_revert(chain):
    snap = chain.snapshot()
    dh = chain.deploy("DataHandler")
    assert chain.w3.eth.get_code(dh.address)
    chain.revert(snap)
    assert chain.w3.eth.get_code(dh.address) == b""


def test_unreachable_node_is_a_clear_error():
    with pytest.raises(ConnectionError, match="no JSON-RPC node answers"):
        Chain("http://127.0.0.1:9")


@pytest.mark.parametrize("data, error", [
    ("0x08c379a0" + "00" * 31 + "20" + "00" * 31 + "02" + "6869".ljust(64, "0"), ("Error", {"reason": "hi"})),
    ("0x4e487b71" + "00" * 31 + "11", ("Panic", {"code": "0x11", "meaning": "arithmetic overflow or underflow"})),
    ("0x", ("Revert", {})),
    ("0xdeadbeef", ("UnknownError", {"data": "0xdeadbeef"})),
])
def test_decode_revert_standard_forms(data, error):
    revert = decode_revert("op", data)
    assert (revert.error, revert.args_) == error

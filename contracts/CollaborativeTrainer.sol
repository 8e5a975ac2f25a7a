// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "./models/IClassifier.sol";
import {DataHandler} from "./data/DataHandler.sol";
import {IIncentiveMechanism} from "./incentives/IIncentiveMechanism.sol";

/// @title CollaborativeTrainer
/// @notice Entry point of a decentralized, collaboratively trained model. Anyone adds data (paying
/// the deposit the incentive mechanism asks for; any excess is returned), claims a refund of their
/// own contribution or reports someone else's, and predicts for free. The trainer holds every
/// deposit; the model, data handler and mechanism only accept calls from it. The trainer creates its own
/// data handler, so that the handler knows its trainer without a storage read.
/// @dev Every AddData event carries the full sample, label, time, author and deposit, so the whole
/// dataset can be rebuilt from logs. Claims follow checks-effects-interactions: the claim is recorded
/// and the amount deducted before any ether leaves, so re-entering cannot claim twice.
/// The sample is copied from calldata into memory once per transaction (see _copySample) and hashed,
/// logged and sent to the model from that copy: Solidity would copy and check it again for each.
contract CollaborativeTrainer {
    IClassifier public immutable model;
    DataHandler public immutable dataHandler;
    IIncentiveMechanism public immutable incentiveMechanism;
    address public immutable owner;

    string public name;
    /// @notice Hash of the JSON of the encoder that turns raw samples into this model's input.
    bytes32 public immutable encoderHash;
    /// @notice Where that JSON can be found (a URI, or the JSON itself for small encoders).
    string public encoderURI;

    event AddData(address indexed author, int64[] data, uint64 label, uint256 addedTime, uint256 deposit);
    event Refund(address indexed author, bytes32 indexed key, uint256 amount);
    event Report(address indexed reporter, address indexed author, bytes32 indexed key, uint256 amount);

    error PaymentFailed(address to, uint256 amount);

    constructor(
        string memory name_,
        IClassifier model_,
        IIncentiveMechanism incentiveMechanism_,
        bytes32 encoderHash_,
        string memory encoderURI_
    ) {
        name = name_;
        model = model_;
        dataHandler = new DataHandler();
        incentiveMechanism = incentiveMechanism_;
        owner = msg.sender;
        encoderHash = encoderHash_;
        encoderURI = encoderURI_;
    }

    /// @notice Free prediction.
    function predict(int64[] calldata data) external view returns (uint64) {
        return model.predict(data);
    }

    /// @notice Deposit that addData requires now.
    function depositRequired() external view returns (uint256) {
        return incentiveMechanism.depositRequired(block.timestamp);
    }

    function addData(int64[] calldata data, uint64 label) external payable {
        (uint256 head, uint256 size) = _copySample(data);
        _update(head, label); // first: the model checks the sample and reverts with the reason
        uint256 deposit = incentiveMechanism.handleAddData(msg.sender, msg.value);
        dataHandler.add(_key(head, size, label, block.timestamp, msg.sender), deposit);
        _emitAddData(head, size, label, deposit); // emit AddData(msg.sender, data, label, block.timestamp, deposit)
        if (msg.value > deposit) _pay(msg.sender, msg.value - deposit);
    }

    /// @notice The author claims back their own contribution.
    function refund(int64[] calldata data, uint64 label, uint256 addedTime) external {
        (uint256 head, uint256 size) = _copySample(data);
        bytes32 key = _key(head, size, label, addedTime, msg.sender);
        (uint256 deposit, uint256 claimable) = dataHandler.claim(key, msg.sender, true);
        bool agrees = _predict(head) == label;
        uint256 amount = incentiveMechanism.handleRefund(msg.sender, deposit, claimable, addedTime, agrees);
        _settle(key, amount);
        emit Refund(msg.sender, key, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Someone other than the author claims from a contribution the rules call bad.
    function report(int64[] calldata data, uint64 label, uint256 addedTime, address author) external {
        (uint256 head, uint256 size) = _copySample(data);
        bytes32 key = _key(head, size, label, addedTime, author);
        (uint256 deposit, uint256 claimable) = dataHandler.claim(key, msg.sender, msg.sender == author);
        bool agrees = _predict(head) == label;
        uint256 amount =
            incentiveMechanism.handleReport(msg.sender, author, key, deposit, claimable, addedTime, agrees);
        _settle(key, amount);
        emit Report(msg.sender, author, key, amount);
        _pay(msg.sender, amount);
    }

    // -- the sample's one copy -------------------------------------------------------------------
    // Memory from `head`: four words for the head of an encoding, then the array's length and values (the
    // tail of every ABI encoding of `data`). Each use writes the head it needs just before the tail.

    /// @dev Copy `data` into memory, checking every value as Solidity's ABI encoder does (a value that is not
    /// a sign-extended int64 reverts with no data), and reserve the memory.
    function _copySample(int64[] calldata data) private pure returns (uint256 head, uint256 size) {
        assembly ("memory-safe") {
            head := mload(0x40)
            let n := data.length
            let values := add(head, 0xa0)
            mstore(add(head, 0x80), n)
            calldatacopy(values, data.offset, shl(5, n))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let v := mload(add(values, shl(5, i)))
                if iszero(eq(v, signextend(7, v))) { revert(0, 0) }
            }
            size := add(0xa0, shl(5, n))
            mstore(0x40, add(head, size))
        }
    }

    /// @dev The record's key, as ContributionKey.compute makes it: keccak256(abi.encode(data, label, addedTime,
    /// author)).
    function _key(uint256 head, uint256 size, uint64 label, uint256 addedTime, address author)
        private
        pure
        returns (bytes32 key)
    {
        assembly ("memory-safe") {
            mstore(head, 0x80)
            mstore(add(head, 0x20), label)
            mstore(add(head, 0x40), addedTime)
            mstore(add(head, 0x60), author)
            key := keccak256(head, size)
        }
    }

    function _emitAddData(uint256 head, uint256 size, uint64 label, uint256 deposit) private {
        bytes32 topic = AddData.selector;
        assembly ("memory-safe") {
            mstore(head, 0x80)
            mstore(add(head, 0x20), label)
            mstore(add(head, 0x40), timestamp())
            mstore(add(head, 0x60), deposit)
            log2(head, size, topic, caller())
        }
    }

    /// @dev model.update(data, label), as Solidity calls it: no code at the model reverts with no data, a
    /// revert of the model's is passed on.
    function _update(uint256 head, uint64 label) private {
        address target = address(model);
        bytes4 selector = IClassifier.update.selector;
        assembly ("memory-safe") {
            let tail := add(head, 0x80)
            mstore(sub(tail, 0x60), shr(224, selector))
            mstore(sub(tail, 0x40), 0x40)
            mstore(sub(tail, 0x20), label)
            if iszero(extcodesize(target)) { revert(0, 0) }
            if iszero(call(gas(), target, 0, sub(tail, 0x44), add(0x64, shl(5, mload(tail))), 0, 0)) {
                let copy := mload(0x40)
                returndatacopy(copy, 0, returndatasize())
                revert(copy, returndatasize())
            }
        }
    }

    /// @dev model.predict(data), as Solidity calls it: return data shorter than a word, or not a uint64,
    /// reverts with no data.
    function _predict(uint256 head) private view returns (uint64 prediction) {
        address target = address(model);
        bytes4 selector = IClassifier.predict.selector;
        assembly ("memory-safe") {
            let tail := add(head, 0x80)
            mstore(sub(tail, 0x40), shr(224, selector))
            mstore(sub(tail, 0x20), 0x20)
            if iszero(staticcall(gas(), target, sub(tail, 0x24), add(0x44, shl(5, mload(tail))), 0, 0x20)) {
                let copy := mload(0x40)
                returndatacopy(copy, 0, returndatasize())
                revert(copy, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            prediction := mload(0)
            if gt(prediction, 0xffffffffffffffff) { revert(0, 0) }
        }
    }

    function _settle(bytes32 key, uint256 amount) private {
        if (amount > 0) dataHandler.pay(key, amount);
    }

    function _pay(address to, uint256 amount) private {
        if (amount == 0) return;
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}

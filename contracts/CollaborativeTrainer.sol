// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "./models/IClassifier.sol";
import {DataHandler} from "./data/DataHandler.sol";
import {ContributionKey} from "./data/ContributionKey.sol";
import {IIncentiveMechanism} from "./incentives/IIncentiveMechanism.sol";

/// @title CollaborativeTrainer
/// @notice Entry point of a decentralized, collaboratively trained model. Anyone adds data (paying
/// the deposit the incentive mechanism asks for; any excess is returned), claims a refund of their
/// own contribution or reports someone else's, and predicts for free. The trainer holds every
/// deposit; the model, data handler and mechanism only accept calls from it.
/// @dev Every AddData event carries the full sample, label, time, author and deposit, so the whole
/// dataset can be rebuilt from logs. Claims follow checks-effects-interactions: the claim is recorded
/// and the amount deducted before any ether leaves, so re-entering cannot claim twice.
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
        DataHandler dataHandler_,
        IIncentiveMechanism incentiveMechanism_,
        bytes32 encoderHash_,
        string memory encoderURI_
    ) {
        name = name_;
        model = model_;
        dataHandler = dataHandler_;
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
        model.update(data, label); // first: it checks the sample and reverts with the reason
        uint256 deposit = incentiveMechanism.handleAddData(msg.sender, msg.value);
        dataHandler.add(ContributionKey.compute(data, label, block.timestamp, msg.sender), deposit);
        emit AddData(msg.sender, data, label, block.timestamp, deposit);
        if (msg.value > deposit) _pay(msg.sender, msg.value - deposit);
    }

    /// @notice The author claims back their own contribution.
    function refund(int64[] calldata data, uint64 label, uint256 addedTime) external {
        bytes32 key = ContributionKey.compute(data, label, addedTime, msg.sender);
        (uint256 deposit, uint256 claimable) = dataHandler.claim(key, msg.sender, true);
        bool agrees = model.predict(data) == label;
        uint256 amount = incentiveMechanism.handleRefund(msg.sender, deposit, claimable, addedTime, agrees);
        _settle(key, amount);
        emit Refund(msg.sender, key, amount);
        _pay(msg.sender, amount);
    }

    /// @notice Someone other than the author claims from a contribution the rules call bad.
    function report(int64[] calldata data, uint64 label, uint256 addedTime, address author) external {
        bytes32 key = ContributionKey.compute(data, label, addedTime, author);
        (uint256 deposit, uint256 claimable) = dataHandler.claim(key, msg.sender, msg.sender == author);
        bool agrees = model.predict(data) == label;
        uint256 amount =
            incentiveMechanism.handleReport(msg.sender, author, key, deposit, claimable, addedTime, agrees);
        _settle(key, amount);
        emit Report(msg.sender, author, key, amount);
        _pay(msg.sender, amount);
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

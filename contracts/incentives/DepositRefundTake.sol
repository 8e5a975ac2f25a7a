// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TrainerBound} from "../TrainerBound.sol";
import {IIncentiveMechanism} from "./IIncentiveMechanism.sol";

/// @title DepositRefundTake
/// @notice Self-assessment (Harris & Waggoner 2019). Adding data costs a deposit that falls as time
/// passes since the last model update: deposit = costWeight * 3600 / isqrt(max(1, seconds since the
/// last update)). After `refundWait` the author gets the deposit back, once, if the model then agrees
/// with their label, and the contribution counts as validated. If the model disagrees, another
/// contributor with at least one validated contribution may take deposit * theirValid / totalValid
/// (capped at what is left), once per reporter; a share that rounds to zero is refused
/// (ShareRoundsToZero) rather than paid as nothing, so the reporter keeps its claim for when its share
/// has grown. After `ownerClaimWait` the owner, and after
/// `anyAddressClaimWait` anyone, may take whatever is left whatever the model says. Nobody takes
/// from their own contribution.
contract DepositRefundTake is TrainerBound, IIncentiveMechanism {
    /// @notice Time of the last accepted contribution; packed beside `trainer` (one cold read).
    uint64 public lastUpdateTime;
    /// @notice Number of validated (refunded) contributions, all authors together.
    uint32 public totalValid;

    uint256 public immutable costWeight;
    uint256 public immutable refundWait;
    uint256 public immutable ownerClaimWait;
    uint256 public immutable anyAddressClaimWait;

    mapping(address => uint256) public numValid;

    error InvalidParameter(string name);
    error ShareRoundsToZero(uint256 deposit, uint256 reporterValid, uint256 totalValid);

    constructor(uint256 costWeight_, uint256 refundWait_, uint256 ownerClaimWait_, uint256 anyAddressClaimWait_) {
        if (ownerClaimWait_ < refundWait_) revert InvalidParameter("ownerClaimWait < refundWait");
        if (anyAddressClaimWait_ < ownerClaimWait_) revert InvalidParameter("anyAddressClaimWait < ownerClaimWait");
        costWeight = costWeight_;
        refundWait = refundWait_;
        ownerClaimWait = ownerClaimWait_;
        anyAddressClaimWait = anyAddressClaimWait_;
        lastUpdateTime = uint64(block.timestamp);
    }

    function depositRequired(uint256 time) public view override returns (uint256) {
        uint256 elapsed = time > lastUpdateTime ? time - lastUpdateTime : 1;
        return (costWeight * 3600) / _isqrt(elapsed);
    }

    function handleAddData(address, uint256 sent) external override onlyTrainer returns (uint256 deposit) {
        deposit = depositRequired(block.timestamp);
        if (sent < deposit) revert DepositTooSmall(deposit, sent);
        lastUpdateTime = uint64(block.timestamp);
    }

    function handleRefund(address author, uint256, uint256 claimable, uint256 addedTime, bool modelAgrees)
        external
        override
        onlyTrainer
        returns (uint256)
    {
        uint256 availableAt = addedTime + refundWait;
        if (block.timestamp < availableAt) revert ClaimTooEarly(availableAt, block.timestamp);
        if (!modelAgrees) revert ModelDisagrees();
        if (claimable == 0) revert NothingLeftToClaim();
        numValid[author] += 1;
        totalValid += 1;
        return claimable;
    }

    function handleReport(
        address reporter,
        address author,
        bytes32,
        uint256 deposit,
        uint256 claimable,
        uint256 addedTime,
        bool modelAgrees
    ) external view override onlyTrainer returns (uint256 amount) {
        if (reporter == author) revert CannotReportOwnData();
        if (claimable == 0) revert NothingLeftToClaim();
        uint256 age = block.timestamp - addedTime;
        if (age >= anyAddressClaimWait || (reporter == owner && age >= ownerClaimWait)) return claimable;
        if (age < refundWait) revert ClaimTooEarly(addedTime + refundWait, block.timestamp);
        if (modelAgrees) revert ModelAgrees();
        uint256 valid = numValid[reporter];
        if (valid == 0) revert NoValidContributions(reporter);
        amount = (deposit * valid) / totalValid;
        if (amount == 0) revert ShareRoundsToZero(deposit, valid, totalValid);
        if (amount > claimable) amount = claimable;
    }

    /// @dev Floor square root (Babylonian iteration from a power-of-two start above the root).
    function _isqrt(uint256 x) internal pure returns (uint256 r) {
        if (x == 0) return 0;
        r = 1 << ((_log2(x) >> 1) + 1);
        uint256 next = (r + x / r) >> 1;
        while (next < r) {
            r = next;
            next = (r + x / r) >> 1;
        }
    }

    function _log2(uint256 x) private pure returns (uint256 n) {
        while (x > 1) {
            x >>= 1;
            ++n;
        }
    }
}

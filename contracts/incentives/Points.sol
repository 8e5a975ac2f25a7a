// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TrainerBound} from "../TrainerBound.sol";
import {IIncentiveMechanism} from "./IIncentiveMechanism.sol";

/// @title Points
/// @notice Gamified mechanism: adding data is free (anything sent is returned). After `refundWait`
/// the author of a contribution the model agrees with claims it as a point; the first other address to
/// report a contribution the model disagrees with earns a point for it. One report point per
/// contribution, as in the 2019 contract: otherwise anyone could multiply points by reporting the same
/// bad contribution from many addresses. Points carry no money.
contract Points is TrainerBound, IIncentiveMechanism {
    uint256 public immutable refundWait;

    mapping(address => uint256) public points;
    mapping(address => uint256) public numValid;
    /// @notice Whether a contribution (the data handler's record key) has earned its report point.
    mapping(bytes32 => bool) public reported;

    error AlreadyReported(bytes32 key);

    event PointAwarded(address indexed to, uint256 total);

    constructor(uint256 refundWait_) {
        refundWait = refundWait_;
    }

    function depositRequired(uint256) external pure override returns (uint256) {
        return 0;
    }

    function handleAddData(address, uint256) external view override onlyTrainer returns (uint256) {
        return 0;
    }

    function handleRefund(address author, uint256, uint256, uint256 addedTime, bool modelAgrees)
        external
        override
        onlyTrainer
        returns (uint256)
    {
        _checkWait(addedTime);
        if (!modelAgrees) revert ModelDisagrees();
        numValid[author] += 1;
        _award(author);
        return 0;
    }

    function handleReport(
        address reporter,
        address author,
        bytes32 key,
        uint256,
        uint256,
        uint256 addedTime,
        bool modelAgrees
    ) external override onlyTrainer returns (uint256) {
        if (reporter == author) revert CannotReportOwnData();
        _checkWait(addedTime);
        if (modelAgrees) revert ModelAgrees();
        if (reported[key]) revert AlreadyReported(key);
        reported[key] = true;
        _award(reporter);
        return 0;
    }

    function _checkWait(uint256 addedTime) private view {
        uint256 availableAt = addedTime + refundWait;
        if (block.timestamp < availableAt) revert ClaimTooEarly(availableAt, block.timestamp);
    }

    function _award(address to) private {
        uint256 total = points[to] + 1;
        points[to] = total;
        emit PointAwarded(to, total);
    }
}

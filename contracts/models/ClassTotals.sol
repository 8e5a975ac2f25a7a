// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "./IClassifier.sol";

/// @title ClassTotals
/// @notice Two totals per class in one storage slot: the class's sample count (high 128 bits) and a
/// second total (low 128 bits) whose meaning the model gives.
abstract contract ClassTotals {
    uint256 internal constant MASK128 = (1 << 128) - 1;

    uint256[] internal _totals;

    /// @dev Checks and stores the initial totals; each must stay below its limit.
    function _initTotals(uint256[] memory samples, uint256[] memory seconds_, uint256 classes, uint256 maxSamples, uint256 maxSecond)
        internal
    {
        if (samples.length != classes || seconds_.length != classes) revert IClassifier.InvalidParameter("class totals");
        for (uint256 c = 0; c < classes; ++c) {
            if (samples[c] >= maxSamples || seconds_[c] >= maxSecond) revert IClassifier.InvalidParameter("class totals");
            _totals.push((samples[c] << 128) | seconds_[c]);
        }
    }

    /// @notice (samples, second total) of class c.
    function classTotals(uint256 c) public view returns (uint256 samples, uint256 total) {
        uint256 t = _totals[c];
        return (t >> 128, t & MASK128);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "./IClassifier.sol";

/// @title DenseInput
/// @notice Checks a dense sample: exactly numFeatures fixed-point values, each within [-limit, limit].
/// Values are fixed point: ONE (10^6) means 1.0.
library DenseInput {
    int256 internal constant ONE = 1_000_000;

    function check(int64[] calldata data, uint256 numFeatures, int64 limit) internal pure {
        if (data.length != numFeatures) revert IClassifier.WrongLength(data.length, numFeatures);
        for (uint256 i = 0; i < data.length; ++i) {
            int64 v = data[i];
            if (v > limit || v < -limit) revert IClassifier.ValueOutOfRange(i, v, limit);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "./IClassifier.sol";

/// @title SparseInput
/// @notice Checks a sparse sample: 1..maxLength feature indices, each in [0, numFeatures), increasing:
/// strictly (each feature once) or, with `repeats`, non-decreasing (a repeated index counts the feature
/// again, as token counts for Naive Bayes). Order makes duplicates impossible or adjacent without a
/// lookup table, and lets models that pack several lanes per storage word read each word once.
/// @dev The loop reads raw calldata words: a negative or non-canonical int64 is a huge unsigned
/// number and fails the range check, so models may read indices with calldataload afterwards.
library SparseInput {
    function check(int64[] calldata data, uint256 numFeatures, uint256 maxLength, bool repeats) internal pure {
        uint256 n = data.length;
        if (n == 0) revert IClassifier.EmptyData();
        if (n > maxLength) revert IClassifier.TooManyFeatures(n, maxLength);
        uint256 step = repeats ? 0 : 1;
        uint256 bad; // position + 1 of the first bad index, 0 if none
        assembly ("memory-safe") {
            let next := 0 // smallest index allowed at this position
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let index := calldataload(add(data.offset, shl(5, i)))
                if or(iszero(lt(index, numFeatures)), lt(index, next)) {
                    bad := add(i, 1)
                    break
                }
                next := add(index, step)
            }
        }
        if (bad != 0) {
            int64 index = data[bad - 1];
            if (index < 0 || uint64(index) >= numFeatures) revert IClassifier.IndexOutOfRange(bad - 1, index, numFeatures);
            revert IClassifier.IndicesNotIncreasing(bad - 1);
        }
    }
}

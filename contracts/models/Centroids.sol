// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";

/// @title Centroids
/// @notice Exact nearest-centroid prediction. With S_c the sum and N_c the number of the samples of
/// class c, and Q_c = |S_c|^2, the squared distance from x to the centroid S_c / N_c is
/// |x|^2 - 2 x.S_c / N_c + Q_c / N_c^2. |x|^2 is the same for every class, so classes are ranked by
/// key_c / N_c^2 with key_c = Q_c - 2 N_c (x.S_c), compared by cross-multiplying: no division, no
/// rounding. Ties go to the lower class; classes without samples are skipped.
abstract contract Centroids is Classifier {
    /// @dev (N_c, Q_c) of class c.
    function _centroidTotals(uint256 c) internal view virtual returns (uint256 samples, uint256 squaredNorm);

    /// @dev x . S_c
    function _dot(int64[] calldata data, uint256 c) internal view virtual returns (int256);

    function _nearest(int64[] calldata data, uint256 classes) internal view returns (uint64 best) {
        bool found;
        int256 bestKey;
        uint256 bestSamples;
        for (uint256 c = 0; c < classes; ++c) {
            (uint256 samples, uint256 squaredNorm) = _centroidTotals(c);
            if (samples == 0) continue;
            int256 key = int256(squaredNorm) - 2 * int256(samples) * _dot(data, c);
            if (!found || key * int256(bestSamples * bestSamples) < bestKey * int256(samples * samples)) {
                (found, bestKey, bestSamples, best) = (true, key, samples, uint64(c));
            }
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Centroids
/// @notice Exact nearest-centroid comparison. With S_c the sum and N_c the number of the samples of
/// class c, and Q_c = |S_c|^2, the squared distance from x to the centroid S_c / N_c is
/// |x|^2 - 2 x.S_c / N_c + Q_c / N_c^2. |x|^2 is the same for every class, so classes are ranked by
/// key_c / N_c^2 with key_c = Q_c - 2 N_c (x.S_c), compared by cross-multiplying: no division, no rounding.
library Centroids {
    function key(uint256 squaredNorm, uint256 samples, int256 dot) internal pure returns (int256) {
        return int256(squaredNorm) - 2 * int256(samples) * dot;
    }

    /// @notice Whether class a (key a, N_a samples) is strictly closer than class b.
    function closer(int256 keyA, uint256 samplesA, int256 keyB, uint256 samplesB) internal pure returns (bool) {
        return keyA * int256(samplesB * samplesB) < keyB * int256(samplesA * samplesA);
    }
}

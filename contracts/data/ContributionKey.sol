// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @notice The one definition of a contribution's key, shared by the trainer and the data handler.
library ContributionKey {
    function compute(int64[] calldata data, uint64 label, uint256 addedTime, address author) internal pure returns (bytes32) {
        return keccak256(abi.encode(data, label, addedTime, author));
    }
}

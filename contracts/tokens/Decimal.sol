// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Decimal
/// @notice An unsigned integer as its decimal digits.
library Decimal {
    function toString(uint256 value) internal pure returns (string memory) {
        uint256 digits = 1;
        for (uint256 v = value / 10; v != 0; v /= 10) ++digits;
        bytes memory out = new bytes(digits);
        do {
            out[--digits] = bytes1(uint8(48 + (value % 10)));
            value /= 10;
        } while (value != 0);
        return string(out);
    }
}

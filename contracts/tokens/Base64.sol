// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Base64
/// @notice Base64 encoding (RFC 4648, with padding), for `data:` URIs built on chain. Views only: it is
/// written for clarity, not gas.
library Base64 {
    bytes internal constant ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    function encode(bytes memory data) internal pure returns (string memory) {
        uint256 n = data.length;
        bytes memory out = new bytes(4 * ((n + 2) / 3));
        uint256 j;
        for (uint256 i; i < n; i += 3) {
            uint256 chunk = uint256(uint8(data[i])) << 16;
            if (i + 1 < n) chunk |= uint256(uint8(data[i + 1])) << 8;
            if (i + 2 < n) chunk |= uint256(uint8(data[i + 2]));
            out[j++] = ALPHABET[(chunk >> 18) & 63];
            out[j++] = ALPHABET[(chunk >> 12) & 63];
            out[j++] = ALPHABET[(chunk >> 6) & 63];
            out[j++] = ALPHABET[chunk & 63];
        }
        if (n % 3 > 0) out[out.length - 1] = "=";
        if (n % 3 == 1) out[out.length - 2] = "=";
        return string(out);
    }
}

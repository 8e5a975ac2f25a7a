// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IERC165
/// @notice Standard interface detection (EIP-165).
interface IERC165 {
    /// @return whether the contract implements `interfaceId`; uses less than 30,000 gas.
    function supportsInterface(bytes4 interfaceId) external view returns (bool);
}

/// @title IERC1155
/// @notice The multi-token standard (EIP-1155): its functions and events. Interface id 0xd9b67a26.
interface IERC1155 is IERC165 {
    event TransferSingle(
        address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value
    );
    event TransferBatch(
        address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values
    );
    event ApprovalForAll(address indexed account, address indexed operator, bool approved);
    event URI(string value, uint256 indexed id);

    function balanceOf(address account, uint256 id) external view returns (uint256);

    function balanceOfBatch(address[] calldata accounts, uint256[] calldata ids)
        external
        view
        returns (uint256[] memory);

    function setApprovalForAll(address operator, bool approved) external;

    function isApprovedForAll(address account, address operator) external view returns (bool);

    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata data) external;

    function safeBatchTransferFrom(
        address from,
        address to,
        uint256[] calldata ids,
        uint256[] calldata values,
        bytes calldata data
    ) external;
}

/// @title IERC1155MetadataURI
/// @notice EIP-1155's optional metadata extension. Interface id 0x0e89341c.
interface IERC1155MetadataURI is IERC1155 {
    /// @return the URI of token `id`'s JSON metadata.
    function uri(uint256 id) external view returns (string memory);
}

/// @title IERC5633
/// @notice Soulbound tokens as an EIP-1155 extension (EIP-5633): transfers of a soulbound id revert.
/// Interface id 0x911ec470.
interface IERC5633 {
    function isSoulbound(uint256 id) external view returns (bool);
}

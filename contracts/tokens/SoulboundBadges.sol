// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC165, IERC1155, IERC1155MetadataURI, IERC5633} from "./IERC1155.sol";

/// @title SoulboundBadges
/// @notice Badges as non-transferable EIP-1155 tokens: every address holds each badge id 0 or 1 times.
/// The read side of EIP-1155 (`balanceOf`, `balanceOfBatch`, `uri`, EIP-165 `supportsInterface`) and its
/// `TransferSingle` event on mint (`from` = address(0), value 1) let wallets and indexers show badges; every
/// transfer and approval reverts with `Soulbound()`, and `isSoulbound` says so for every id (EIP-5633).
/// @dev A derived contract keeps each address's badges as a bitmap (bit `id` set: badge `id` held), returns
/// it from `_badgesOf`, and calls `_mint` with the bits it awards. Minting does not call the recipient's
/// `onERC1155Received`, unlike EIP-1155's safe-transfer rule for mints: a badge cannot move, so a contract
/// recipient can never be left holding a token it cannot pass on, and the hook would hand control to the
/// recipient in the middle of a claim and let it refuse (and so block) its own claims.
abstract contract SoulboundBadges is IERC1155MetadataURI, IERC5633 {
    /// @notice Badges cannot be transferred, and nobody can be approved to transfer them.
    error Soulbound();
    error LengthMismatch(uint256 accounts, uint256 ids);

    /// @dev Badge bitmap of `account`: bit `id` is set when it holds badge `id`.
    function _badgesOf(address account) internal view virtual returns (uint256);

    /// @notice 1 if `account` holds badge `id`, else 0.
    function balanceOf(address account, uint256 id) public view override returns (uint256) {
        return id < 256 ? (_badgesOf(account) >> id) & 1 : 0;
    }

    function balanceOfBatch(address[] calldata accounts, uint256[] calldata ids)
        external
        view
        override
        returns (uint256[] memory balances)
    {
        if (accounts.length != ids.length) revert LengthMismatch(accounts.length, ids.length);
        balances = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            balances[i] = balanceOf(accounts[i], ids[i]);
        }
    }

    /// @notice Always false: nobody may move anyone's badges.
    function isApprovedForAll(address, address) external pure override returns (bool) {
        return false;
    }

    /// @notice Always true: every badge is soulbound (EIP-5633).
    function isSoulbound(uint256) external pure override returns (bool) {
        return true;
    }

    function setApprovalForAll(address, bool) external pure override {
        revert Soulbound();
    }

    function safeTransferFrom(address, address, uint256, uint256, bytes calldata) external pure override {
        revert Soulbound();
    }

    function safeBatchTransferFrom(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        override
    {
        revert Soulbound();
    }

    /// @notice EIP-165, EIP-1155, its metadata extension and EIP-5633.
    function supportsInterface(bytes4 interfaceId) external pure override returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IERC1155).interfaceId
            || interfaceId == type(IERC1155MetadataURI).interfaceId || interfaceId == type(IERC5633).interfaceId;
    }

    /// @dev Emit EIP-1155's mint event for every bit of `ids`, lowest id first; the caller has already set
    /// them in the holder's bitmap. The operator is `msg.sender` (the caller that awards the badges).
    function _mint(address to, uint256 ids) internal {
        for (uint256 id; ids != 0; ++id) {
            if (ids & 1 != 0) emit TransferSingle(msg.sender, address(0), to, id, 1);
            ids >>= 1;
        }
    }
}

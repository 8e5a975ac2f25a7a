// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title TrainerBound
/// @notice Base for every component a CollaborativeTrainer drives (model, data handler, incentive
/// mechanism). The deployer is the owner; the owner binds the component to exactly one trainer, once.
/// From then on only that trainer may change the component's state.
/// @dev `trainer` sits in the first storage slot so that derived contracts can pack their own hot
/// state (an intercept, a timestamp) beside it and pay for one cold read instead of two.
abstract contract TrainerBound {
    address public trainer;

    address public immutable owner;

    error NotOwner(address caller);
    error NotTrainer(address caller);
    error TrainerAlreadySet(address trainer);
    error ZeroAddress();

    event TrainerSet(address indexed trainer);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    modifier onlyTrainer() {
        if (msg.sender != trainer) revert NotTrainer(msg.sender);
        _;
    }

    /// @notice Bind this component to its trainer. Possible once, by the owner only.
    function setTrainer(address newTrainer) external onlyOwner {
        if (trainer != address(0)) revert TrainerAlreadySet(trainer);
        if (newTrainer == address(0)) revert ZeroAddress();
        trainer = newTrainer;
        emit TrainerSet(newTrainer);
    }
}

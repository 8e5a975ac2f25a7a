// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface ITrainer {
    function addData(int64[] calldata data, uint64 label) external payable;
    function refund(int64[] calldata data, uint64 label, uint256 addedTime) external;
}

/// @notice Test-only attacker: when paid, it tries to claim the same refund again.
contract ReentrantContributor {
    ITrainer public immutable trainer;
    int64[] private _data;
    uint64 private _label;
    uint256 private _addedTime;
    bool private _attacking;
    uint256 public reentryAttempts;
    bool public reentrySucceeded;

    constructor(ITrainer trainer_) {
        trainer = trainer_;
    }

    function add(int64[] calldata data, uint64 label) external payable {
        _data = data;
        _label = label;
        _addedTime = block.timestamp;
        trainer.addData{value: msg.value}(data, label);
    }

    function claimRefund() external {
        _attacking = true;
        trainer.refund(_data, _label, _addedTime);
        _attacking = false;
    }

    receive() external payable {
        if (!_attacking) return;
        reentryAttempts += 1;
        try trainer.refund(_data, _label, _addedTime) {
            reentrySucceeded = true;
        } catch {}
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @notice What the vault needs of the settlement: the epoch and the spend tree.
interface ISpendLedger {
    function lastEpoch() external view returns (uint64);
    function verifySpent(address payer, uint256 cumulativeSpent, bytes32[] calldata proof) external view returns (bool);
}

/// @title Prepaid traffic credit, and the vault that pays rewards.
/// @notice Users deposit tokens as credit; meta nodes count traffic only within a payer's credit
/// (and, for downloads of an owner's files by others, within the owner's per-epoch cap). What a
/// payer has spent is a leaf of the settlement's cumulative spend tree. A withdrawal is requested
/// first and paid no sooner than `withdrawDelayEpochs` settled epochs later, checked then against
/// the spend tree (which holds a leaf for every account that had deposited by its epoch): meta
/// nodes stop spending requested credit at once, so traffic served while a withdrawal waits is
/// still paid. The vault also holds the emission reserve; the settlement pays
/// claims from it.
contract Credit {
    using SafeERC20 for IERC20;

    struct Withdrawal {
        uint192 amount;
        uint64 notBeforeEpoch;
    }

    IERC20 public immutable token;
    uint64 public immutable withdrawDelayEpochs;
    ISpendLedger public settlement;
    address private immutable deployer;

    /// @notice Tokens each account has deposited, in all.
    mapping(address => uint256) public deposited;
    /// @notice Tokens each account has withdrawn, in all.
    mapping(address => uint256) public withdrawn;
    mapping(address => Withdrawal) public pendingWithdrawal;
    /// @notice Most an owner's credit pays per epoch for other people's downloads of its files (0: nothing).
    mapping(address => uint256) public spendCap;

    event Deposited(address indexed account, uint256 amount);
    event WithdrawalRequested(address indexed account, uint256 amount, uint64 notBeforeEpoch);
    event Withdrawn(address indexed account, uint256 amount);
    event SpendCapSet(address indexed owner, uint256 cap);
    event PaidOut(address indexed to, uint256 amount);

    error OnlySettlement(address caller);
    error AlreadyLinked();
    error NothingRequested(address account);
    error TooEarly(uint64 lastEpoch, uint64 notBeforeEpoch);
    error WrongSpendProof(address account);
    error BeyondUnspent(address account, uint256 amount, uint256 unspent);

    constructor(IERC20 token_, uint64 withdrawDelayEpochs_) {
        token = token_;
        withdrawDelayEpochs = withdrawDelayEpochs_;
        deployer = msg.sender;
    }

    /// @notice Links the settlement contract once (the two name each other).
    function link(ISpendLedger settlement_) external {
        if (msg.sender != deployer || address(settlement) != address(0)) revert AlreadyLinked();
        settlement = settlement_;
    }

    /// @notice Adds `amount` (approved first) to the caller's credit.
    function deposit(uint256 amount) external {
        deposited[msg.sender] += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, amount);
    }

    /// @notice Adds `amount` to the emission reserve that epoch rewards are paid from (no one's credit).
    function fundReserve(uint256 amount) external {
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Sets the caller's per-epoch cap for downloads of its files by others.
    function setSpendCap(uint256 cap) external {
        spendCap[msg.sender] = cap;
        emit SpendCapSet(msg.sender, cap);
    }

    /// @notice Asks to withdraw `amount` of unspent credit (replaces an earlier request); meta nodes stop spending it now.
    function requestWithdrawal(uint192 amount) external {
        uint64 notBefore = settlement.lastEpoch() + withdrawDelayEpochs;
        pendingWithdrawal[msg.sender] = Withdrawal({amount: amount, notBeforeEpoch: notBefore});
        emit WithdrawalRequested(msg.sender, amount, notBefore);
    }

    /// @notice Pays the requested withdrawal, given the caller's cumulative spend and its proof in the latest spend tree.
    function withdraw(uint256 cumulativeSpent, bytes32[] calldata proof) external {
        Withdrawal memory w = pendingWithdrawal[msg.sender];
        if (w.amount == 0) revert NothingRequested(msg.sender);
        uint64 last = settlement.lastEpoch();
        if (last < w.notBeforeEpoch) revert TooEarly(last, w.notBeforeEpoch);
        // the spend tree holds a leaf for every account that had deposited by its epoch, spent or not
        if (!settlement.verifySpent(msg.sender, cumulativeSpent, proof)) revert WrongSpendProof(msg.sender);
        uint256 used = withdrawn[msg.sender] + cumulativeSpent;
        uint256 unspent = deposited[msg.sender] > used ? deposited[msg.sender] - used : 0;
        if (w.amount > unspent) revert BeyondUnspent(msg.sender, w.amount, unspent);
        delete pendingWithdrawal[msg.sender];
        withdrawn[msg.sender] += w.amount;
        token.safeTransfer(msg.sender, w.amount);
        emit Withdrawn(msg.sender, w.amount);
    }

    /// @notice Pays a reward claim (the settlement only).
    function payOut(address to, uint256 amount) external {
        if (msg.sender != address(settlement)) revert OnlySettlement(msg.sender);
        token.safeTransfer(to, amount);
        emit PaidOut(to, amount);
    }
}

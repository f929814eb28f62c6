// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ISpendLedger} from "./Credit.sol";
import {IMetaWhitelist, IMetaWhitelistMirror, QuorumSignatures} from "./QuorumSignatures.sol";

/// @notice The vault that pays claims.
interface IPayer {
    function payOut(address to, uint256 amount) external;
}

/// @title Epoch volume reports (Proof of Traffic) and reward claims.
/// @notice One transaction per epoch: the epoch's cumulative reward tree (account → earned in
/// all), cumulative spend tree (payer → spent in all), their totals and the receipts archive's
/// CID, signed (EIP-712 `Report`) by `quorum` distinct whitelisted meta nodes. Only the latest
/// roots are kept (both trees are cumulative), so a report costs the same whatever the number of
/// nodes. `claim` pays the difference between an account's cumulative amount and what it has
/// claimed. Leaves are OpenZeppelin's standard: keccak256(bytes.concat(keccak256(abi.encode(account, amount)))).
contract Settlement is ISpendLedger, IMetaWhitelistMirror, EIP712 {
    struct Report {
        uint64 epoch;
        bytes32 rewardRoot;
        bytes32 spendRoot;
        /// @dev Cumulative over all epochs, in token units.
        uint96 totalRewards;
        uint96 totalSpent;
        bytes archiveCid;
    }

    bytes32 private constant REPORT_TYPEHASH = keccak256(
        "Report(uint64 epoch,bytes32 rewardRoot,bytes32 spendRoot,uint96 totalRewards,uint96 totalSpent,bytes archiveCid)"
    );
    /// @dev The roots before the first report: no leaf proves against them.
    bytes32 private constant EMPTY_ROOT = keccak256("konbini:empty-tree");

    IMetaWhitelist public immutable registry;
    IPayer public immutable vault;
    uint256 public immutable quorum;
    /// @notice Tokens the network may pay per epoch beyond fees (from the vault's reserve).
    uint256 public immutable emissionPerEpoch;

    bytes32 public rewardRoot = EMPTY_ROOT;
    bytes32 public spendRoot = EMPTY_ROOT;
    uint64 public lastEpoch;
    uint96 public totalRewards;
    uint96 public totalSpent;
    mapping(address account => uint256) public claimed;
    /// @notice The registry's whitelist, mirrored (the registry tells every change): one local read per signer.
    mapping(address => bool) public isMeta;

    event ReportSubmitted(
        uint64 indexed epoch, bytes32 rewardRoot, bytes32 spendRoot, uint256 totalRewards, uint256 totalSpent, bytes archiveCid
    );
    event Claimed(address indexed account, uint256 amount, uint256 cumulative);

    error EpochNotNext(uint64 epoch, uint64 expected);
    error TotalsDecrease();
    error RewardsBeyondFeesAndEmission(uint256 totalRewards, uint256 allowed);
    error WrongProof(address account, uint256 cumulative);
    error NothingToClaim(address account, uint256 cumulative, uint256 claimed);
    error OnlyRegistry(address caller);

    /// @param metas The registry's whitelist at deployment (the registry reports changes from then on).
    constructor(IMetaWhitelist registry_, IPayer vault_, uint256 quorum_, uint256 emissionPerEpoch_, address[] memory metas)
        EIP712("Konbini", "1")
    {
        registry = registry_;
        vault = vault_;
        quorum = quorum_;
        emissionPerEpoch = emissionPerEpoch_;
        for (uint256 i = 0; i < metas.length; i++) {
            isMeta[metas[i]] = registry_.isMeta(metas[i]);
        }
    }

    /// @inheritdoc IMetaWhitelistMirror
    function metaChanged(address account, bool whitelisted) external {
        if (msg.sender != address(registry)) revert OnlyRegistry(msg.sender);
        isMeta[account] = whitelisted;
    }

    /// @notice Settles the next epoch with a quorum of meta nodes' signatures (signers in ascending address order).
    function submitReport(Report calldata r, bytes calldata signatures) external {
        if (r.epoch != lastEpoch + 1) revert EpochNotNext(r.epoch, lastEpoch + 1);
        if (r.totalRewards < totalRewards || r.totalSpent < totalSpent) revert TotalsDecrease();
        uint256 allowed = uint256(r.totalSpent) + emissionPerEpoch * r.epoch;
        if (r.totalRewards > allowed) revert RewardsBeyondFeesAndEmission(r.totalRewards, allowed);
        QuorumSignatures.check(reportDigest(r), signatures, isMeta, quorum);
        lastEpoch = r.epoch;
        totalRewards = r.totalRewards;
        totalSpent = r.totalSpent;
        rewardRoot = r.rewardRoot;
        spendRoot = r.spendRoot;
        emit ReportSubmitted(r.epoch, r.rewardRoot, r.spendRoot, r.totalRewards, r.totalSpent, r.archiveCid);
    }

    /// @notice The EIP-712 digest meta nodes sign for `r`.
    function reportDigest(Report calldata r) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(REPORT_TYPEHASH, r.epoch, r.rewardRoot, r.spendRoot, r.totalRewards, r.totalSpent, keccak256(r.archiveCid))
            )
        );
    }

    /// @notice Pays `account` what it earned in all (`cumulative`, proven in the latest reward tree) minus what it has claimed.
    function claim(address account, uint256 cumulative, bytes32[] calldata proof) external {
        if (!MerkleProof.verifyCalldata(proof, rewardRoot, _leaf(account, cumulative))) revert WrongProof(account, cumulative);
        uint256 already = claimed[account];
        if (cumulative <= already) revert NothingToClaim(account, cumulative, already);
        claimed[account] = cumulative;
        vault.payOut(account, cumulative - already);
        emit Claimed(account, cumulative - already, cumulative);
    }

    /// @inheritdoc ISpendLedger
    function verifySpent(address payer, uint256 cumulativeSpent, bytes32[] calldata proof) external view returns (bool) {
        return MerkleProof.verifyCalldata(proof, spendRoot, _leaf(payer, cumulativeSpent));
    }

    function _leaf(address account, uint256 amount) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, amount))));
    }
}

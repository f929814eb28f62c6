// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IMetaWhitelist, IMetaWhitelistMirror, QuorumSignatures} from "./QuorumSignatures.sol";

/// @title Resource nodes with stake, and the meta nodes their operators vote in.
/// @notice A node is keyed by the keccak256 of its libp2p peer id (multihash bytes). Its binding
/// (the peer key's signature of `konbini-node-binding:<operator>`) is an Ed25519 signature: the
/// chain stores it in the registration event and meta nodes verify it before they count the node.
/// Operators' stake weighs their votes; more than half of all stake whitelists a candidate or
/// kicks a meta node. A quorum of meta nodes may slash a node's stake.
contract Registry is IMetaWhitelist, EIP712 {
    using SafeERC20 for IERC20;

    struct Node {
        address operator;
        uint96 stake;
        /// @dev 0 while staked; when unstaking, the time the stake may be withdrawn.
        uint64 unbondingEnds;
    }

    bytes32 private constant SLASH_TYPEHASH = keccak256("Slash(bytes32 node,uint96 amount,uint64 nonce)");

    IERC20 public immutable token;
    uint256 public immutable minNodeStake;
    uint64 public immutable unbondingSeconds;
    /// @notice Signatures of distinct whitelisted meta nodes needed to slash (and to settle an epoch).
    uint256 public immutable quorum;

    mapping(bytes32 id => Node) public nodes;
    /// @notice Stake an operator has bonded over all its nodes (its vote weight).
    mapping(address operator => uint256) public operatorStake;
    uint256 public totalStake;

    mapping(address => bool) public isMeta;
    uint256 public metaCount;
    /// @notice Votes for flipping a candidate's status (whitelist it, or kick it when it is a meta), this round.
    mapping(address candidate => uint256) public support;
    /// @dev Each flip starts a new round: earlier votes no longer count.
    mapping(address candidate => uint256) public round;
    mapping(address voter => mapping(address candidate => Vote)) public votes;
    /// @notice Votes a voter has standing (its stake cannot unbond while it has any).
    mapping(address voter => uint256) public activeVotes;
    mapping(uint64 nonce => bool) public slashNonceUsed;
    /// @notice The settlement, told of every whitelist change (set once by the deployer).
    IMetaWhitelistMirror public mirror;
    address private immutable deployer;

    struct Vote {
        uint128 weight;
        uint128 round;
    }

    event NodeRegistered(bytes32 indexed id, address indexed operator, bytes peerId, uint256 stake, bytes binding);
    event UnstakeRequested(bytes32 indexed id, uint64 unbondingEnds);
    event StakeWithdrawn(bytes32 indexed id, address indexed operator, uint256 amount);
    event Voted(address indexed voter, address indexed candidate, uint256 weight, uint256 support);
    event MetaWhitelisted(address indexed meta);
    event MetaKicked(address indexed meta);
    event Slashed(bytes32 indexed id, uint256 amount, uint64 nonce);

    error StakeTooLow(uint256 stake, uint256 minimum);
    error NodeExists(bytes32 id);
    error NotOperator(bytes32 id, address caller);
    error AlreadyUnbonding(bytes32 id);
    error StillBonded(bytes32 id, uint64 unbondingEnds);
    error VotesActive(address voter, uint256 votes);
    error NoStake(address voter);
    error AlreadyVoted(address voter, address candidate);
    error NoVote(address voter, address candidate);
    error NonceUsed(uint64 nonce);
    error SlashTooLarge(bytes32 id, uint256 amount, uint256 stake);
    error AlreadyLinked();

    constructor(IERC20 token_, uint256 minNodeStake_, uint64 unbondingSeconds_, uint256 quorum_, address[] memory metas)
        EIP712("Konbini", "1")
    {
        token = token_;
        minNodeStake = minNodeStake_;
        unbondingSeconds = unbondingSeconds_;
        quorum = quorum_;
        deployer = msg.sender;
        for (uint256 i = 0; i < metas.length; i++) {
            if (!isMeta[metas[i]]) {
                isMeta[metas[i]] = true;
                metaCount++;
                emit MetaWhitelisted(metas[i]);
            }
        }
    }

    /// @notice Links the settlement once: it keeps a copy of the whitelist, updated on every vote that flips one.
    function link(IMetaWhitelistMirror mirror_) external {
        if (msg.sender != deployer || address(mirror) != address(0)) revert AlreadyLinked();
        mirror = mirror_;
    }

    /// @notice Registers a node under the caller as operator, bonding `stake` tokens (approved first).
    function registerNode(bytes calldata peerId, uint96 stake, bytes calldata binding) external returns (bytes32 id) {
        if (stake < minNodeStake) revert StakeTooLow(stake, minNodeStake);
        id = keccak256(peerId);
        if (nodes[id].operator != address(0)) revert NodeExists(id);
        nodes[id] = Node({operator: msg.sender, stake: stake, unbondingEnds: 0});
        operatorStake[msg.sender] += stake;
        totalStake += stake;
        token.safeTransferFrom(msg.sender, address(this), stake);
        emit NodeRegistered(id, msg.sender, peerId, stake, binding);
    }

    /// @notice Starts unbonding a node's stake: it stops counting at once and is withdrawable after `unbondingSeconds`.
    function requestUnstake(bytes32 id) external {
        Node storage node = nodes[id];
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        if (node.unbondingEnds != 0) revert AlreadyUnbonding(id);
        if (activeVotes[msg.sender] > 0) revert VotesActive(msg.sender, activeVotes[msg.sender]);
        node.unbondingEnds = uint64(block.timestamp) + unbondingSeconds;
        operatorStake[msg.sender] -= node.stake;
        totalStake -= node.stake;
        emit UnstakeRequested(id, node.unbondingEnds);
    }

    /// @notice Pays an unbonded node's remaining stake back to its operator.
    function withdrawStake(bytes32 id) external {
        Node memory node = nodes[id];
        if (node.operator != msg.sender) revert NotOperator(id, msg.sender);
        if (node.unbondingEnds == 0 || block.timestamp < node.unbondingEnds) revert StillBonded(id, node.unbondingEnds);
        delete nodes[id];
        token.safeTransfer(msg.sender, node.stake);
        emit StakeWithdrawn(id, msg.sender, node.stake);
    }

    /// @notice Votes, with all the caller's bonded stake, to flip `candidate`: whitelist it, or kick it if it is a meta node.
    function vote(address candidate) external {
        uint256 weight = operatorStake[msg.sender];
        if (weight == 0) revert NoStake(msg.sender);
        Vote memory previous = votes[msg.sender][candidate];
        if (previous.weight != 0) {
            if (previous.round == round[candidate]) revert AlreadyVoted(msg.sender, candidate);
        } else {
            activeVotes[msg.sender]++;
        }
        votes[msg.sender][candidate] = Vote({weight: uint128(weight), round: uint128(round[candidate])});
        support[candidate] += weight;
        emit Voted(msg.sender, candidate, weight, support[candidate]);
        tally(candidate);
    }

    /// @notice Withdraws the caller's vote on `candidate` (counted only if cast this round).
    function unvote(address candidate) external {
        Vote memory v = votes[msg.sender][candidate];
        if (v.weight == 0) revert NoVote(msg.sender, candidate);
        if (v.round == round[candidate]) support[candidate] -= v.weight;
        delete votes[msg.sender][candidate];
        activeVotes[msg.sender]--;
    }

    /// @notice Flips `candidate` when more than half of all bonded stake supports it.
    function tally(address candidate) public {
        if (support[candidate] * 2 <= totalStake) return;
        support[candidate] = 0;
        round[candidate]++;
        if (isMeta[candidate]) {
            isMeta[candidate] = false;
            metaCount--;
            emit MetaKicked(candidate);
        } else {
            isMeta[candidate] = true;
            metaCount++;
            emit MetaWhitelisted(candidate);
        }
        if (address(mirror) != address(0)) mirror.metaChanged(candidate, isMeta[candidate]);
    }

    /// @notice Burns `amount` of a node's stake, signed by a quorum of meta nodes (EIP-712 `Slash`).
    function slash(bytes32 id, uint96 amount, uint64 nonce, bytes calldata signatures) external {
        if (slashNonceUsed[nonce]) revert NonceUsed(nonce);
        Node storage node = nodes[id];
        if (amount > node.stake) revert SlashTooLarge(id, amount, node.stake);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(SLASH_TYPEHASH, id, amount, nonce)));
        QuorumSignatures.check(digest, signatures, isMeta, quorum);
        slashNonceUsed[nonce] = true;
        node.stake -= amount;
        if (node.unbondingEnds == 0) {
            operatorStake[node.operator] -= amount;
            totalStake -= amount;
        }
        token.safeTransfer(address(0xdead), amount);
        emit Slashed(id, amount, nonce);
    }
}

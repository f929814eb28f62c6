// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Who may sign for the meta quorum (the Registry's whitelist).
interface IMetaWhitelist {
    function isMeta(address account) external view returns (bool);
}

/// @notice A contract that keeps its own copy of the whitelist (a local read per signer instead of a call).
interface IMetaWhitelistMirror {
    function metaChanged(address account, bool whitelisted) external;
}

/// @title k-of-n signatures of whitelisted meta nodes over one EIP-712 digest.
library QuorumSignatures {
    /// @notice Fewer valid signatures than the quorum.
    error QuorumNotReached(uint256 valid, uint256 quorum);
    /// @notice Signers must be given in strictly increasing address order (no signer twice).
    error SignersNotAscending(address signer);
    /// @notice Signatures are 65 bytes each (r, s, v), concatenated.
    error BadSignaturesLength(uint256 length);
    /// @notice A signer the whitelist does not hold (never voted in, or kicked).
    error NotMeta(address signer);

    /// @dev Reverts unless at least `quorum` distinct whitelisted metas signed `digest`.
    /// `signatures` is n × 65 bytes (r, s, v), packed: a third of the calldata of `bytes[]`.
    function check(bytes32 digest, bytes calldata signatures, mapping(address => bool) storage isMeta, uint256 quorum) internal view {
        if (signatures.length % 65 != 0) revert BadSignaturesLength(signatures.length);
        uint256 count = signatures.length / 65;
        if (count < quorum) revert QuorumNotReached(count, quorum);
        address previous;
        for (uint256 i = 0; i < count; i++) {
            bytes32 r = bytes32(signatures[i * 65:i * 65 + 32]);
            bytes32 s = bytes32(signatures[i * 65 + 32:i * 65 + 64]);
            uint8 v = uint8(signatures[i * 65 + 64]);
            address signer = ECDSA.recover(digest, v, r, s);
            if (signer <= previous) revert SignersNotAscending(signer);
            if (!isMeta[signer]) revert NotMeta(signer);
            previous = signer;
        }
    }
}

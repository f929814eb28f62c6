// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title Konbini token: stake, traffic credit and rewards.
/// @notice A fixed supply minted once to `holder`; nothing mints later (epoch emission is paid
/// from a reserve the deployer funds in the Credit vault).
contract KonbiniToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Konbini", "KBT") {
        _mint(holder, supply);
    }
}

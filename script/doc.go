// Package script builds the taproot outputs of Babylon-style Bitcoin staking
// byte for byte as Babylon's btcstaking package does, and everything a
// wallet needs to spend them: per-leaf scripts, leaf hashes, control blocks,
// witness assembly for every spend path, output descriptors, and the phase-1
// OP_RETURN staking data with a recogniser for staking transactions.
//
// Three outputs exist (docs/spec.md §3):
//
//	staking output         tr(NUMS, {{timelock(stakingTime), unbonding}, slashing})
//	unbonding output       tr(NUMS, {timelock(unbondingTime), slashing})
//	slashing change output tr(NUMS, timelock(unbondingTime))
//
// Every output has the BIP-341 NUMS point as its internal key, so the key
// path cannot be spent: each spend reveals one leaf script (a [SpendPath]) and
// its control block, and supplies the signatures that leaf demands, in the
// order [Output.Witness] assembles them.
//
// All keys inside scripts are 32-byte x-only BIP-340 keys. Multisig leaves
// list their keys ascending; witnesses list the matching signature slots
// descending, with an empty item for every key that did not sign.
package script

// Package psbt builds every transaction of the staking lifecycle as a
// BIP-174 PSBT with the BIP-371 taproot fields, so that any signer (a
// hardware wallet, Bitcoin Core's walletprocesspsbt, this package's Sign
// functions) can sign it, and finalises script-path inputs with the witness
// the staking scripts demand.
//
// The lifecycle (docs/spec.md §4):
//
//	staking tx   funding UTXOs -> staking output (+ phase-1 OP_RETURN) (+ change)
//	unbonding tx staking output (unbonding path) -> unbonding output, fee = params.UnbondingFee()
//	slashing tx  staking or unbonding output (slashing path) -> slashing output + slashing change
//	withdraw tx  a timelock path (staking, unbonding or slashing change output) -> any address
//
// Every builder validates against Params before it builds: BuildStaking
// refuses a staking transaction whose later unbonding or slashing
// transactions could not be valid, because those coins could then never be
// unbonded or slashed as the protocol expects.
package psbt

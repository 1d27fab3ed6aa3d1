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
//	extension tx previous staking output (unbonding path) + funding coin -> new staking output (+ change) (§11)
//
// Every builder validates against the delegation's params (package params:
// validated once, immutable) before it builds: BuildStaking refuses a
// staking transaction whose later unbonding or slashing transactions could
// not be valid, because those coins could then never be unbonded or slashed
// as the protocol expects.
//
// One file per transaction holds its builder and its validation
// (staking.go, unbonding.go, slashing.go, withdraw.go, extension.go); sign.go,
// covenant.go, adaptor.go and finalize.go sign, check and assemble.
//
// Safety rules are this package's, not only the CLI's: SignTapscript signs
// as the staker and refuses covenant and finality-provider keys on slashing
// leaves (ErrSlashingLeafRole) and covenant keys elsewhere
// (ErrUncheckedCovenant); a covenant member signs through CovenantSigner,
// which checks the transaction against the delegation first (for a stake
// extension, CovenantSigner.SignExtension against both delegations). Sign
// applies them to any key: a covenant key on input 0 of a stake extension
// goes to SignExtension with the delegations SignRequest.Extension gives.
// Analyze tells the kinds apart, a stake extension included (TxExtension).
package psbt

package psbt

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcstake/btcstake/script"
)

// sigCheck is one BIP-340 signature to verify: sig over hash under key.
type sigCheck struct {
	key  script.XOnlyKey
	hash []byte
	sig  []byte
}

// verifySchnorrBatch verifies every check at once (BIP-340 batch
// verification, internal/secp.VerifyBatch) and returns one error per
// check, nil for the valid ones; each error is the one verifySchnorr
// gives that check alone (a key that is not a curve point, a malformed
// signature, or ErrBadSignature "does not verify against the sighash").
func verifySchnorrBatch(checks []sigCheck) []error {
	errs := make([]error, len(checks))
	keys := make([]secp.PubKey, len(checks))
	items := make([]secp.BatchItem, 0, len(checks))
	index := make([]int, 0, len(checks))
	for i, c := range checks {
		k, ok := secp.ParsePubKey((*[32]byte)(&c.key))
		if !ok {
			_, errs[i] = c.key.PubKey()
			continue
		}
		if _, err := schnorr.ParseSignature(c.sig); err != nil {
			errs[i] = fmt.Errorf("%w: %v", ErrBadSignature, err)
			continue
		}
		keys[i] = k
		items = append(items, secp.BatchItem{Key: &keys[i], R: [32]byte(c.sig[:32]), S: [32]byte(c.sig[32:64]), Msg: c.hash})
		index = append(index, i)
	}
	for _, f := range secp.VerifyBatch(items) {
		errs[index[f.Index]] = fmt.Errorf("%w: does not verify against the sighash", ErrBadSignature)
	}
	return errs
}

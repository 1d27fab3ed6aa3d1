package psbt

import (
	"github.com/btcsuite/btcd/wire/v2"
)

// The relay-policy arithmetic the builders need, written here rather than
// imported from btcd's node packages (mempool, blockchain): those live in
// the btcd root module, which would then be forced on every program that
// imports this library, breaking the ones still on btcd v0.24/v0.25. The
// dust rule is internal/policy's.

// txWeightOf is a transaction's weight (BIP-141): its size without
// witnesses counted four times, plus the witness bytes once, which is
// stripped size * 3 + full size.
func txWeightOf(tx *wire.MsgTx) int64 {
	return int64(tx.SerializeSizeStripped()*3 + tx.SerializeSize())
}

package monitor

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
)

// FuzzRevealedPath: any witness a spender shows is read without panicking,
// and a path is named only when the witness reveals exactly that path's
// leaf script.
func FuzzRevealedPath(f *testing.F) {
	w := newWorld(f)
	out := w.stake.Staking
	for _, p := range out.Paths {
		f.Add([]byte{1, 2}, p.Script, p.ControlBlock, false)
	}
	f.Add([]byte{}, []byte{}, []byte{0x50}, true)
	f.Fuzz(func(t *testing.T, a, b, c []byte, annex bool) {
		wit := wire.TxWitness{a, b, c}
		if annex {
			wit = append(wit, append([]byte{0x50}, a...))
		}
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{}, nil, wit))
		k, err := revealedPath(&chain.Spend{Tx: tx, Txid: tx.TxHash()}, out)
		if err != nil {
			return
		}
		p, perr := out.Path(k)
		if perr != nil || !bytes.Equal(p.Script, b) {
			t.Fatalf("named %v for a witness revealing %x", k, b)
		}
	})
}

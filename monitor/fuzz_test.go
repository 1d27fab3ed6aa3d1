package monitor

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
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

// FuzzNewStake: any transaction given to status as the staking
// transaction, at any height, either becomes a Stake whose outpoint is the
// one output of it paying the delegation's staking output (at the height
// given), or is refused with ErrInvalidArgument or one of psbt's
// transaction kinds; nothing panics.
func FuzzNewStake(f *testing.F) {
	prm, err := params.Load("../params/regtest-example.json")
	if err != nil {
		f.Fatal(err)
	}
	k1, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{1}, 32))
	k2, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{2}, 32))
	d := psbt.Delegation{Params: prm, Staker: k1.PubKey(), FinalityProviders: []*btcec.PublicKey{k2.PubKey()}, StakingTime: 144}
	st, err := d.StakingOutput()
	if err != nil {
		f.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: [32]byte{7}}})
	tx.AddTxOut(wire.NewTxOut(30_000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	tx.AddTxOut(wire.NewTxOut(100_000, st.PkScript))
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes(), int64(812_345))
	f.Add(b.Bytes(), int64(-1))
	f.Add(b.Bytes(), int64(-2))
	tx.TxOut[0].PkScript = st.PkScript
	b.Reset()
	_ = tx.Serialize(&b)
	f.Add(b.Bytes(), int64(0)) // two staking outputs
	f.Fuzz(func(t *testing.T, raw []byte, height int64) {
		tx := new(wire.MsgTx)
		if tx.Deserialize(bytes.NewReader(raw)) != nil {
			return
		}
		s, err := NewStake(tx, height, d)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, psbt.ErrInvalidTx) {
				t.Fatalf("error of no expected kind: %v", err)
			}
			return
		}
		n := 0
		for _, o := range tx.TxOut {
			if bytes.Equal(o.PkScript, st.PkScript) {
				n++
			}
		}
		if height < -1 || s.Height != height || s.OutPoint.Hash != tx.TxHash() || int(s.OutPoint.Index) >= len(tx.TxOut) ||
			!bytes.Equal(tx.TxOut[s.OutPoint.Index].PkScript, st.PkScript) || n != 1 {
			t.Fatalf("stake %+v from a transaction with %d staking outputs at height %d", s, n, height)
		}
	})
}

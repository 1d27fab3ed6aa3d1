package regtest

import (
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func TestSmoke(t *testing.T) {
	t0 := time.Now()
	n := NewTestNode(t, Options{})
	t.Logf("start+mine: %v", time.Since(t0))
	h, err := n.Height()
	if err != nil || h != DefaultInitialBlocks {
		t.Fatalf("height %d %v", h, err)
	}
	key, _ := btcec.NewPrivateKey()
	pk, _ := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	t0 = time.Now()
	op, tx, err := n.Fund(pk, 100000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fund: %v %v", time.Since(t0), op)
	_ = tx
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.WaitConfirmations(ctx, op.Hash, 1); err != nil {
		t.Fatal(err)
	}
	_ = schnorr.Sign
	_ = wire.NewMsgTx
}

package regtest

import (
	"bytes"
	"errors"
	"math/big"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestCompactTarget: the compact difficulty decodes to the target Bitcoin
// documents for it, and the genesis blocks meet their own targets.
func TestCompactTarget(t *testing.T) {
	// Difficulty 1 (bits 0x1d00ffff): 0xffff followed by 26 zero bytes.
	want, _ := new(big.Int).SetString("00000000ffff0000000000000000000000000000000000000000000000000000", 16)
	if got := compactToBig(0x1d00ffff); got.Cmp(want) != 0 {
		t.Fatalf("compactToBig(0x1d00ffff) = %x, want %x", got, want)
	}
	for _, p := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.RegressionNetParams} {
		h := p.GenesisBlock.Header
		if hashToBig(h.BlockHash()).Cmp(compactToBig(h.Bits)) > 0 {
			t.Errorf("%s genesis hash %s does not meet its own target", p.Name, h.BlockHash())
		}
		if hashToBig(h.BlockHash()).Cmp(p.PowLimit) > 0 {
			t.Errorf("%s genesis hash above the pow limit", p.Name)
		}
	}
}

// TestMineCoinbase: a block the harness builds is accepted as the new tip
// and holds exactly the coinbase CoinbaseTx describes; a value above the
// block reward, or an unusable tag, changes nothing.
func TestMineCoinbase(t *testing.T) {
	n := NewTestNode(t, Options{})
	pk := append([]byte{0x00, 0x14}, make([]byte, 20)...)
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		value int64
		tag   []byte
	}{
		{"above the reward", n.subsidy(tip+1) + 1, []byte("t")},
		{"zero value", 0, []byte("t")},
		{"no tag", 1000, nil},
		{"tag too long", 1000, make([]byte, maxCoinbaseTag+1)},
	} {
		if _, _, err := n.MineCoinbase(pk, c.value, c.tag); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", c.name, err)
		}
	}
	if h, err := n.Height(); err != nil || h != tip {
		t.Fatalf("refused coinbases moved the tip to %d (%v)", h, err)
	}

	cb, height, err := n.MineCoinbase(pk, 12_345_678, []byte("btcstake test"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := CoinbaseTx(tip+1, []byte("btcstake test"), pk, 12_345_678)
	if err != nil {
		t.Fatal(err)
	}
	if height != tip+1 || cb.TxHash() != want.TxHash() {
		t.Fatalf("height %d coinbase %s, want %d and %s", height, cb.TxHash(), tip+1, want.TxHash())
	}
	b, err := n.BlockAt(height)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Transactions) != 1 || b.Transactions[0].TxHash() != want.TxHash() {
		t.Fatalf("block %d holds %d txs, first %s", height, len(b.Transactions), b.Transactions[0].TxHash())
	}
	out, err := n.GetTxOut(wire.OutPoint{Hash: want.TxHash()})
	if err != nil || out.Value != 12_345_678 || !bytes.Equal(out.PkScript, pk) || !out.Coinbase || out.Confirmations != 1 {
		t.Fatalf("the coinbase's output: %+v (%v)", out, err)
	}
	// The node mines on top of it.
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	if h, _ := n.Height(); h != height+1 {
		t.Fatalf("tip %d after mining on the harness's block at %d", h, height)
	}
}

package chain_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/regtest"
)

// keySpend builds a version-2 transaction spending op (value sat, paying
// key's BIP-86 output) to pkScript less fee, signed by key path.
func keySpend(t *testing.T, key *btcec.PrivateKey, pk []byte, op wire.OutPoint, value, fee int64) *wire.MsgTx {
	t.Helper()
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value-fee, pk))
	fetcher := txscript.NewCannedPrevOutputFetcher(pk, value)
	wit, err := txscript.TaprootWitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, value, pk, txscript.SigHashDefault, key)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
	return tx
}

// TestNodeHappyPaths runs the client against the real regtest node, with
// and without a transaction index: chain check, tip, a payment followed
// from the mempool to a block, its spend found, waits that end when a
// block is mined (polling, never sleeping).
func TestNodeHappyPaths(t *testing.T) {
	for _, noIndex := range []bool{false, true} {
		name := map[bool]string{false: "txindex", true: "no txindex"}[noIndex]
		t.Run(name, func(t *testing.T) { happyPaths(t, noIndex) })
	}
}

func happyPaths(t *testing.T, noIndex bool) {
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: noIndex})
	c := n.Chain()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if err := c.CheckNetwork(ctx, &chaincfg.RegressionNetParams); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckNetwork(ctx, &chaincfg.MainNetParams); !errors.Is(err, chain.ErrWrongChain) {
		t.Fatalf("a regtest node passed as mainnet: %v", err)
	}
	tip, err := c.Tip(ctx)
	if err != nil || tip.Height != regtest.DefaultInitialBlocks {
		t.Fatalf("tip %+v, %v", tip, err)
	}
	info, err := c.Info(ctx)
	wantIndex := map[bool]chain.TxIndexState{false: chain.TxIndexOn, true: chain.TxIndexOff}[noIndex]
	if err != nil || info.Implementation != chain.ImplBtcd || info.Version != pinnedBtcd(t) || info.TxIndex != wantIndex ||
		info.Genesis != *chaincfg.RegressionNetParams.GenesisHash || info.Blocks != tip.Height || info.BestBlock != tip.Hash || info.Pruned {
		t.Fatalf("info %+v, %v", info, err)
	}
	if h, err := c.BlockHash(ctx, tip.Height); err != nil || h != tip.Hash {
		t.Fatalf("hash at the tip height %v, %v; tip %v", h, err, tip.Hash)
	}

	key, _ := btcec.NewPrivateKey()
	pk, _ := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	const amount = 500_000
	op, fundTx, err := n.Fund(pk, amount)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := c.Locate(ctx, fundTx); err != nil || info.Confirmed() || info.Confirmations != 0 {
		t.Fatalf("funding tx in the mempool: %+v, %v", info, err)
	}
	if sp, err := c.FindSpend(ctx, op, chain.SpendSearch{FromHeight: tip.Height}); err != nil || sp != nil {
		t.Fatalf("unspent output: %+v, %v", sp, err)
	}

	// A wait started before the block is mined ends when it is.
	type result struct {
		n   int64
		err error
	}
	// Two waits: one holding the transaction (followed through its
	// outputs), one knowing only its id (followed through the blocks
	// without an index). Both have seen it in the mempool before the
	// block is mined.
	done := make(chan result, 2)
	seen := make(chan int64, 2)
	for _, tx := range []*wire.MsgTx{fundTx, nil} {
		go func() {
			got, err := c.WaitConfirmations(ctx, op.Hash, 1, chain.WaitOptions{Interval: 10 * time.Millisecond, Tx: tx,
				Progress: func(n int64) {
					if n == 0 {
						seen <- n
					}
				}})
			done <- result{got, err}
		}()
	}
	<-seen
	<-seen
	hashes, err := n.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if r := <-done; r.err != nil || r.n != 1 {
			t.Fatalf("wait: %d, %v", r.n, r.err)
		}
	}
	height := tip.Height + 1
	located, err := c.Locate(ctx, fundTx)
	if err != nil || located.Height != height || located.Block != hashes[0] || located.Confirmations != 1 {
		t.Fatalf("locate: %+v, %v", located, err)
	}
	if info, err := c.TransactionInBlock(ctx, op.Hash, hashes[0]); err != nil || info.Height != height {
		t.Fatalf("in block: %+v, %v", info, err)
	}
	// By id alone: by the index, or by reading the blocks.
	for _, s := range []chain.TxSearch{{}, {FromHeight: height}, {MaxBlocks: 1}} {
		if info, err := c.FindTransaction(ctx, op.Hash, s); err != nil || info.Height != height || info.Block != hashes[0] || info.Tx.TxHash() != op.Hash {
			t.Fatalf("find %+v: %+v, %v", s, info, err)
		}
	}
	if _, err := c.FindTransaction(ctx, op.Hash, chain.TxSearch{FromHeight: height + 1}); noIndex && !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("find above its block: %v", err)
	}
	txInfo, err := c.Transaction(ctx, op.Hash)
	if noIndex && !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("by id without an index: %+v, %v", txInfo, err)
	}
	if !noIndex && (err != nil || txInfo.Height != height || txInfo.Tx.TxHash() != op.Hash) {
		t.Fatalf("by id: %+v, %v", txInfo, err)
	}
	out, err := c.TxOut(ctx, op)
	if err != nil || out.Value != amount || out.Confirmations != 1 {
		t.Fatalf("txout %+v, %v", out, err)
	}

	// Spend it: accepted, broadcast (twice: the second is a no-op), found
	// in the mempool, then in its block.
	spend := keySpend(t, key, pk, op, amount, 1_000)
	if err := c.TestMempoolAccept(ctx, spend); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if txid, err := c.Broadcast(ctx, spend); err != nil || txid != spend.TxHash() {
			t.Fatalf("broadcast %d: %s, %v", i, txid, err)
		}
	}
	sp, err := c.FindSpend(ctx, op, chain.SpendSearch{FromHeight: height})
	if err != nil || sp == nil || sp.Txid != spend.TxHash() || sp.Confirmed() || sp.Input != 0 {
		t.Fatalf("mempool spend: %+v, %v", sp, err)
	}
	if _, err := c.TxOut(ctx, op); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("output spent in the mempool: %v", err)
	}
	if hashes, err = n.Mine(1); err != nil {
		t.Fatal(err)
	}
	sp, err = c.FindSpend(ctx, op, chain.SpendSearch{FromHeight: height})
	if err != nil || sp == nil || sp.Txid != spend.TxHash() || sp.Height != height+1 || sp.Block != hashes[0] {
		t.Fatalf("confirmed spend: %+v, %v", sp, err)
	}
	// A conflicting spend of the spent output: missing inputs, on both
	// calls, classified from the node's own text.
	conflict := keySpend(t, key, pk, op, amount, 2_000)
	if err := c.TestMempoolAccept(ctx, conflict); !errors.Is(err, chain.ErrMissingInputs) {
		t.Fatalf("testmempoolaccept of a spent input: %v", err)
	}
	if _, err := c.Broadcast(ctx, conflict); !errors.Is(err, chain.ErrMissingInputs) {
		t.Fatalf("broadcast of a spent input: %v", err)
	}
	// Already mined: waiting is immediate.
	if got, err := c.WaitConfirmations(ctx, spend.TxHash(), 1, chain.WaitOptions{Tx: spend}); err != nil || got != 1 {
		t.Fatalf("wait for a mined tx: %d, %v", got, err)
	}
}

// pinnedBtcd is the btcd version the harness builds, read from its go.mod.
func pinnedBtcd(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "regtest", "btcdnode", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*github\.com/btcsuite/btcd v(\d+\.\d+\.\d+)\b`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no btcd version in regtest/btcdnode/go.mod")
	}
	return string(m[1])
}

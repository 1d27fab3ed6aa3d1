package regtest

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// p2trKey is a BIP-86 key-path output the test controls.
type p2trKey struct {
	key      *btcec.PrivateKey
	pkScript []byte
}

func newP2TRKey(t *testing.T) p2trKey {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	pk, err := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	if err != nil {
		t.Fatal(err)
	}
	return p2trKey{key, pk}
}

// spend builds a version-2 transaction spending prevOut (paying k) to
// pkScript with the given fee, signed by signer's key-path signature.
func (k p2trKey) spend(t *testing.T, op wire.OutPoint, value int64, to []byte, fee int64, signer *btcec.PrivateKey) *wire.MsgTx {
	t.Helper()
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value-fee, to))
	fetcher := txscript.NewCannedPrevOutputFetcher(k.pkScript, value)
	wit, err := txscript.TaprootWitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, value, k.pkScript, txscript.SigHashDefault, signer)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
	return tx
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestFundSpendConfirm runs the harness end to end: fund a P2TR output,
// confirm it, spend it by key path, see the spend confirmed and found in
// the block scan.
func TestFundSpendConfirm(t *testing.T) {
	n := NewTestNode(t, Options{})
	h, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	if h != DefaultInitialBlocks {
		t.Fatalf("height after start = %d, want %d", h, DefaultInitialBlocks)
	}
	spendable, immature, err := n.Balance()
	if err != nil {
		t.Fatal(err)
	}
	// Blocks 1..11 are mature for a spend in block 111 (50 BTC each).
	if want := int64(DefaultInitialBlocks-99) * 50e8; spendable != want {
		t.Fatalf("spendable %d, want %d (immature %d)", spendable, want, immature)
	}

	k := newP2TRKey(t)
	const amount = 1_000_000
	op, fundTx, err := n.Fund(k.pkScript, amount)
	if err != nil {
		t.Fatal(err)
	}
	if op.Hash != fundTx.TxHash() || fundTx.TxOut[op.Index].Value != amount {
		t.Fatalf("Fund returned outpoint %v not paying %d in its tx", op, amount)
	}
	if c, err := n.Confirmations(op.Hash); err != nil || c != 0 {
		t.Fatalf("unmined funding tx: confirmations %d, %v", c, err)
	}
	out, err := n.GetTxOut(op)
	if err != nil {
		t.Fatal(err)
	}
	if out.Value != amount || string(out.PkScript) != string(k.pkScript) || out.Confirmations != 0 || out.Coinbase {
		t.Fatalf("GetTxOut of the mempool output = %+v", out)
	}
	hashes, err := n.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitConfirmations(ctxT(t), op.Hash, 1); err != nil {
		t.Fatal(err)
	}
	blk, err := n.GetBlock(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	if !blockHas(blk, op.Hash) {
		t.Fatal("the mined block does not contain the funding tx")
	}

	spend := k.spend(t, op, amount, k.pkScript, 500, k.key)
	if err := n.TestMempoolAccept(spend); err != nil {
		t.Fatalf("testmempoolaccept of a valid spend: %v", err)
	}
	txid, err := n.Broadcast(spend)
	if err != nil {
		t.Fatal(err)
	}
	if txid != spend.TxHash() {
		t.Fatalf("broadcast returned %s, want %s", txid, spend.TxHash())
	}
	if _, err := n.GetTxOut(op); !errors.Is(err, ErrNotFound) {
		t.Fatalf("output spent in the mempool: GetTxOut err = %v, want ErrNotFound", err)
	}
	if _, err := n.Mine(2); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitConfirmations(ctxT(t), txid, 2); err != nil {
		t.Fatal(err)
	}
	got, err := n.GetRawTransaction(txid)
	if err != nil {
		t.Fatal(err)
	}
	if got.WitnessHash() != spend.WitnessHash() {
		t.Fatal("GetRawTransaction returned a different transaction")
	}
	tip, _ := n.Height()
	var foundAt int32 = -1
	err = n.ScanBlocks(tip-3, tip, func(height int32, b *wire.MsgBlock) error {
		if blockHas(b, txid) {
			foundAt = height
		}
		return nil
	})
	if err != nil || foundAt != tip-1 {
		t.Fatalf("block scan found the spend at %d (err %v), want %d", foundAt, err, tip-1)
	}

	// Unknown things are ErrNotFound.
	var bogus chainhash.Hash
	bogus[0] = 1
	if _, err := n.GetRawTransaction(bogus); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tx: %v", err)
	}
	if _, err := n.Confirmations(bogus); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown tx confirmations: %v", err)
	}
	if err := n.WaitConfirmations(ctxT(t), bogus, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("waiting on an unknown tx: %v", err)
	}
	if _, err := n.BlockAt(tip + 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("block above the tip: %v", err)
	}

	// A wait that cannot be satisfied ends with the context.
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := n.WaitConfirmations(short, txid, 100); !errors.Is(err, ErrTimeout) {
		t.Fatalf("unsatisfiable wait: %v, want ErrTimeout", err)
	}
}

func blockHas(b *wire.MsgBlock, txid chainhash.Hash) bool {
	for _, tx := range b.Transactions {
		if tx.TxHash() == txid {
			return true
		}
	}
	return false
}

// csvScript is a witness script anyone can spend once the output is
// `blocks` blocks old: <blocks> OP_CHECKSEQUENCEVERIFY OP_DROP OP_TRUE.
func csvScript(t *testing.T, blocks int64) (script, pkScript []byte) {
	t.Helper()
	script, err := txscript.NewScriptBuilder().AddInt64(blocks).AddOp(txscript.OP_CHECKSEQUENCEVERIFY).
		AddOp(txscript.OP_DROP).AddOp(txscript.OP_TRUE).Script()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(script)
	pkScript, err = txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h[:]).Script()
	if err != nil {
		t.Fatal(err)
	}
	return script, pkScript
}

// TestRejections provokes each rejection kind with a real transaction and
// checks both testmempoolaccept and sendrawtransaction classify it.
func TestRejections(t *testing.T) {
	n := NewTestNode(t, Options{})
	k := newP2TRKey(t)
	dest := newP2TRKey(t).pkScript

	// Outputs used below, funded and confirmed together.
	const csvBlocks = 5
	csvWitnessScript, csvPk := csvScript(t, csvBlocks)
	fundTx, err := n.FundOutputs(
		wire.NewTxOut(100_000, k.pkScript), // 0: key-path spends
		wire.NewTxOut(100_000, csvPk),      // 1: CSV-locked
		wire.NewTxOut(100_000, k.pkScript), // 2: double spend
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	fundID := fundTx.TxHash()
	op := func(i uint32) wire.OutPoint { return wire.OutPoint{Hash: fundID, Index: i} }

	// expect checks that both the dry run and the broadcast refuse tx with
	// kind (the dry run first, so the broadcast meets the same state).
	expect := func(t *testing.T, tx *wire.MsgTx, kind error) {
		t.Helper()
		err := n.TestMempoolAccept(tx)
		if !errors.Is(err, kind) || !errors.Is(err, ErrRejected) {
			t.Fatalf("testmempoolaccept: got %v, want %v", err, kind)
		}
		var re *RejectError
		if !errors.As(err, &re) || re.Reason == "" {
			t.Fatalf("testmempoolaccept: %v is not a *RejectError with a reason", err)
		}
		_, err = n.Broadcast(tx)
		if !errors.Is(err, kind) || !errors.Is(err, ErrRejected) {
			t.Fatalf("sendrawtransaction: got %v, want %v", err, kind)
		}
		t.Logf("%v", err)
	}

	t.Run("immature coinbase", func(t *testing.T) {
		tx, err := n.spendImmatureCoinbase(dest)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, tx, ErrImmatureCoinbase)
	})
	t.Run("missing inputs", func(t *testing.T) {
		var missing wire.OutPoint
		missing.Hash[0], missing.Index = 7, 3
		expect(t, k.spend(t, missing, 100_000, dest, 500, k.key), ErrMissingInputs)
	})
	t.Run("script failure", func(t *testing.T) {
		other, _ := btcec.NewPrivateKey()
		expect(t, k.spend(t, op(0), 100_000, dest, 500, other), ErrScriptFailure)

		tx := k.spend(t, op(0), 100_000, dest, 500, k.key)
		tx.TxIn[0].Witness[0][10] ^= 1 // a flipped bit in the signature
		expect(t, tx, ErrScriptFailure)
	})
	t.Run("fee", func(t *testing.T) {
		expect(t, k.spend(t, op(0), 100_000, dest, 0, k.key), ErrFeeTooLow)
	})
	t.Run("non-standard", func(t *testing.T) {
		tx := k.spend(t, op(0), 100_000, dest, 500, k.key)
		// Split off a 1-satoshi output: dust. Re-sign.
		tx.TxOut[0].Value -= 1
		tx.AddTxOut(wire.NewTxOut(1, dest))
		resigned := k.spend(t, op(0), 100_000, dest, 500, k.key)
		resigned.TxOut = tx.TxOut
		fetcher := txscript.NewCannedPrevOutputFetcher(k.pkScript, 100_000)
		wit, err := txscript.TaprootWitnessSignature(resigned, txscript.NewTxSigHashes(resigned, fetcher), 0, 100_000, k.pkScript, txscript.SigHashDefault, k.key)
		if err != nil {
			t.Fatal(err)
		}
		resigned.TxIn[0].Witness = wit
		expect(t, resigned, ErrNonStandard)
	})
	t.Run("non-final", func(t *testing.T) {
		tip, _ := n.Height()
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(ptr(op(0)), nil, nil))
		tx.TxIn[0].Sequence = wire.MaxTxInSequenceNum - 1
		tx.LockTime = uint32(tip + 10)
		tx.AddTxOut(wire.NewTxOut(99_500, dest))
		signKeyPath(t, tx, k, 100_000)
		expect(t, tx, ErrNonFinal)
	})
	t.Run("sequence lock", func(t *testing.T) {
		spend := func(seq uint32) *wire.MsgTx {
			tx := wire.NewMsgTx(2)
			tx.AddTxIn(wire.NewTxIn(ptr(op(1)), nil, wire.TxWitness{csvWitnessScript}))
			tx.TxIn[0].Sequence = seq
			tx.AddTxOut(wire.NewTxOut(99_000, dest))
			return tx
		}
		// The output confirmed at height h. A spend with sequence
		// csvBlocks can go into block h+csvBlocks, so it is refused while
		// the tip is h+csvBlocks-2 and accepted at h+csvBlocks-1.
		conf, err := n.Confirmations(fundID)
		if err != nil {
			t.Fatal(err)
		}
		tip, _ := n.Height()
		h := tip - int32(conf) + 1
		if _, err := n.MineTo(h + csvBlocks - 2); err != nil {
			t.Fatal(err)
		}
		expect(t, spend(csvBlocks), ErrSequenceLock)
		// A sequence below the script's lock fails the script instead.
		expect(t, spend(csvBlocks-1), ErrScriptFailure)
		if hs, err := n.MineTo(h + csvBlocks - 1); err != nil || len(hs) != 1 {
			t.Fatalf("MineTo one block: %d blocks, %v", len(hs), err)
		}
		if hs, err := n.MineTo(h); err != nil || len(hs) != 0 {
			t.Fatalf("MineTo below the tip mined %d blocks, %v", len(hs), err)
		}
		tx := spend(csvBlocks)
		if err := n.TestMempoolAccept(tx); err != nil {
			t.Fatalf("spend at the lock: %v", err)
		}
		if _, err := n.Broadcast(tx); err != nil {
			t.Fatalf("spend at the lock: %v", err)
		}
	})
	t.Run("double spend and already known", func(t *testing.T) {
		first := k.spend(t, op(2), 100_000, dest, 500, k.key)
		if _, err := n.Broadcast(first); err != nil {
			t.Fatal(err)
		}
		// Broadcasting it again is harmless; a dry run says it is known.
		if id, err := n.Broadcast(first); err != nil || id != first.TxHash() {
			t.Fatalf("rebroadcast: %v, %v", id, err)
		}
		if err := n.TestMempoolAccept(first); !errors.Is(err, ErrAlreadyKnown) {
			t.Fatalf("testmempoolaccept of a mempool tx: %v, want ErrAlreadyKnown", err)
		}
		second := k.spend(t, op(2), 100_000, dest, 600, k.key)
		_, err = n.Broadcast(second)
		if !errors.Is(err, ErrDoubleSpend) || !errors.Is(err, ErrMissingInputs) {
			t.Fatalf("conflicting spend: %v, want ErrDoubleSpend", err)
		}
		t.Logf("%v", err)
		// Once the first is mined the output is simply gone, and the first
		// is known to the chain.
		if _, err := n.Mine(1); err != nil {
			t.Fatal(err)
		}
		expect(t, second, ErrMissingInputs)
		if _, err := n.Broadcast(first); !errors.Is(err, ErrAlreadyKnown) {
			t.Fatalf("broadcast of a confirmed tx: %v, want ErrAlreadyKnown", err)
		}
	})
}

func ptr(op wire.OutPoint) *wire.OutPoint { return &op }

func signKeyPath(t *testing.T, tx *wire.MsgTx, k p2trKey, value int64) {
	t.Helper()
	fetcher := txscript.NewCannedPrevOutputFetcher(k.pkScript, value)
	wit, err := txscript.TaprootWitnessSignature(tx, txscript.NewTxSigHashes(tx, fetcher), 0, value, k.pkScript, txscript.SigHashDefault, k.key)
	if err != nil {
		t.Fatal(err)
	}
	tx.TxIn[0].Witness = wit
}

// TestFundManyAndLarge: more payments than mature coinbases (the rest come
// from unconfirmed change), a payment needing several coinbases, and the
// wallet's balance accounting for exactly the payments and their fees.
func TestFundManyAndLarge(t *testing.T) {
	n := NewTestNode(t, Options{})
	before, _, err := n.Balance()
	if err != nil {
		t.Fatal(err)
	}
	k := newP2TRKey(t)
	var paid, fees int64
	var txs []*wire.MsgTx
	for i := 0; i < 14; i++ { // 10 mature coinbases
		_, tx, err := n.Fund(k.pkScript, 10_000+int64(i))
		if err != nil {
			t.Fatalf("payment %d: %v", i, err)
		}
		paid += 10_000 + int64(i)
		txs = append(txs, tx)
	}
	const large = 120_0000_0000 // 120 BTC: three coinbases at least
	_, big, err := n.Fund(k.pkScript, large)
	if err != nil {
		t.Fatal(err)
	}
	if len(big.TxIn) < 3 {
		t.Fatalf("a %d sat payment used %d inputs", large, len(big.TxIn))
	}
	paid += large
	txs = append(txs, big)
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	for _, tx := range txs {
		c, err := n.Confirmations(tx.TxHash())
		if err != nil || c != 1 {
			t.Fatalf("%s: %d confirmations, %v", tx.TxHash(), c, err)
		}
		var in, out int64
		for _, txIn := range tx.TxIn {
			prev, err := n.GetRawTransaction(txIn.PreviousOutPoint.Hash)
			if err != nil {
				t.Fatal(err)
			}
			in += prev.TxOut[txIn.PreviousOutPoint.Index].Value
		}
		for _, o := range tx.TxOut {
			out += o.Value
		}
		fees += in - out
	}
	after, _, err := n.Balance()
	if err != nil {
		t.Fatal(err)
	}
	// The block just mined adds one coinbase that is still immature, and
	// one more coinbase (height 12) has matured.
	if want := before + 50e8 - paid - fees; after != want {
		t.Fatalf("balance %d after paying %d with %d fees from %d; want %d", after, paid, fees, before, want)
	}
}

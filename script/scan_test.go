package script

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// scanWorld is a parser and the keys to make blocks for it.
type scanWorld struct {
	parser *StakingTxParser
	cov    []*btcec.PublicKey
}

func newScanWorld(t testing.TB, r *rand.Rand) *scanWorld {
	cov := pubs(randKeys(t, r, 5))
	p, err := NewStakingTxParser(ParserConfig{Tag: testTag, Covenant: cov, CovenantQuorum: 3})
	if err != nil {
		t.Fatal(err)
	}
	return &scanWorld{parser: p, cov: cov}
}

// stakingTx makes a transaction of one of many kinds: a valid staking tx
// (OP_RETURN before or after the staking output, any push form), or one
// that carries the marker but breaks one rule, or an ordinary payment.
func (w *scanWorld) stakingTx(t testing.TB, r *rand.Rand) *wire.MsgTx {
	tx := wire.NewMsgTx(int32(1 + r.Intn(2)))
	nIn := 1 + r.Intn(3)
	for j := 0; j < nIn; j++ {
		var h chainhash.Hash
		r.Read(h[:])
		in := &wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: h, Index: uint32(r.Intn(4))}, Sequence: r.Uint32()}
		if r.Intn(3) == 0 {
			in.SignatureScript = make([]byte, r.Intn(110))
		}
		if r.Intn(2) == 0 {
			in.Witness = wire.TxWitness{make([]byte, 72), make([]byte, 33)}
		}
		tx.AddTxIn(in)
	}
	pay := func() { tx.AddTxOut(wire.NewTxOut(r.Int63n(1e8), append([]byte{0x00, 0x14}, make([]byte, 20)...))) }
	kind := r.Intn(14)
	if kind >= 10 {
		pay()
		if kind == 10 {
			tx.AddTxOut(wire.NewTxOut(0, []byte{0x6a, 0x04, 1, 2, 3, 4}))
		}
		pay()
		return tx
	}
	staker, fp := randKey(t, r).PubKey(), randKey(t, r).PubKey()
	if kind == 1 {
		fp = staker // duplicate keys: not a staking tx
	}
	if kind == 2 {
		fp = w.cov[0]
	}
	time := uint16(1 + r.Intn(65535))
	out, err := NewStakingOutput(Parties{Staker: staker, FinalityProviders: []*btcec.PublicKey{randKey(t, r).PubKey()},
		Covenant: w.cov, CovenantQuorum: 3}, time)
	if kind != 1 && kind != 2 {
		out, err = NewStakingOutput(Parties{Staker: staker, FinalityProviders: []*btcec.PublicKey{fp},
			Covenant: w.cov, CovenantQuorum: 3}, time)
	}
	if err != nil {
		t.Fatal(err)
	}
	data := &V0StakingData{Staker: XOnly(staker), FinalityProvider: XOnly(fp), StakingTime: time}
	copy(data.Tag[:], testTag)
	op := data.Script()
	switch kind {
	case 3: // another tag
		op[2] ^= 1
	case 4: // staking time 0 (the output is for another time)
		op[len(op)-1], op[len(op)-2] = 0, 0
	case 5: // a key off the curve
		for i := 7; i < 39; i++ {
			op[i] = 0xff
		}
	case 6: // a non-minimal push: the tag reads 46 ...
		op = append([]byte{0x6a, 0x4c, 0x46}, op[3:]...)
	}
	stake := out.TxOut(r.Int63n(1e9) + 1)
	if r.Intn(2) == 0 {
		tx.AddTxOut(stake)
		tx.AddTxOut(wire.NewTxOut(0, op))
	} else {
		tx.AddTxOut(wire.NewTxOut(0, op))
		tx.AddTxOut(stake)
	}
	switch kind {
	case 7: // the staking output twice
		tx.AddTxOut(stake)
	case 8: // no staking output
		tx.TxOut[0].PkScript = append([]byte{0x00, 0x14}, make([]byte, 20)...)
		tx.TxOut[1].PkScript = append([]byte{0x00, 0x14}, make([]byte, 20)...)
		tx.AddTxOut(wire.NewTxOut(0, op))
	case 9: // a second, valid OP_RETURN with another tag
		op2 := bytes.Clone(op)
		op2[2] ^= 0x10
		tx.AddTxOut(wire.NewTxOut(0, op2))
	}
	if r.Intn(3) == 0 {
		pay()
	}
	return tx
}

// serializeBlock serializes a block of txs (witness encoding).
func serializeBlock(t testing.TB, txs []*wire.MsgTx) []byte {
	b := wire.MsgBlock{Header: wire.BlockHeader{Version: 4, Bits: 0x1d00ffff}}
	for _, tx := range txs {
		b.AddTransaction(tx)
	}
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// referenceScan is the scan ScanBlock replaces: wire's decoder, then
// IsPossible and Parse for every transaction.
func referenceScan(p *StakingTxParser, raw []byte) ([]FoundStakingTx, error) {
	var b wire.MsgBlock
	rd := bytes.NewReader(raw)
	if err := b.Deserialize(rd); err != nil {
		return nil, err
	}
	if rd.Len() != 0 {
		return nil, fmt.Errorf("%d trailing bytes", rd.Len())
	}
	var out []FoundStakingTx
	for i, tx := range b.Transactions {
		if !p.IsPossible(tx) {
			continue
		}
		parsed, err := p.Parse(tx)
		if err != nil {
			continue
		}
		out = append(out, FoundStakingTx{Index: i, Txid: tx.TxHash(), Parsed: parsed})
	}
	return out, nil
}

// sameScan compares two scan results, the staking outputs included.
func sameScan(a, b []FoundStakingTx) error {
	if len(a) != len(b) {
		return fmt.Errorf("%d found, want %d", len(a), len(b))
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Index != y.Index || x.Txid != y.Txid {
			return fmt.Errorf("found %d: tx %d %s, want %d %s", i, x.Index, x.Txid, y.Index, y.Txid)
		}
		px, py := x.Parsed, y.Parsed
		if px.Data != py.Data || px.StakingOutputIndex != py.StakingOutputIndex || px.OpReturnIndex != py.OpReturnIndex || px.Value != py.Value {
			return fmt.Errorf("found %d: parsed %+v, want %+v", i, *px, *py)
		}
		ox, oy := px.Output, py.Output
		if !bytes.Equal(ox.PkScript, oy.PkScript) || *ox.Taproot != (TaprootOutput{InternalKey: oy.Taproot.InternalKey,
			Tree: ox.Taproot.Tree, Tweak: oy.Taproot.Tweak, OutputKey: oy.Taproot.OutputKey, OddY: oy.Taproot.OddY}) {
			return fmt.Errorf("found %d: output key differs", i)
		}
		if len(ox.Paths) != len(oy.Paths) {
			return fmt.Errorf("found %d: %d paths, want %d", i, len(ox.Paths), len(oy.Paths))
		}
		for j := range ox.Paths {
			if !bytes.Equal(ox.Paths[j].Script, oy.Paths[j].Script) || !bytes.Equal(ox.Paths[j].ControlBlock, oy.Paths[j].ControlBlock) {
				return fmt.Errorf("found %d: path %d differs", i, j)
			}
		}
	}
	return nil
}

// checkScan compares ScanBlock with the reference on raw.
func checkScan(t *testing.T, p *StakingTxParser, raw []byte, what string) []FoundStakingTx {
	t.Helper()
	got, err := p.ScanBlock(raw)
	want, werr := referenceScan(p, raw)
	if (err != nil) != (werr != nil) {
		t.Fatalf("%s: ScanBlock error %v, wire %v", what, err, werr)
	}
	if err != nil {
		if !errors.Is(err, ErrMalformedBlock) {
			t.Fatalf("%s: %v, want ErrMalformedBlock", what, err)
		}
		return nil
	}
	if e := sameScan(got, want); e != nil {
		t.Fatalf("%s: %v", what, e)
	}
	return got
}

// TestScanBlockDifferential: on random blocks full of staking
// transactions and near misses, ScanBlock finds exactly what decoding with
// wire and checking each transaction with IsPossible and Parse finds.
func TestScanBlockDifferential(t *testing.T) {
	r := newRand(t)
	w := newScanWorld(t, r)
	total := 0
	for rep := 0; rep < 15; rep++ {
		txs := make([]*wire.MsgTx, 1+r.Intn(40))
		for i := range txs {
			txs[i] = w.stakingTx(t, r)
		}
		total += len(checkScan(t, w.parser, serializeBlock(t, txs), fmt.Sprintf("block %d", rep)))
	}
	if total == 0 {
		t.Fatal("no staking transaction found in any block")
	}
}

// TestScanBlockMalformed: truncated blocks, flipped bytes, trailing bytes,
// non-canonical counts: ScanBlock fails exactly when wire's decoder does
// (or leaves bytes over), and otherwise agrees with the reference.
func TestScanBlockMalformed(t *testing.T) {
	r := newRand(t)
	w := newScanWorld(t, r)
	txs := make([]*wire.MsgTx, 12)
	for i := range txs {
		txs[i] = w.stakingTx(t, r)
	}
	raw := serializeBlock(t, txs)
	for i := 0; i < 400; i++ {
		b := bytes.Clone(raw)
		switch i % 4 {
		case 0:
			b = b[:r.Intn(len(b))]
		case 1:
			b[r.Intn(len(b))] ^= byte(1 + r.Intn(255))
		case 2:
			b = append(b, byte(r.Intn(256)))
		case 3:
			// The transaction count as a non-canonical 0xfd varint.
			b = append(append(append([]byte{}, b[:80]...), 0xfd, b[80], 0), b[81:]...)
		}
		checkScan(t, w.parser, b, fmt.Sprintf("case %d", i))
	}
	if _, err := w.parser.ScanBlock(nil); !errors.Is(err, ErrMalformedBlock) {
		t.Fatalf("empty input: %v", err)
	}
}

// TestScanBlockAllocations: a block without staking transactions costs no
// allocation; with them, a bounded number per transaction found.
func TestScanBlockAllocations(t *testing.T) {
	r := newRand(t)
	w := newScanWorld(t, r)
	plain := make([]*wire.MsgTx, 300)
	for i := range plain {
		for plain[i] = w.stakingTx(t, r); w.parser.IsPossible(plain[i]); plain[i] = w.stakingTx(t, r) {
		}
	}
	raw := serializeBlock(t, plain)
	if n := testing.AllocsPerRun(20, func() { w.parser.ScanBlock(raw) }); n != 0 {
		t.Fatalf("%v allocations for a block without staking transactions", n)
	}
	// A few allocations per block once something is found (the candidate,
	// key and result slices, scratch space), then those of each
	// ParsedStakingTx.
	const perBlock, perTx = 25, 32
	// Transactions that carry the marker but are no staking transaction
	// (duplicate or clashing keys, a zero time, no or two staking outputs,
	// a key off the curve) cost nothing per transaction either: a block of
	// nothing else allocates what a block does, plus the doublings of its
	// candidate slices (one per power of two of their number).
	var nearMiss []*wire.MsgTx
	for len(nearMiss) < 300 {
		if tx := w.stakingTx(t, r); w.parser.IsPossible(tx) {
			if _, err := w.parser.Parse(tx); err != nil {
				nearMiss = append(nearMiss, tx)
			}
		}
	}
	raw = serializeBlock(t, nearMiss)
	if f := mustScan(t, w.parser, raw); len(f) != 0 {
		t.Fatalf("%d staking txs found among the near misses", len(f))
	}
	limit := perBlock + bits.Len(uint(len(nearMiss)))
	if n := testing.AllocsPerRun(10, func() { w.parser.ScanBlock(raw) }); n > float64(limit) {
		t.Fatalf("%v allocations for a block of %d near misses and no staking transaction, more than %d", n, len(nearMiss), limit)
	}
	for _, k := range []int{1, 10, 40} {
		txs := append([]*wire.MsgTx{}, plain...)
		found := 0
		for found < k {
			tx := w.stakingTx(t, r)
			if p, err := w.parser.Parse(tx); err == nil && p != nil {
				txs[r.Intn(len(txs))] = tx
				found = len(mustScan(t, w.parser, serializeBlock(t, txs)))
			}
		}
		raw := serializeBlock(t, txs)
		n := testing.AllocsPerRun(10, func() { w.parser.ScanBlock(raw) })
		t.Logf("%d staking txs found: %.0f allocations", found, n)
		if n > float64(perBlock+perTx*found) {
			t.Fatalf("%d staking txs found: %.0f allocations, more than %d + %d each", found, n, perBlock, perTx)
		}
	}
}

func mustScan(t *testing.T, p *StakingTxParser, raw []byte) []FoundStakingTx {
	t.Helper()
	f, err := p.ScanBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// FuzzScanBlock: for any bytes, ScanBlock agrees with wire's decoder and
// IsPossible/Parse (the same failures, the same staking transactions).
func FuzzScanBlock(f *testing.F) {
	r := rand.New(rand.NewSource(7))
	w := newScanWorld(f, r)
	for i := 0; i < 4; i++ {
		txs := make([]*wire.MsgTx, 1+i*3)
		for j := range txs {
			txs[j] = w.stakingTx(f, r)
		}
		f.Add(serializeBlock(f, txs))
	}
	f.Add(make([]byte, 81))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkScan(t, w.parser, raw, "fuzz")
	})
}

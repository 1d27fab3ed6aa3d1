package script

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/btcstake/btcstake/internal/secp"
)

// FoundStakingTx is a phase-1 staking transaction ScanBlock found.
type FoundStakingTx struct {
	Index  int            // position in the block (0 is the coinbase)
	Txid   chainhash.Hash // hash of the transaction without witnesses
	Parsed *ParsedStakingTx
}

// Limits of btcd's wire decoding, so that ScanBlock accepts exactly the
// blocks wire.MsgBlock.Deserialize accepts.
const (
	blockHeaderLen   = 80
	maxBlockTxs      = 4_000_000/10 + 1 // wire's maxTxPerBlock
	maxWireItemLen   = 4_000_000        // wire's maxWitnessItemSize, for every script
	maxTxScriptBytes = 1 << 22          // wire's script slab: all scripts of one transaction
	maxWitnessItems  = 4_000_000        // wire's maxWitnessItemsPerInput
	maxTxInsPerTx    = (1024*1024*32)/(9+chainhash.HashSize) + 1
	maxTxOutsPerTx   = (1024*1024*32)/9 + 1
	segwitMarker     = 0x00
	segwitFlag       = 0x01
)

// ScanBlock finds the phase-1 staking transactions of a serialized block
// (the bytes a node serves: the 80-byte header, the transaction count and
// every transaction in wire format, witnesses included). It finds exactly
// the transactions for which IsPossible holds and Parse succeeds (a
// transaction that carries the marker but is not a valid staking
// transaction is skipped, as Babylon's indexer skips it), in block order.
//
// It reads the block in place, without decoding it into wire.MsgTx values:
// a transaction that is not a staking transaction costs no allocation;
// the allocations are for the staking transactions found (their
// ParsedStakingTx) and the scratch space of their output keys, which are
// computed together (internal/secp.TweakAddBatch). The result shares no
// memory with block.
//
// It fails with ErrMalformedBlock when block is not a block btcd's wire
// decoder accepts (truncated, a non-canonical length, a count or script
// beyond wire's limits, a witness flag without witnesses), or has bytes
// after its last transaction.
func (p *StakingTxParser) ScanBlock(block []byte) ([]FoundStakingTx, error) {
	// Step 1: walk every transaction, keeping the candidates (IsPossible
	// in place) whose OP_RETURN decodes as Parse reads it.
	if len(block) < blockHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, shorter than a block header", ErrMalformedBlock, len(block))
	}
	r := rawReader{b: block, off: blockHeaderLen}
	n, ok := r.varInt()
	if !ok || n > maxBlockTxs {
		return nil, fmt.Errorf("%w: bad transaction count", ErrMalformedBlock)
	}
	var cands []scanCandidate
	var scratch scanScratch
	for i := 0; i < int(n); i++ {
		var tx rawTx
		if err := r.tx(&tx, &p.tag); err != nil {
			return nil, fmt.Errorf("%w: transaction %d: %v", ErrMalformedBlock, i, err)
		}
		if !tx.possible() {
			continue
		}
		var c scanCandidate
		if p.candidate(&tx, &scratch, &c) {
			c.index = i
			cands = append(cands, c)
		}
	}
	if r.off != len(block) {
		return nil, fmt.Errorf("%w: %d bytes after the last transaction", ErrMalformedBlock, len(block)-r.off)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	// Step 2: the output keys NUMS + t·G of all candidates at once.
	tweaks := make([]secp256k1.ModNScalar, len(cands))
	for i := range cands {
		tweaks[i] = cands[i].t
	}
	keys := make([]secp.TweakResult, len(cands))
	nums := numsPoint
	secp.TweakAddBatch(&nums, tweaks, keys)
	// Step 3: the transactions with exactly one output paying the staking
	// script are staking transactions.
	var found []FoundStakingTx
	for i := range cands {
		c := &cands[i]
		if keys[i].Infinity {
			continue
		}
		var pk [34]byte
		pk[0], pk[1] = 0x51, 0x20
		copy(pk[2:], keys[i].X[:])
		stIdx, count := -1, 0
		c.tx.eachOutput(func(j int, _ int64, s []byte) {
			if bytes.Equal(s, pk[:]) {
				if count == 0 {
					stIdx = j
				}
				count++
			}
		})
		if count != 1 {
			continue
		}
		parsed, err := p.build(c, stIdx, XOnlyKey(keys[i].X), keys[i].OddY)
		if err != nil {
			continue // unreachable: the checks above are Parse's
		}
		found = append(found, FoundStakingTx{Index: c.index, Txid: c.tx.txid(), Parsed: parsed})
	}
	return found, nil
}

// scanCandidate is a transaction whose phase-1 OP_RETURN decodes, with
// the tweak of the staking output it describes.
type scanCandidate struct {
	index  int
	tx     rawTx
	data   V0StakingData
	opIdx  int
	t      secp256k1.ModNScalar
	tweak  [32]byte
	leaves [3]chainhash.Hash
	root   chainhash.Hash
	fpKeys [1]XOnlyKey
}

// scanScratch is buffer space reused across the candidates of a block:
// the leaf scripts and the input of a leaf hash.
type scanScratch struct{ leaves, hash []byte }

// candidate applies Parse's steps 1-3 to tx up to the output key: the one
// OP_RETURN with valid version-0 data, the parser's tag, distinct keys, a
// nonzero staking time, and the tweak of the rebuilt output. It reports
// false where Parse would fail before comparing outputs.
func (p *StakingTxParser) candidate(tx *rawTx, sc *scanScratch, c *scanCandidate) bool {
	// Step 1: exactly one 73-byte OP_RETURN that decodes (any tag).
	c.opIdx = -1
	ambiguous := false
	tx.eachOutput(func(j int, _ int64, s []byte) {
		var d V0StakingData
		if !isV0NullData(s) || !decodeV0(s, &d) {
			return
		}
		if c.opIdx >= 0 {
			ambiguous = true
			return
		}
		c.opIdx, c.data = j, d
	})
	if ambiguous || c.opIdx < 0 {
		return false
	}
	// Step 2: the tag.
	if c.data.Tag != p.tag {
		return false
	}
	// Step 3: the parties (the committee was checked when p was built)
	// and the staking time.
	c.fpKeys[0] = c.data.FinalityProvider
	if _, clash := roleClash(c.data.Staker, c.fpKeys[:], p.cov); c.data.StakingTime == 0 || clash != noClash {
		return false
	}
	// The three leaves, their Merkle root and the tweak (buildStaking's
	// tree: Branch(Branch(timelock, unbonding), slashing)).
	b := timelockScript(sc.leaves[:0], c.data.Staker, c.data.StakingTime)
	nTL := len(b)
	b = unbondingScript(b, c.data.Staker, p.cov, p.quorum)
	nUB := len(b)
	b = slashingScript(b, c.data.Staker, c.fpKeys[:], p.cov, p.quorum)
	sc.leaves = b
	hb := &c.leaves
	hb[0], sc.hash = leafHashBuf(sc.hash, b[:nTL])
	hb[1], sc.hash = leafHashBuf(sc.hash, b[nTL:nUB])
	hb[2], sc.hash = leafHashBuf(sc.hash, b[nUB:])
	c.root = branchHash(branchHash(hb[0], hb[1]), hb[2])
	var buf [128]byte
	copy(buf[0:], tagTweak[:])
	copy(buf[32:], tagTweak[:])
	copy(buf[64:], NUMSKey[:])
	copy(buf[96:], c.root[:])
	c.tweak = sha256.Sum256(buf[:])
	if c.t.SetBytes(&c.tweak) != 0 {
		return false
	}
	c.tx = *tx
	return true
}

// leafHashBuf is TapLeaf{BaseLeafVersion, s}.Hash(), hashing from buf
// (grown as needed and returned for reuse) instead of a fresh hasher.
func leafHashBuf(buf, s []byte) (chainhash.Hash, []byte) {
	buf = append(buf[:0], tagLeaf[:]...)
	buf = append(buf, tagLeaf[:]...)
	var pre [10]byte
	pre[0] = BaseLeafVersion
	n := putCompactSize(pre[1:], uint64(len(s)))
	buf = append(buf, pre[:1+n]...)
	buf = append(buf, s...)
	return sha256.Sum256(buf), buf
}

// decodeV0 is ParseV0StakingData without allocating: the version-0 data
// of a null-data script, with both keys x coordinates of curve points.
func decodeV0(s []byte, d *V0StakingData) bool {
	if len(s) != V0OpReturnLen || s[v0VersionOffset] != v0Version {
		return false
	}
	copy(d.Tag[:], s[2:2+TagLen])
	off := v0VersionOffset + 1
	copy(d.Staker[:], s[off:off+32])
	copy(d.FinalityProvider[:], s[off+32:off+64])
	d.StakingTime = binary.BigEndian.Uint16(s[off+64:])
	return isXCoordinate((*[32]byte)(&d.Staker)) && isXCoordinate((*[32]byte)(&d.FinalityProvider))
}

// build makes the ParsedStakingTx of a candidate whose staking output is
// output stIdx, with its output key already computed.
func (p *StakingTxParser) build(c *scanCandidate, stIdx int, q XOnlyKey, odd bool) (*ParsedStakingTx, error) {
	v, err := newParties(c.data.Staker, c.fpKeys[:], p.cov, p.quorum)
	if err != nil {
		return nil, err
	}
	out, err := buildStakingKeyed(v, c.data.StakingTime, &outputKey{leaves: c.leaves, root: c.root, tweak: c.tweak, q: q, odd: odd})
	if err != nil {
		return nil, err
	}
	var value int64
	c.tx.eachOutput(func(j int, v int64, _ []byte) {
		if j == stIdx {
			value = v
		}
	})
	return &ParsedStakingTx{Data: c.data, Output: out, StakingOutputIndex: stIdx, OpReturnIndex: c.opIdx, Value: value}, nil
}

// rawReader reads wire-format data in place.
type rawReader struct {
	b   []byte
	off int
}

// varInt reads a CompactSize integer, refusing non-canonical encodings
// (as wire.ReadVarInt does). The one-byte form is read inline.
func (r *rawReader) varInt() (uint64, bool) {
	if r.off < len(r.b) && r.b[r.off] < 0xfd {
		r.off++
		return uint64(r.b[r.off-1]), true
	}
	return r.varIntLong()
}

func (r *rawReader) varIntLong() (uint64, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	d := r.b[r.off]
	r.off++
	var v, min uint64
	switch d {
	case 0xff:
		if len(r.b)-r.off < 8 {
			return 0, false
		}
		v, min = binary.LittleEndian.Uint64(r.b[r.off:]), 0x100000000
		r.off += 8
	case 0xfe:
		if len(r.b)-r.off < 4 {
			return 0, false
		}
		v, min = uint64(binary.LittleEndian.Uint32(r.b[r.off:])), 0x10000
		r.off += 4
	default: // 0xfd
		if len(r.b)-r.off < 2 {
			return 0, false
		}
		v, min = uint64(binary.LittleEndian.Uint16(r.b[r.off:])), 0xfd
		r.off += 2
	}
	return v, v >= min
}

// skip advances n bytes.
func (r *rawReader) skip(n uint64) bool {
	if n > uint64(len(r.b)-r.off) {
		return false
	}
	r.off += int(n)
	return true
}

// script reads a length-prefixed script (or witness item) of at most
// wire's item limit, counting it against the transaction's script budget.
// A script shorter than 0xfd bytes is read inline.
func (r *rawReader) script(budget *uint64) (int, int, bool) {
	if r.off < len(r.b) {
		if n := int(r.b[r.off]); n < 0xfd && uint64(n) <= *budget && n < len(r.b)-r.off {
			*budget -= uint64(n)
			r.off += 1 + n
			return r.off - n, r.off, true
		}
	}
	return r.scriptLong(budget)
}

func (r *rawReader) scriptLong(budget *uint64) (int, int, bool) {
	n, ok := r.varInt()
	if !ok || n > maxWireItemLen || n > *budget {
		return 0, 0, false
	}
	*budget -= n
	start := r.off
	if !r.skip(n) {
		return 0, 0, false
	}
	return start, r.off, true
}

// rawTx locates one transaction inside a block.
type rawTx struct {
	b                 []byte
	start, end        int // the whole transaction
	inStart, outStart int // the input count, the output count
	outEnd            int // end of the outputs (start of witnesses or lock time)
	nOut              int
	marked            int // outputs with the phase-1 OP_RETURN shape and the parser's tag
	segwit            bool
}

// tx reads one transaction, checking what wire's decoder checks, and
// counts its outputs with the phase-1 OP_RETURN shape carrying tag.
func (r *rawReader) tx(t *rawTx, tag *[TagLen]byte) error {
	t.b, t.start = r.b, r.off
	budget := uint64(maxTxScriptBytes)
	if !r.skip(4) {
		return fmt.Errorf("truncated version")
	}
	t.inStart = r.off
	nIn, ok := r.varInt()
	if !ok {
		return fmt.Errorf("bad input count")
	}
	if nIn == segwitMarker {
		if r.off >= len(r.b) || r.b[r.off] != segwitFlag {
			return fmt.Errorf("witness marker without flag 01")
		}
		r.off++
		t.segwit = true
		t.inStart = r.off
		if nIn, ok = r.varInt(); !ok {
			return fmt.Errorf("bad input count")
		}
	}
	if nIn > maxTxInsPerTx {
		return fmt.Errorf("too many inputs")
	}
	for i := uint64(0); i < nIn; i++ {
		if !r.skip(36) {
			return fmt.Errorf("truncated input")
		}
		if _, _, ok := r.script(&budget); !ok {
			return fmt.Errorf("bad signature script")
		}
		if !r.skip(4) {
			return fmt.Errorf("truncated input")
		}
	}
	t.outStart = r.off
	nOut, ok := r.varInt()
	if !ok || nOut > maxTxOutsPerTx {
		return fmt.Errorf("bad output count")
	}
	t.marked = 0
	for i := uint64(0); i < nOut; i++ {
		if !r.skip(8) {
			return fmt.Errorf("truncated output")
		}
		start, end, ok := r.script(&budget)
		if !ok {
			return fmt.Errorf("bad output script")
		}
		if end-start == V0OpReturnLen && isV0Candidate(r.b[start:end], tag) {
			t.marked++
		}
	}
	t.nOut, t.outEnd = int(nOut), r.off
	if t.segwit {
		any := false
		for i := uint64(0); i < nIn; i++ {
			items, ok := r.varInt()
			if !ok || items > maxWitnessItems {
				return fmt.Errorf("bad witness item count")
			}
			any = any || items > 0
			for j := uint64(0); j < items; j++ {
				if _, _, ok := r.script(&budget); !ok {
					return fmt.Errorf("bad witness item")
				}
			}
		}
		if !any {
			return fmt.Errorf("witness flag without witnesses")
		}
	}
	if !r.skip(4) {
		return fmt.Errorf("truncated lock time")
	}
	t.end = r.off
	return nil
}

// eachOutput calls f with every output's index, value and script (a
// subslice of the block).
func (t *rawTx) eachOutput(f func(i int, value int64, pkScript []byte)) {
	r := rawReader{b: t.b, off: t.outStart}
	n, _ := r.varInt()
	for i := 0; i < int(n); i++ {
		v := int64(binary.LittleEndian.Uint64(t.b[r.off:]))
		r.off += 8
		l, _ := r.varInt()
		f(i, v, t.b[r.off:r.off+int(l)])
		r.off += int(l)
	}
}

// possible is IsPossibleV0StakingTx in place: at least two outputs and
// exactly one with the phase-1 OP_RETURN shape carrying the tag, version
// 0 (counted by tx).
func (t *rawTx) possible() bool { return t.nOut >= 2 && t.marked == 1 }

// txid is the double SHA-256 of the transaction without its witnesses:
// version, inputs, outputs, lock time.
func (t *rawTx) txid() chainhash.Hash {
	h := sha256.New()
	h.Write(t.b[t.start : t.start+4])
	h.Write(t.b[t.inStart:t.outEnd])
	h.Write(t.b[t.end-4 : t.end])
	var first [32]byte
	h.Sum(first[:0])
	return chainhash.Hash(sha256.Sum256(first[:]))
}

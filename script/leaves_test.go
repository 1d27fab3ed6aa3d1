package script

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"
)

// Literal disassemblies of the numbers used below (decimal for OP_1..OP_16,
// hex of the minimal little-endian push otherwise), written out by hand so
// the test does not reuse the encoder under test.
var numDisasm = map[int]string{1: "1", 2: "2", 3: "3", 6: "6", 16: "16", 17: "11", 18: "12", 100: "64", 1000: "e803", 65535: "ffff00"}

func xhex(k *btcec.PublicKey) string { return fmt.Sprintf("%x", schnorr.SerializePubKey(k)) }

// sortedHex returns the keys' x-only hex ascending, sorted independently of
// the package's own sorting.
func sortedHex(keys []*btcec.PublicKey) []string {
	s := make([][]byte, len(keys))
	for i, k := range keys {
		s[i] = schnorr.SerializePubKey(k)
	}
	sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i], s[j]) < 0 })
	out := make([]string, len(s))
	for i, b := range s {
		out[i] = fmt.Sprintf("%x", b)
	}
	return out
}

// multisigDisasm expands the doc-comment template
// "<K1> OP_CHECKSIG <K2> OP_CHECKSIGADD ... <Kn> OP_CHECKSIGADD <M> OP_NUMEQUAL".
func multisigDisasm(keys []string, m int, verify bool) string {
	final, single := "OP_NUMEQUAL", "OP_CHECKSIG"
	if verify {
		final, single = "OP_NUMEQUALVERIFY", "OP_CHECKSIGVERIFY"
	}
	if len(keys) == 1 {
		return keys[0] + " " + single
	}
	parts := []string{keys[0] + " OP_CHECKSIG"}
	for _, k := range keys[1:] {
		parts = append(parts, k+" OP_CHECKSIGADD")
	}
	return strings.Join(parts, " ") + " " + numDisasm[m] + " " + final
}

func disasm(t *testing.T, s []byte) string {
	t.Helper()
	d, err := txscript.DisasmString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLeafTemplates: each built leaf disassembles to exactly the template in
// its builder's doc comment.
func TestLeafTemplates(t *testing.T) {
	r := newRand(t)
	for _, tc := range []struct{ nFP, nCov, m, lock int }{
		{1, 1, 1, 1}, {1, 3, 2, 16}, {2, 5, 3, 17}, {3, 20, 18, 1000}, {1, 5, 3, 65535}, {4, 9, 6, 100},
	} {
		t.Run(fmt.Sprintf("%dfp/%d-of-%d/lock%d", tc.nFP, tc.m, tc.nCov, tc.lock), func(t *testing.T) {
			f := newFixture(t, r, tc.nFP, tc.nCov, uint32(tc.m))
			p := f.parties()
			staker := xhex(p.Staker)
			wantTL := fmt.Sprintf("%s OP_CHECKSIGVERIFY %s OP_CHECKSEQUENCEVERIFY", staker, numDisasm[tc.lock])
			wantUB := staker + " OP_CHECKSIGVERIFY " + multisigDisasm(sortedHex(p.Covenant), tc.m, false)
			wantSL := staker + " OP_CHECKSIGVERIFY " + multisigDisasm(sortedHex(p.FinalityProviders), 1, true) +
				" " + multisigDisasm(sortedHex(p.Covenant), tc.m, false)

			out, err := NewStakingOutput(p, uint16(tc.lock))
			if err != nil {
				t.Fatal(err)
			}
			for kind, want := range map[PathKind]string{TimelockPath: wantTL, UnbondingPath: wantUB, SlashingPath: wantSL} {
				path, _ := out.Path(kind)
				if got := disasm(t, path.Script); got != want {
					t.Errorf("%s leaf:\n got %s\nwant %s", kind, got, want)
				}
			}
			// The exported single-leaf builders give the same bytes.
			sx := XOnly(p.Staker)
			fps, _ := xonlyAll("fp", p.FinalityProviders)
			cov, _ := xonlyAll("cov", p.Covenant)
			tl, _ := TimelockScript(sx, uint16(tc.lock))
			ub, _ := UnbondingScript(sx, cov, uint32(tc.m))
			sl, _ := SlashingScript(sx, fps, cov, uint32(tc.m))
			for name, pair := range map[string][2][]byte{
				"timelock": {tl, out.Paths[0].Script}, "unbonding": {ub, out.Paths[1].Script}, "slashing": {sl, out.Paths[2].Script},
			} {
				if !bytes.Equal(pair[0], pair[1]) {
					t.Errorf("%s: standalone builder differs from the output's leaf", name)
				}
			}
			// The unbonding output reuses the same slashing leaf and a
			// timelock with the unbonding time.
			ubo, err := NewUnbondingOutput(p, 100)
			if err != nil {
				t.Fatal(err)
			}
			if got := disasm(t, ubo.Paths[0].Script); got != fmt.Sprintf("%s OP_CHECKSIGVERIFY 64 OP_CHECKSEQUENCEVERIFY", staker) {
				t.Errorf("unbonding output timelock leaf: %s", got)
			}
			if !bytes.Equal(ubo.Paths[1].Script, out.Paths[2].Script) {
				t.Error("unbonding output's slashing leaf differs from the staking output's")
			}
			ch, err := NewSlashingChangeOutput(p.Staker, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ch.Paths[0].Script, ubo.Paths[0].Script) {
				t.Error("slashing change leaf differs from timelock(unbondingTime)")
			}
		})
	}
}

func TestControlBlockShapes(t *testing.T) {
	f := newFixture(t, newRand(t), 1, 5, 3)
	st, _ := NewStakingOutput(f.parties(), 144)
	ub, _ := NewUnbondingOutput(f.parties(), 101)
	ch, _ := NewSlashingChangeOutput(f.staker.PubKey(), 101)
	for _, tc := range []struct {
		o    *Output
		want []int
	}{{st, []int{97, 97, 65}}, {ub, []int{65, 65}}, {ch, []int{33}}} {
		for i, p := range tc.o.Paths {
			if len(p.ControlBlock) != tc.want[i] {
				t.Errorf("%s leaf %d: control block %d bytes, want %d", tc.o.Kind, i, len(p.ControlBlock), tc.want[i])
			}
			if !bytes.Equal(p.ControlBlock[1:33], NUMSKey[:]) {
				t.Errorf("%s leaf %d: internal key is not NUMS", tc.o.Kind, i)
			}
			// The control block proves the leaf against the output key.
			cb, err := txscript.ParseControlBlock(p.ControlBlock)
			if err != nil {
				t.Fatal(err)
			}
			if err := txscript.VerifyTaprootLeafCommitment(cb, tc.o.PkScript[2:], p.Script); err != nil {
				t.Errorf("%s leaf %d: %v", tc.o.Kind, i, err)
			}
		}
	}
}

// TestErrorKinds: every validation rule fails with its own kind.
func TestErrorKinds(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 3, 2)
	p := f.parties()
	with := func(mod func(*Parties)) Parties {
		q := p
		q.FinalityProviders = append([]*btcec.PublicKey(nil), p.FinalityProviders...)
		q.Covenant = append([]*btcec.PublicKey(nil), p.Covenant...)
		mod(&q)
		return q
	}
	out, _ := NewStakingOutput(p, 10)
	sig := make([]byte, 64)
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"nil staker", first(NewStakingOutput(with(func(q *Parties) { q.Staker = nil }), 10)), ErrInvalidKey},
		{"nil fp", first(NewStakingOutput(with(func(q *Parties) { q.FinalityProviders[1] = nil }), 10)), ErrInvalidKey},
		{"nil covenant key", first(NewStakingOutput(with(func(q *Parties) { q.Covenant[0] = nil }), 10)), ErrInvalidKey},
		{"no finality provider", first(NewStakingOutput(with(func(q *Parties) { q.FinalityProviders = nil }), 10)), ErrNoFinalityProvider},
		{"no covenant keys", first(NewStakingOutput(with(func(q *Parties) { q.Covenant = nil }), 10)), ErrNoCovenantKeys},
		{"quorum zero", first(NewStakingOutput(with(func(q *Parties) { q.CovenantQuorum = 0 }), 10)), ErrInvalidQuorum},
		{"quorum above n", first(NewStakingOutput(with(func(q *Parties) { q.CovenantQuorum = 4 }), 10)), ErrInvalidQuorum},
		{"duplicate covenant key", first(NewStakingOutput(with(func(q *Parties) { q.Covenant[2] = q.Covenant[0] }), 10)), ErrDuplicateKey},
		{"duplicate fp key", first(NewStakingOutput(with(func(q *Parties) { q.FinalityProviders[1] = q.FinalityProviders[0] }), 10)), ErrDuplicateKey},
		{"staker is fp", first(NewStakingOutput(with(func(q *Parties) { q.FinalityProviders[0] = q.Staker }), 10)), ErrDuplicateKey},
		{"staker is covenant", first(NewStakingOutput(with(func(q *Parties) { q.Covenant[1] = q.Staker }), 10)), ErrDuplicateKey},
		{"fp is covenant", first(NewStakingOutput(with(func(q *Parties) { q.Covenant[1] = q.FinalityProviders[0] }), 10)), ErrDuplicateKey},
		{"odd-y twin is a duplicate", first(NewStakingOutput(with(func(q *Parties) { q.Covenant[1] = negate(q.Covenant[0]) }), 10)), ErrDuplicateKey},
		{"staking time zero", first(NewStakingOutput(p, 0)), ErrInvalidTimelock},
		{"unbonding time zero", first(NewUnbondingOutput(p, 0)), ErrInvalidTimelock},
		{"change time zero", first(NewSlashingChangeOutput(p.Staker, 0)), ErrInvalidTimelock},
		{"change nil staker", first(NewSlashingChangeOutput(nil, 5)), ErrInvalidKey},
		{"timelock too large", second(CheckTimelock("staking time", 65536)), ErrInvalidTimelock},
		{"timelock negative", second(CheckTimelock("staking time", -1)), ErrInvalidTimelock},
		{"TimelockScript zero", second(TimelockScript(XOnly(p.Staker), 0)), ErrInvalidTimelock},
		{"x-only key off the curve", second(ParseXOnlyKey(offCurveX())), ErrInvalidKey},
		{"key wrong length", second(ParseXOnlyKey(make([]byte, 31))), ErrInvalidKey},
		{"compressed key bad prefix", second(ParseXOnlyKey(append([]byte{5}, make([]byte, 32)...))), ErrInvalidKey},
		{"witness: staker sig missing", second(out.Witness(TimelockPath, Signatures{})), ErrSignatureCount},
		{"witness: staker sig 65 bytes", second(out.Witness(TimelockPath, Signatures{Staker: make([]byte, 65)})), ErrInvalidSignature},
		{"witness: covenant sig on timelock path", second(out.Witness(TimelockPath, Signatures{Staker: sig,
			Covenant: map[XOnlyKey][]byte{XOnly(p.Covenant[0]): sig}})), ErrUnknownSigner},
		{"witness: unknown covenant signer", second(out.Witness(UnbondingPath, Signatures{Staker: sig,
			Covenant: map[XOnlyKey][]byte{XOnly(p.Staker): sig, XOnly(p.Covenant[0]): sig}})), ErrUnknownSigner},
		{"witness: short covenant sig", second(out.Witness(UnbondingPath, Signatures{Staker: sig,
			Covenant: map[XOnlyKey][]byte{XOnly(p.Covenant[0]): sig, XOnly(p.Covenant[1]): sig[:63]}})), ErrInvalidSignature},
		{"witness: fp sig on unbonding path", second(out.Witness(UnbondingPath, Signatures{Staker: sig,
			FinalityProviders: map[XOnlyKey][]byte{XOnly(p.FinalityProviders[0]): sig}})), ErrUnknownSigner},
		{"witness: path the output lacks", second(mustChange(t, p).Witness(SlashingPath, Signatures{Staker: sig})), ErrUnknownPath},
		{"tag length", second(ParseTag([]byte{1, 2, 3})), ErrInvalidTag},
		{"op_return with two fps", second(NewV0StakingData([]byte("bbt4"), p.Staker, p.FinalityProviders, 10)), ErrTooManyFinalityProviders},
		{"op_return staker is fp", second(NewV0StakingData([]byte("bbt4"), p.Staker, []*btcec.PublicKey{p.Staker}, 10)), ErrDuplicateKey},
		{"op_return zero time", second(NewV0StakingData([]byte("bbt4"), p.Staker, p.FinalityProviders[:1], 0)), ErrInvalidTimelock},
		{"parser bad quorum", second(NewStakingTxParser(ParserConfig{Tag: []byte("bbt4"), Covenant: p.Covenant, CovenantQuorum: 9})), ErrInvalidQuorum},
		{"parser no covenant", second(NewStakingTxParser(ParserConfig{Tag: []byte("bbt4"), CovenantQuorum: 1})), ErrNoCovenantKeys},
		{"parser bad tag", second(NewStakingTxParser(ParserConfig{Tag: []byte("bbt"), Covenant: p.Covenant, CovenantQuorum: 1})), ErrInvalidTag},
		{"tree without leaves", second(NewTapTree(nil, nil)), ErrInvalidTree},
	}
	kinds := []error{ErrInvalidKey, ErrDuplicateKey, ErrNoCovenantKeys, ErrNoFinalityProvider, ErrInvalidQuorum,
		ErrInvalidTimelock, ErrInvalidSignature, ErrSignatureCount, ErrUnknownSigner, ErrUnknownPath, ErrInvalidTag,
		ErrTooManyFinalityProviders, ErrMalformedOpReturn, ErrNotStakingTx, ErrAmbiguousStakingTx, ErrInvalidTree}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
			for _, k := range kinds {
				if k != tc.want && errors.Is(tc.err, k) {
					t.Errorf("error also matches %v", k)
				}
			}
			if msg := tc.err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("message not lowercase: %q", msg)
			}
		})
	}
}

func first[T any](v T, err error) error  { return err }
func second[T any](v T, err error) error { return err }
func negate(k *btcec.PublicKey) *btcec.PublicKey {
	b := k.SerializeCompressed()
	b[0] ^= 1 // 02 <-> 03: same x, other y
	n, _ := btcec.ParsePubKey(b)
	return n
}

func mustChange(t *testing.T, p Parties) *Output {
	o, err := NewSlashingChangeOutput(p.Staker, 5)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// offCurveX returns 32 bytes that are not the x coordinate of any point.
func offCurveX() []byte {
	b := make([]byte, 32)
	for i := byte(0); ; i++ {
		b[31] = i
		if _, err := schnorr.ParsePubKey(b); err != nil {
			return b
		}
	}
}

package watch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// presigned is a stake whose entry carries the staker-signed slashing
// PSBTs with the adaptor signatures of a quorum of the covenant (and, with
// unbond, its unbonding transaction and the unbonding slashing PSBT).
func (f *fixture) presigned(t testing.TB, fp *btcec.PrivateKey, unbond bool) (*stake, *wire.MsgTx) {
	t.Helper()
	s := f.newStake(t, 100, fp)
	d := s.e.Delegation()
	sign := func(from script.OutputKind, funding psbt.Funding) *btcpsbt.Packet {
		res, err := psbt.BuildSlashing(d, from, funding)
		if err != nil {
			t.Fatal(err)
		}
		if err := psbt.SignTapscript(res.Packet, 0, s.staker); err != nil {
			t.Fatal(err)
		}
		for _, k := range f.cov[:2] {
			signer, err := psbt.NewCovenantSigner(k)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := signer.Sign(res.Packet, 0, d); err != nil {
				t.Fatal(err)
			}
		}
		return res.Packet
	}
	c := EntryConfig{Source: SourcePSBTDir, Params: f.p, Staker: s.staker.PubKey(), FPs: []*btcec.PublicKey{fp.PubKey()},
		StakingTime: 100, StakingTx: s.tx, Slashing: sign(script.StakingOutputKind, psbt.Funding{Tx: s.tx})}
	var ub *wire.MsgTx
	if unbond {
		res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: s.tx})
		if err != nil {
			t.Fatal(err)
		}
		ub = res.Packet.UnsignedTx.Copy()
		path, _ := s.staking.Path(script.UnbondingPath)
		ub.TxIn[0].Witness = wire.TxWitness{make([]byte, 64), path.Script, path.ControlBlock}
		c.UnbondingTx = ub
		c.UnbondingSlashing = sign(script.UnbondingOutputKind, psbt.Funding{Tx: ub})
	}
	var err error
	if s.e, err = NewEntry(c); err != nil {
		t.Fatal(err)
	}
	return s, ub
}

// TestAutoSlash: one delegation of provider 1 is slashed on chain with its
// key; the watcher recovers the key (from the slashing witness and the
// covenant adaptor signatures) and slashes the other delegations of
// provider 1, from the staking output or, for the one that unbonded, from
// the unbonding output; provider 2's delegation is left alone. Each once,
// across a restart; a delegation added later is slashed too, and one
// without pre-signed transactions is refused with the reason.
func TestAutoSlash(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fp1, fp2 := f.key(), f.key()
	X, _ := f.presigned(t, fp1, false)
	Y, ubY := f.presigned(t, fp1, true)
	Z, _ := f.presigned(t, fp1, false)
	W, _ := f.presigned(t, fp2, false)
	label := map[string]string{X.e.ID(): "X", Y.e.ID(): "Y", Z.e.ID(): "Z", W.e.ID(): "W"}
	if err := w.Add(X.e, Y.e, Z.e, W.e); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*stake{X, Y, Z, W} {
		if v, _ := w.Stake(s.e.ID()); !v.CanAutoSlash {
			t.Fatalf("%s: cannot auto-slash", label[s.e.ID()])
		}
	}
	n.mine(X.tx, Y.tx, Z.tx, W.tx) // 1
	n.mine(ubY)                    // 2
	slashX, err := psbt.CompleteSlashing(X.e.SlashingPSBT(script.StakingOutputKind), fp1)
	if err != nil {
		t.Fatal(err)
	}
	n.mine(slashX) // 3
	catchUp(t, w, 3)
	got := rec.all()
	wantKinds(t, got[:5], label, "1 staking_confirmed:X", "1 staking_confirmed:Y", "1 staking_confirmed:Z", "1 staking_confirmed:W",
		"2 unbonding_confirmed:Y/staking")
	wantKinds(t, got[5:7], label, "3 slashed:X/staking", "3 fp_key_recovered:X")
	if got[6].FinalityProvider != script.XOnly(fp1.PubKey()).String() {
		t.Fatalf("recovered %s, want %s", got[6].FinalityProvider, script.XOnly(fp1.PubKey()))
	}
	rest := map[string]bool{}
	for _, e := range got[7:] {
		rest[fmt.Sprintf("%s:%s/%s", e.Kind, label[e.Delegation], e.Output)] = true
	}
	if len(got) != 9 || !rest["auto_slash_broadcast:Y/unbonding"] || !rest["auto_slash_broadcast:Z/staking"] {
		t.Fatalf("auto-slash events: %v", kinds(got[7:], label))
	}
	// The node got the two slashing transactions: Y's spends its unbonding
	// output, Z's its staking output, each a complete slashing witness.
	if len(n.sent) != 2 {
		t.Fatalf("%d transactions broadcast", len(n.sent))
	}
	spent := map[wire.OutPoint]bool{}
	for _, tx := range n.sent {
		spent[tx.TxIn[0].PreviousOutPoint] = true
		ls, err := script.ParseWitness(tx.TxIn[0].Witness)
		if err != nil || ls.Leaf.Kind != script.SlashingPath || script.CountSigned(ls.Covenant) != 2 {
			t.Fatalf("broadcast %s: not a complete slashing spend (%v)", tx.TxHash(), err)
		}
	}
	if !spent[wire.OutPoint{Hash: ubY.TxHash()}] || !spent[Z.op] {
		t.Fatalf("broadcast spends %v", spent)
	}
	for _, e := range got[7:] {
		if e.Txid == "" {
			t.Fatalf("no txid: %+v", e)
		}
	}

	// Restart: nothing is slashed again.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	w = openTest(t, path, cfg)
	n.mineEmpty(1)
	catchUp(t, w, 4)
	if len(rec.all()) != 0 || len(n.sent) != 2 {
		t.Fatalf("after restart: %v, %d broadcast", kinds(rec.all(), label), len(n.sent))
	}

	// A delegation of the leaked provider added later, and one without
	// pre-signed transactions.
	V, _ := f.presigned(t, fp1, false)
	U := f.newStake(t, 100, fp1)
	label[V.e.ID()], label[U.e.ID()] = "V", "U"
	if err := w.Add(V.e, U.e); err != nil {
		t.Fatal(err)
	}
	n.mine(V.tx, U.tx) // 5
	catchUp(t, w, 5)
	got = rec.all()
	rest = map[string]bool{}
	for _, e := range got[2:] {
		rest[fmt.Sprintf("%s:%s/%s", e.Kind, label[e.Delegation], e.Output)] = true
		if e.Kind == EventAutoSlashRefused && e.Reason == "" {
			t.Fatalf("refusal without a reason: %+v", e)
		}
	}
	if len(got) != 4 || !rest["auto_slash_broadcast:V/staking"] || !rest["auto_slash_refused:U/staking"] {
		t.Fatalf("later delegations: %v", kinds(got, label))
	}
	if v, _ := w.Stake(W.e.ID()); v.State != StateStaked {
		t.Fatalf("W: %+v", v)
	}
}

// TestAutoSlashGivenKeyAndRejection: a key given with
// AddFinalityProviderKey slashes the provider's delegations; a node that
// refuses the transaction is reported as auto_slash_refused with its
// reason, once; a node that cannot be reached is retried.
func TestAutoSlashGivenKeyAndRejection(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	obs := &counter{}
	cfg := testConfig(n, rec)
	cfg.AutoSlash, cfg.Observer = true, obs
	w := openTest(t, dbPath(t), cfg)
	fp := f.key()
	A, _ := f.presigned(t, fp, false)
	B, _ := f.presigned(t, fp, false)
	_ = w.Add(A.e, B.e)
	n.mine(A.tx)
	n.mine(B.tx)
	catchUp(t, w, 2)
	n.sendErr = errFakeUnreachable
	if err := w.AddFinalityProviderKey(fp); err != nil {
		t.Fatal(err)
	}
	n.mine()
	catchUp(t, w, 3)
	if len(rec.all()) != 2 || obs.nodeErrors.Load() < 2 {
		t.Fatalf("unreachable node: %v, %d node errors", kinds(rec.all(), nil), obs.nodeErrors.Load())
	}
	n.sendErr = &chain.RejectError{Kind: chain.ErrScriptFailure, Reason: "mandatory-script-verify-flag-failed"}
	n.mine()
	catchUp(t, w, 4)
	got := rec.all()[2:]
	if len(got) != 2 || got[0].Kind != EventAutoSlashRefused || got[1].Kind != EventAutoSlashRefused {
		t.Fatalf("rejected: %v", kinds(got, nil))
	}
	for _, e := range got {
		if !strings.Contains(e.Reason, "mandatory-script-verify-flag-failed") || e.Txid == "" {
			t.Fatalf("refusal %+v", e)
		}
	}
	n.sendErr = nil
	n.mine()
	catchUp(t, w, 5)
	if len(rec.all()) != 4 || len(n.sent) != 0 {
		t.Fatalf("refused once: %v, %d sent", kinds(rec.all(), nil), len(n.sent))
	}
	if ks := w.KnownKeys(); len(ks) != 1 || ks[0] != script.XOnly(fp.PubKey()).String() {
		t.Fatalf("known keys %v", ks)
	}
}

// TestAutoSlashMissing: the refusal names the covenant members whose
// adaptor signatures are missing when the completing function says.
func TestAutoSlashMissing(t *testing.T) {
	saved := completeSlashing
	defer func() { completeSlashing = saved }()
	completeSlashing = func(*Entry, script.OutputKind, *btcec.PrivateKey) (*wire.MsgTx, error) {
		return nil, &MissingAdaptorSigsError{Missing: []string{"aa", "bb"}}
	}
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w := openTest(t, dbPath(t), cfg)
	fp := f.key()
	A := f.newStake(t, 100, fp)
	_ = w.Add(A.e)
	_ = w.AddFinalityProviderKey(fp)
	n.mine(A.tx)
	catchUp(t, w, 1)
	got := rec.all()
	if len(got) != 2 || got[1].Kind != EventAutoSlashRefused || fmt.Sprint(got[1].Missing) != "[aa bb]" {
		t.Fatalf("%+v", got)
	}
}

// slashingPSBTs are the staking output's slashing PSBT of s, staker-signed,
// as it grows: with the adaptor signatures of no covenant member, of
// member 0, of members 0 and 1 (a quorum).
func (f *fixture) slashingPSBTs(t *testing.T, s *stake) []*btcpsbt.Packet {
	t.Helper()
	d := s.e.Delegation()
	res, err := psbt.BuildSlashing(d, script.StakingOutputKind, psbt.Funding{Tx: s.tx})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.staker); err != nil {
		t.Fatal(err)
	}
	out := []*btcpsbt.Packet{}
	for i := 0; ; i++ {
		c, err := clone(res.Packet)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
		if i == 2 {
			return out
		}
		signer, err := psbt.NewCovenantSigner(f.cov[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := signer.Sign(res.Packet, 0, d); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) withSlashing(t *testing.T, s *stake, p *btcpsbt.Packet) *Entry {
	t.Helper()
	d := s.e.Delegation()
	e, err := NewEntry(EntryConfig{Source: SourcePSBTDir, Params: f.p, Staker: d.Staker, FPs: d.FinalityProviders,
		StakingTime: d.StakingTime, StakingTx: s.tx, Slashing: p})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestAutoSlashRetriesRicherEntry: a delegation refused for want of
// covenant adaptor signatures is tried again each time Add brings a
// richer slashing PSBT (a new refusal with its own id while it still
// falls short, then the broadcast), never when it brings nothing new, and
// is broadcast once, across a restart.
func TestAutoSlashRetriesRicherEntry(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w := openTest(t, path, cfg)
	fp := f.key()
	s := f.newStake(t, 100, fp)
	ps := f.slashingPSBTs(t, s)
	e0, e1, e2 := f.withSlashing(t, s, ps[0]), f.withSlashing(t, s, ps[1]), f.withSlashing(t, s, ps[2])
	id := s.e.ID()
	cov := func(i int) string { return script.XOnly(f.cov[i].PubKey()).String() }
	if err := w.Add(e0); err != nil {
		t.Fatal(err)
	}
	n.mine(s.tx) // 1
	if err := w.AddFinalityProviderKey(fp); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	got := rec.all()
	wantKinds(t, got, nil, "1 staking_confirmed", "1 auto_slash_refused/staking")
	first := got[1]
	if first.Delegation != id || len(first.Missing) != 3 {
		t.Fatalf("first refusal %+v", first)
	}
	// The same entry again: nothing new, not tried again.
	if err := w.Add(e0); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	if len(rec.all()) != 2 {
		t.Fatalf("tried again without anything new: %v", kinds(rec.all(), nil))
	}
	// One adaptor signature more: tried again, still one short.
	if err := w.Add(e1); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	got = rec.all()
	wantKinds(t, got[2:], nil, "1 auto_slash_refused/staking")
	second := got[2]
	if second.ID == first.ID || fmt.Sprint(second.Missing) != fmt.Sprint([]string{cov(1), cov(2)}) &&
		fmt.Sprint(second.Missing) != fmt.Sprint([]string{cov(2), cov(1)}) {
		t.Fatalf("second refusal %+v (first %s)", second, first.ID)
	}
	if v, _ := w.Stake(id); v.CanAutoSlash {
		t.Fatal("one adaptor signature short, yet CanAutoSlash")
	}
	// A quorum: broadcast.
	if err := w.Add(e1, e2); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.Stake(id); !v.CanAutoSlash {
		t.Fatal("the richer entry was not kept")
	}
	catchUp(t, w, 1)
	got = rec.all()
	wantKinds(t, got[3:], nil, "1 auto_slash_broadcast/staking")
	if len(n.sent) != 1 || n.sent[0].TxIn[0].PreviousOutPoint != s.op || got[3].Txid != n.sent[0].TxHash().String() {
		t.Fatalf("broadcast %d transactions, event %+v", len(n.sent), got[3])
	}
	ids := map[string]bool{}
	for _, e := range got {
		if ids[e.ID] {
			t.Fatalf("id %s twice: %v", e.ID, got)
		}
		ids[e.ID] = true
	}
	// Restarted with every copy and the key again: never again.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	w = openTest(t, path, cfg)
	if err := w.Add(e0, e1, e2); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFinalityProviderKey(fp); err != nil {
		t.Fatal(err)
	}
	n.mineEmpty(1)
	catchUp(t, w, 2)
	if len(rec.all()) != 0 || len(n.sent) != 1 {
		t.Fatalf("after the restart: %v, %d broadcast", kinds(rec.all(), nil), len(n.sent))
	}
}

// TestAutoSlashRetriesNewKey: a delegation to two providers whose
// slashing PSBT holds adaptor signatures for the second only is refused
// with the first provider's key (given again: not retried), and slashed
// once the second's key is known.
func TestAutoSlashRetriesNewKey(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w := openTest(t, dbPath(t), cfg)
	fp1, fp2 := f.key(), f.key()
	s := f.newStake(t, 100, fp1, fp2)
	p := f.slashingPSBTs(t, s)[2]
	// Drop the adaptor signatures encrypted to fp1 (key data: covenant
	// member, finality provider, leaf hash, after the proprietary prefix).
	x1 := script.XOnly(fp1.PubKey())
	prefix := 1 + 1 + len("btcstake") + 1
	kept := p.Inputs[0].Unknowns[:0]
	for _, u := range p.Inputs[0].Unknowns {
		if len(u.Key) == prefix+96 && string(u.Key[prefix+32:prefix+64]) == string(x1[:]) {
			continue
		}
		kept = append(kept, u)
	}
	p.Inputs[0].Unknowns = kept
	sigs, err := psbt.AdaptorSigs(p, 0)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("%d adaptor signatures left (%v), want fp2's 2", len(sigs), err)
	}
	if err := w.Add(f.withSlashing(t, s, p)); err != nil {
		t.Fatal(err)
	}
	n.mine(s.tx)
	if err := w.AddFinalityProviderKey(fp1); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	got := rec.all()
	wantKinds(t, got, nil, "1 staking_confirmed", "1 auto_slash_refused/staking")
	if got[1].FinalityProvider != x1.String() || len(got[1].Missing) != 3 {
		t.Fatalf("refusal %+v", got[1])
	}
	if err := w.AddFinalityProviderKey(fp1); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	if len(rec.all()) != 2 || len(n.sent) != 0 {
		t.Fatalf("a key known already brought a new attempt: %v", kinds(rec.all(), nil))
	}
	if err := w.AddFinalityProviderKey(fp2); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	got = rec.all()
	wantKinds(t, got[2:], nil, "1 auto_slash_broadcast/staking")
	if got[2].FinalityProvider != script.XOnly(fp2.PubKey()).String() || len(n.sent) != 1 {
		t.Fatalf("broadcast %+v, %d sent", got[2], len(n.sent))
	}
	ls, err := script.ParseWitness(n.sent[0].TxIn[0].Witness)
	if err != nil || ls.Leaf.Kind != script.SlashingPath || script.CountSigned(ls.Covenant) != 2 {
		t.Fatalf("not a complete slashing spend (%v)", err)
	}
}

// TestAutoSlashMissingInputsBehindTip: while the watcher is behind the
// node's tip, a refusal for missing inputs (the output may be spent in a
// block it has not read yet) is not final: nothing is recorded and the
// slashing is tried again; at the tip the same refusal is final.
func TestAutoSlashMissingInputsBehindTip(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w := openTest(t, dbPath(t), cfg)
	fp := f.key()
	A, _ := f.presigned(t, fp, false)
	B, _ := f.presigned(t, fp, false)
	_ = w.Add(A.e, B.e)
	n.mine(A.tx)
	n.mine(B.tx)
	catchUp(t, w, 2)
	n.mine()
	n.mine() // the tip is 4; the watcher stops at 3 below
	n.sendErr = &chain.RejectError{Kind: chain.ErrMissingInputs, Reason: "bad-txns-inputs-missingorspent"}
	if err := w.AddFinalityProviderKey(fp); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 3)
	if evs := autoSlashEvents(rec.all()); len(evs) != 0 {
		t.Fatalf("behind the tip: %v, want no auto-slash event", kinds(evs, nil))
	}
	n.sendErr = nil
	catchUp(t, w, 4)
	got := autoSlashEvents(rec.all())
	if len(got) != 2 || got[0].Kind != EventAutoSlashBroadcast || got[1].Kind != EventAutoSlashBroadcast || len(n.sent) != 2 {
		t.Fatalf("retried: %v, %d sent", kinds(got, nil), len(n.sent))
	}

	// At the tip, the same refusal is final.
	C, _ := f.presigned(t, fp, false)
	_ = w.Add(C.e)
	n.sendErr = &chain.RejectError{Kind: chain.ErrMissingInputs, Reason: "bad-txns-inputs-missingorspent"}
	n.mine(C.tx)
	catchUp(t, w, 5)
	got = autoSlashEvents(rec.all())[2:]
	if len(got) != 1 || got[0].Kind != EventAutoSlashRefused || !strings.Contains(got[0].Reason, "missingorspent") {
		t.Fatalf("at the tip: %v", kinds(got, nil))
	}
}

func autoSlashEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == EventAutoSlashBroadcast || e.Kind == EventAutoSlashRefused {
			out = append(out, e)
		}
	}
	return out
}

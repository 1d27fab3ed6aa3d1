package psbt

import (
	"crypto/sha256"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/internal/benchpair"
	"github.com/btcstake/btcstake/script"
)

func benchWorld(b *testing.B) (*world, Delegation, Funding) {
	w := newWorld(b, rand.New(rand.NewSource(11)), 1, 5, 3)
	stTx, d := w.stake(b, 1_000_000, 1000)
	st, _ := d.StakingOutput()
	return w, d, Funding{stTx, outputIndex(stTx, st)}
}

func BenchmarkBuildStaking(b *testing.B) {
	w, d, _ := benchWorld(b)
	k := randKey(w.r)
	utxos := []UTXO{coin(w.r, k, p2wpkh(k), 300_000), coin(w.r, k, p2tr(k), 900_000), coin(w.r, k, p2wpkh(k), 500_000)}
	req := StakingRequest{Delegation: d, Value: 1_000_000, UTXOs: utxos, FeeRate: 2000, ChangePkScript: p2tr(k), PhaseOne: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildStaking(req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildUnbonding(b *testing.B) {
	_, d, f := benchWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildUnbonding(d, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildSlashing(b *testing.B) {
	_, d, f := benchWorld(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildSlashing(d, script.StakingOutputKind, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildWithdraw(b *testing.B) {
	w, d, f := benchWorld(b)
	req := WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f, DestPkScript: p2tr(w.staker), FeeRate: 1000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildWithdraw(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinalizeSlashing3of5: assembling and script-checking the witness
// of a slashing tx signed by the staker, one FP and 3 of 5 covenant members.
func BenchmarkFinalizeSlashing3of5(b *testing.B) {
	w, d, f := benchWorld(b)
	res, _ := BuildSlashing(d, script.StakingOutputKind, f)
	for _, k := range append([]*btcec.PrivateKey{w.staker, w.fps[0]}, w.cov[:3]...) {
		if err := signTapscript(res.Packet, 0, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Finalize(res.Packet); err != nil {
			b.Fatal(err)
		}
		// Finalize leaves the packet finalised: prepare a freshly signed one
		// for the next iteration outside the timer.
		b.StopTimer()
		res2, _ := BuildSlashing(d, script.StakingOutputKind, f)
		for _, k := range append([]*btcec.PrivateKey{w.staker, w.fps[0]}, w.cov[:3]...) {
			_ = signTapscript(res2.Packet, 0, k)
		}
		res = res2
		b.StartTimer()
	}
}

// BenchmarkFinalizeSlashing3of5VsBtcec is BenchmarkFinalizeSlashing3of5
// beside one btcec schnorr.Verify (the yardstick), in thread CPU time:
// btcstake-ns/op is the time to finalise (goal: at most 0.6 ms), ratio
// the number of btcec verifications it costs.
func BenchmarkFinalizeSlashing3of5VsBtcec(b *testing.B) {
	w, d, f := benchWorld(b)
	signed := func() *psbt.Packet {
		res, _ := BuildSlashing(d, script.StakingOutputKind, f)
		for _, k := range append([]*btcec.PrivateKey{w.staker, w.fps[0]}, w.cov[:3]...) {
			if err := signTapscript(res.Packet, 0, k); err != nil {
				b.Fatal(err)
			}
		}
		return res.Packet
	}
	h := sha256.Sum256([]byte("yardstick"))
	sig, _ := schnorr.Sign(w.staker, h[:])
	pk := w.staker.PubKey()
	var p *psbt.Packet
	b.ReportAllocs()
	benchpair.RunWithSetup(b, "btcec-verify",
		func() {
			if !sig.Verify(h[:], pk) {
				b.Fatal("invalid")
			}
		},
		func() { p = signed() },
		func() {
			if _, err := Finalize(p); err != nil {
				b.Fatal(err)
			}
		})
}

// BenchmarkAnalyzeSlashing3of5: the analysis sign and adaptor-sign print
// after each signature (no time-lock search): a slashing PSBT with the
// staker's signature and three members' adaptor signatures, whose
// signature is verified on the way.
func BenchmarkAnalyzeSlashing3of5(b *testing.B) {
	w, d, f := benchWorld(b)
	res, _ := BuildSlashing(d, script.StakingOutputKind, f)
	if err := SignTapscript(res.Packet, 0, w.staker); err != nil {
		b.Fatal(err)
	}
	for _, k := range w.cov[:3] {
		if _, err := adaptorSignSlashing(res.Packet, 0, k); err != nil {
			b.Fatal(err)
		}
	}
	opts := AnalyzeOptions{Params: w.params}
	b.ReportAllocs()
	for b.Loop() {
		a, err := Analyze(res.Packet, opts)
		if err != nil || !a.SlashingCompletable {
			b.Fatal(err)
		}
	}
}

// BenchmarkEstimateVSize of the same slashing PSBT.
func BenchmarkEstimateVSize(b *testing.B) {
	_, d, f := benchWorld(b)
	res, _ := BuildSlashing(d, script.StakingOutputKind, f)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EstimateVSize(res.Packet); err != nil {
			b.Fatal(err)
		}
	}
}

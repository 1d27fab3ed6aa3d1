package psbt

import (
	"bytes"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := time.Now().UnixNano()
	if v := os.Getenv("BTCSTAKE_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

func randKey(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	for {
		r.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		if !k.Key.IsZero() {
			return k
		}
	}
}

func randKeys(r *rand.Rand, n int) []*btcec.PrivateKey {
	out := make([]*btcec.PrivateKey, n)
	for i := range out {
		out[i] = randKey(r)
	}
	return out
}

func pubs(ks []*btcec.PrivateKey) []*btcec.PublicKey {
	out := make([]*btcec.PublicKey, len(ks))
	for i, k := range ks {
		out[i] = k.PubKey()
	}
	return out
}

func p2wpkh(k *btcec.PrivateKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...)
}

func p2tr(k *btcec.PrivateKey) []byte {
	q := txscript.ComputeTaprootKeyNoScript(k.PubKey())
	return append([]byte{0x51, 0x20}, schnorr.SerializePubKey(q)...)
}

func p2pkh(k *btcec.PrivateKey) []byte {
	return append(append([]byte{0x76, 0xa9, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...), 0x88, 0xac)
}

func p2shP2wpkh(k *btcec.PrivateKey) []byte {
	return append(append([]byte{0xa9, 0x14}, address.Hash160(p2wpkh(k))...), 0x87)
}

// world is a delegation with every private key, under test params.
type world struct {
	r        *rand.Rand
	params   *params.Params
	staker   *btcec.PrivateKey
	fps      []*btcec.PrivateKey
	cov      []*btcec.PrivateKey
	slashKey *btcec.PrivateKey
}

func newWorld(t testing.TB, r *rand.Rand, nFP, nCov int, quorum uint32) *world {
	t.Helper()
	w := &world{r: r, staker: randKey(r), fps: randKeys(r, nFP), cov: randKeys(r, nCov), slashKey: randKey(r)}
	var err error
	w.params, err = params.New(params.Config{
		CovenantKeys: pubs(w.cov), CovenantQuorum: quorum,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 1_000,
		SlashingPkScript: p2wpkh(w.slashKey), SlashingRate: "0.1", MinSlashingFee: 1_000,
		Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) delegation(stakingTime uint16) Delegation {
	return Delegation{Params: w.params, Staker: w.staker.PubKey(), FinalityProviders: pubs(w.fps), StakingTime: stakingTime}
}

// coin makes a UTXO of the given kind owned by k, created by a fake
// previous transaction (included, so any kind can be spent).
func coin(r *rand.Rand, k *btcec.PrivateKey, pkScript []byte, value int64) UTXO {
	prev := wire.NewMsgTx(2)
	var h chainhash.Hash
	r.Read(h[:])
	prev.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: h}})
	vout := uint32(r.Intn(3))
	for i := uint32(0); i < vout; i++ {
		prev.AddTxOut(wire.NewTxOut(1000, p2wpkh(k)))
	}
	prev.AddTxOut(wire.NewTxOut(value, pkScript))
	return UTXO{OutPoint: wire.OutPoint{Hash: prev.TxHash(), Index: vout}, Value: value, PkScript: pkScript, PrevTx: prev}
}

// stake builds, signs and finalises a staking tx of value from one P2WPKH
// coin.
func (w *world) stake(t testing.TB, value int64, stakingTime uint16) (*wire.MsgTx, Delegation) {
	t.Helper()
	funder := randKey(w.r)
	d := w.delegation(stakingTime)
	res, err := BuildStaking(StakingRequest{Delegation: d, Value: value,
		UTXOs: []UTXO{coin(w.r, funder, p2wpkh(funder), value+100_000)}, FeeRate: 2000, ChangePkScript: p2wpkh(funder)})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := SignFundingInputs(res.Packet, funder); err != nil || n != 1 {
		t.Fatalf("signed %d: %v", n, err)
	}
	tx, err := Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	return tx, d
}

func serialize(t testing.TB, p *psbt.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func outputIndex(tx *wire.MsgTx, o *script.Output) uint32 {
	for i, out := range tx.TxOut {
		if bytes.Equal(out.PkScript, o.PkScript) {
			return uint32(i)
		}
	}
	return 1 << 31
}

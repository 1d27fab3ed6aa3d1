package watch

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// versionsOf numbers ps 0, 1, ... activating at heights 100, 200, ...,
// with confirmation depths 10, 11, ...
func versionsOf(t tb, ps ...*params.Params) *params.Versions {
	t.Helper()
	var vs []*params.Version
	for i, p := range ps {
		v, err := params.NewVersion(uint32(i), uint32(100*(i+1)), p, params.BabylonExtras{ConfirmationDepth: uint32(10 + i)})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	out, err := params.NewVersions(vs...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withUnbondingTime is p with another unbonding time (same committee).
func withUnbondingTime(t tb, p *params.Params, ut uint16) *params.Params {
	t.Helper()
	c := p.Config()
	c.UnbondingTime = ut
	q, err := params.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func txHexOf(tx *wire.MsgTx) string { return txHex(tx) }

func b64(t tb, p *btcpsbt.Packet) string {
	t.Helper()
	s, err := psbt.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keyHex(k *btcec.PublicKey) string { return hex.EncodeToString(k.SerializeCompressed()) }

func xonlyHexKey(k *btcec.PublicKey) string {
	x := script.XOnly(k)
	return hex.EncodeToString(x[:])
}

// item is a watch-list item of the staking-tx form for f.
func item(f *entryFixture, extra map[string]any) map[string]any {
	m := map[string]any{
		"staking_tx":         txHexOf(f.stakingTx),
		"staker_pk":          xonlyHexKey(f.d.Staker),
		"finality_providers": []string{keyHex(f.d.FinalityProviders[0])},
		"staking_time":       f.d.StakingTime,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func list(t tb, items ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"entries": items})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVersionRule(t *testing.T) {
	// Three versions: A (another committee), B, and C (B's committee with
	// a longer unbonding time). The delegation is made under B.
	w := newWorld(t, 20, 1, 3, 2)
	other := newWorld(t, 21, 1, 3, 2)
	pB := w.params
	pC := withUnbondingTime(t, pB, 40)
	vs := versionsOf(t, other.params, pB, pC)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})

	// The bare staking transaction fits B and C alike: the newest, C, is
	// taken (the documented ambiguity), with its confirmation depth.
	es, err := ParseWatchList(list(t, item(f, nil)), vs)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Params().UnbondingTime() != 40 || es[0].ConfirmationDepth() != 12 {
		t.Fatalf("unbonding time %d depth %d", es[0].Params().UnbondingTime(), es[0].ConfirmationDepth())
	}
	// With the unbonding transaction (made under B), C no longer holds
	// together and B is taken.
	es, err = ParseWatchList(list(t, item(f, map[string]any{"unbonding_tx": txHexOf(f.unbondingTx)})), vs)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Params().UnbondingTime() != 20 || es[0].ConfirmationDepth() != 11 {
		t.Fatalf("unbonding time %d", es[0].Params().UnbondingTime())
	}
	// Stated: params_version 1, or a height in B's range (200..299).
	// The stated height is kept (where a backfill may start); a version
	// number states none.
	for _, c := range []struct {
		extra  map[string]any
		height int64
		ok     bool
	}{{map[string]any{"params_version": 1}, -1, false}, {map[string]any{"staking_height": 250}, 250, true}} {
		es, err = ParseWatchList(list(t, item(f, c.extra)), vs)
		if err != nil || es[0].Params().UnbondingTime() != 20 {
			t.Fatalf("%v: %v", c.extra, err)
		}
		if h, ok := es[0].StatedHeight(); h != c.height || ok != c.ok {
			t.Fatalf("%v: stated height %d %v", c.extra, h, ok)
		}
	}
	if _, ok := es[0].StatedHeight(); ok {
		raw, _ := es[0].MarshalJSON()
		var back Entry
		if err := back.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := back.StatedHeight(); ok {
			t.Fatal("a stated height survived the store's encoding")
		}
	}
	// Stated wrongly: version 0 (another committee), height 150, a
	// version that does not exist, a height before the first version.
	for _, c := range []struct {
		extra map[string]any
		kind  error
	}{
		{map[string]any{"params_version": 0}, ErrInvalidEntry},
		{map[string]any{"staking_height": 150}, ErrInvalidEntry},
		{map[string]any{"params_version": 7}, ErrNoParamsVersion},
		{map[string]any{"staking_height": 50}, ErrNoParamsVersion},
		{map[string]any{"params_version": 2, "unbonding_tx": txHexOf(f.unbondingTx)}, ErrInvalidEntry},
	} {
		if _, err := ParseWatchList(list(t, item(f, c.extra)), vs); !errors.Is(err, c.kind) {
			t.Fatalf("%v: err = %v", c.extra, err)
		}
	}
	// Under no version: the transaction of another committee's staker.
	g := other.delegate(t, []int{0}, 200_000, 1000, false, nil)
	if _, err := ParseWatchList(list(t, item(g, nil)), versionsOf(t, pB, pC)); !errors.Is(err, ErrNoParamsVersion) {
		t.Fatalf("err = %v", err)
	}
	// Matches B and C, but its unbonding transaction fits neither (a fee
	// off by one): the newest matching version's error.
	bad := f.unbondingTx.Copy()
	bad.TxOut[0].Value--
	_, err = ParseWatchList(list(t, item(f, map[string]any{"unbonding_tx": txHexOf(bad)})), vs)
	if !errors.Is(err, ErrInvalidEntry) || !errors.Is(err, psbt.ErrTxFee) || !strings.Contains(err.Error(), "under params version 2") ||
		!strings.Contains(err.Error(), "under params version 1") || strings.Contains(err.Error(), "version 0") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseWatchList(t *testing.T) {
	w := newWorld(t, 22, 2, 3, 2)
	vs := versionsOf(t, w.params)
	f1 := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	f2 := w.delegate(t, []int{1}, 300_000, 2000, false, []int{1, 2})
	full := item(f1, map[string]any{
		"unbonding_tx":            txHexOf(f1.unbondingTx),
		"slashing_psbt":           b64(t, f1.slashing),
		"unbonding_slashing_psbt": b64(t, f1.unbondingSlashing),
		"params_version":          0,
	})
	es, err := ParseWatchList(list(t, full, item(f2, nil)), vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].ID() != (wire.OutPoint{Hash: f1.stakingTx.TxHash(), Index: f1.index}).String() ||
		es[1].Value() != 300_000 || es[0].Source() != SourceStakingTx {
		t.Fatalf("%d entries", len(es))
	}
	// The first slashes; the second has nothing to slash with.
	if _, err := es[0].CompleteSlashing(script.UnbondingOutputKind, w.fps[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := es[1].CompleteSlashing(script.StakingOutputKind, w.fps[1]); !errors.Is(err, ErrNoSlashingTx) {
		t.Fatalf("err = %v", err)
	}

	good := list(t, item(f1, nil))
	dupKey := bytes.Replace(good, []byte(`"staking_time":`), []byte(`"staking_time":5,"staking_time":`), 1)
	for _, c := range []struct {
		name string
		b    []byte
		kind error
		text string
	}{
		{"duplicate key", dupKey, ErrInvalidWatchList, `"staking_time" given twice in $.entries[0]`},
		{"duplicate top key", []byte(`{"entries":[],"entries":[]}`), ErrInvalidWatchList, `"entries" given twice in $`},
		{"trailing data", append(append([]byte{}, good...), `{}`...), ErrInvalidWatchList, "data after"},
		{"unknown key", list(t, item(f1, map[string]any{"stake_time": 5})), ErrInvalidWatchList, "stake_time"},
		{"unknown top key", []byte(`{"entries":[],"version":1}`), ErrInvalidWatchList, "version"},
		{"no entries", []byte(`{}`), ErrInvalidWatchList, "entries"},
		{"not JSON", []byte(`entries: []`), ErrInvalidWatchList, ""},
		{"missing staker", list(t, func() map[string]any { m := item(f1, nil); delete(m, "staker_pk"); return m }()), ErrInvalidWatchList, "entries[0]: invalid watch list: staker_pk is required"},
		{"missing staking time", list(t, func() map[string]any { m := item(f1, nil); delete(m, "staking_time"); return m }()), ErrInvalidWatchList, "staking_time is required"},
		{"staking time 0", list(t, item(f1, map[string]any{"staking_time": 0})), ErrInvalidWatchList, "staking_time"},
		{"staking time too long", list(t, item(f1, map[string]any{"staking_time": 70000})), ErrInvalidWatchList, "staking_time"},
		{"two forms", list(t, item(f1, map[string]any{"psbt_dir": "x"})), ErrInvalidWatchList, "exactly one of"},
		{"no form", list(t, map[string]any{"params_version": 1}), ErrInvalidWatchList, "exactly one of"},
		{"registration with keys", list(t, map[string]any{"registration": "r.json", "staker_pk": "00"}), ErrInvalidWatchList, "registration item"},
		{"psbt_dir with version", list(t, map[string]any{"psbt_dir": "d", "params_version": 1}), ErrInvalidWatchList, "psbt_dir item"},
		{"version and height", list(t, item(f1, map[string]any{"params_version": 0, "staking_height": 100})), ErrInvalidWatchList, "not both"},
		{"bad tx hex", list(t, item(f1, map[string]any{"staking_tx": "zz"})), ErrInvalidWatchList, "staking_tx"},
		{"tx with trailing bytes", list(t, item(f1, map[string]any{"staking_tx": txHexOf(f1.stakingTx) + "00"})), ErrInvalidWatchList, "left over"},
		{"bad key", list(t, item(f1, map[string]any{"staker_pk": "0011"})), ErrInvalidWatchList, "staker_pk"},
		{"bad psbt", list(t, item(f1, map[string]any{"slashing_psbt": "bm90IGEgcHNidA=="})), ErrInvalidWatchList, "slashing_psbt"},
		{"not base64", list(t, item(f1, map[string]any{"slashing_psbt": "***"})), ErrInvalidWatchList, "slashing_psbt"},
		{"wrong keys", list(t, item(f1, map[string]any{"finality_providers": []string{keyHex(w.fps[1].PubKey())}})), ErrNoParamsVersion, "entries[0]"},
		{"slashing psbt of another delegation", list(t, item(f1, map[string]any{"slashing_psbt": b64(t, f2.slashing)})), ErrInvalidEntry, "entries[0]"},
		{"same delegation twice", list(t, item(f1, nil), item(f2, nil), item(f1, map[string]any{"params_version": 0})), ErrInvalidWatchList, "entries[0] and entries[2] are both delegation"},
		{"registration file missing", list(t, map[string]any{"registration": filepath.Join(t.TempDir(), "none.json")}), ErrInvalidFile, "entries[0]"},
		{"too large", append(append([]byte{}, good...), bytes.Repeat([]byte{' '}, MaxWatchListSize)...), ErrInvalidWatchList, "at most"},
	} {
		t.Run(c.name, func(t *testing.T) {
			es, err := ParseWatchList(c.b, vs)
			if es != nil || !errors.Is(err, c.kind) {
				t.Fatalf("entries %v, err %v", es, err)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err %q does not say %q", err, c.text)
			}
		})
	}
	if _, err := ParseWatchList(good, nil); !errors.Is(err, ErrNoParamsVersion) {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadWatchListRelativePaths(t *testing.T) {
	w := newWorld(t, 23, 2, 3, 2)
	vs := versionsOf(t, w.params)
	f1 := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	f2 := w.delegate(t, []int{1}, 300_000, 2000, false, []int{1, 2})
	root := t.TempDir()
	sub := filepath.Join(root, "lists")
	dir := filepath.Join(sub, "bob")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "stake.psbt"), b64(t, f2.stakingPSBT))
	writeFile(t, filepath.Join(dir, "slash.psbt"), b64(t, f2.slashing))
	path := filepath.Join(sub, "watch.json")
	writeFile(t, path, string(list(t, item(f1, nil), map[string]any{"psbt_dir": "bob"})))
	es, err := LoadWatchList(path, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[1].Source() != SourcePSBTDir || es[1].SlashingPSBT(script.StakingOutputKind) == nil {
		t.Fatalf("%d entries", len(es))
	}
	// ParseWatchList takes the same path from the current directory,
	// where it is not.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseWatchList(b, vs); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err = %v", err)
	}
	// A list that is not a regular file.
	if _, err := LoadWatchList(dir, vs); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("err = %v", err)
	}
}

func writeFile(t tb, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFromPhaseOne(t *testing.T) {
	w := newWorld(t, 24, 1, 3, 2)
	pC := withUnbondingTime(t, w.params, 40)
	vs := versionsOf(t, w.params, pC)
	f := w.delegate(t, []int{0}, 200_000, 1000, true, nil)
	for _, c := range []struct {
		height uint32
		ut     uint16
		depth  uint32
	}{{150, 20, 10}, {250, 40, 11}} {
		e, err := FromPhaseOne(f.stakingTx, c.height, vs)
		if err != nil {
			t.Fatal(err)
		}
		if e.Source() != SourcePhaseOne || e.Params().UnbondingTime() != c.ut || e.ConfirmationDepth() != c.depth ||
			!e.Delegation().FinalityProviders[0].IsEqual(w.fps[0].PubKey()) || e.Delegation().StakingTime != 1000 ||
			e.StakingOutPoint().Index != f.index {
			t.Fatalf("height %d: %+v", c.height, e.Delegation())
		}
		if h, ok := e.StatedHeight(); !ok || h != int64(c.height) {
			t.Fatalf("height %d: stated %d %v", c.height, h, ok)
		}
	}
	if _, err := FromPhaseOne(f.stakingTx, 50, vs); !errors.Is(err, ErrNoParamsVersion) {
		t.Fatalf("err = %v", err)
	}
	// Not a phase-1 transaction; another committee's; none.
	plain := w.delegate(t, []int{0}, 200_000, 1000, false, nil)
	other := newWorld(t, 25, 1, 3, 2).delegate(t, []int{0}, 200_000, 1000, true, nil)
	for _, tx := range []*wire.MsgTx{plain.stakingTx, other.stakingTx, nil} {
		if _, err := FromPhaseOne(tx, 150, vs); !errors.Is(err, ErrInvalidEntry) {
			t.Fatalf("err = %v", err)
		}
	}
	// A lock-only (phase-1 global params) version makes no entry.
	lock, err := params.Preset("bbn-1-phase1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromPhaseOne(f.stakingTx, lock.Latest().ActivationHeight(), lock); !errors.Is(err, ErrNoParamsVersion) || !errors.Is(err, params.ErrLockOnly) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseWatchList(f *testing.F) {
	w := newWorld(f, 26, 1, 3, 2)
	vs := versionsOf(f, w.params)
	fx := w.delegate(f, []int{0}, 200_000, 1000, false, []int{0, 1})
	f.Add(list(f, item(fx, map[string]any{"unbonding_tx": txHexOf(fx.unbondingTx), "slashing_psbt": b64(f, fx.slashing)})))
	f.Add(list(f, item(fx, nil), item(fx, nil)))
	f.Add([]byte(`{"entries":[{"psbt_dir":"/nonexistent"}]}`))
	f.Add([]byte(`{"entries":[{"staking_tx":"00","staker_pk":"00","finality_providers":["00"],"staking_time":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := ParseWatchList(b, vs)
		if err != nil {
			if es != nil {
				t.Fatal("entries with an error")
			}
			for _, k := range []error{ErrInvalidWatchList, ErrInvalidEntry, ErrInvalidFile, ErrPSBTDir, ErrNoParamsVersion} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error of no kind: %v", err)
		}
		// Every entry made is a valid entry that round-trips.
		seen := map[string]bool{}
		for _, e := range es {
			if seen[e.ID()] {
				t.Fatalf("delegation %s twice", e.ID())
			}
			seen[e.ID()] = true
			var back Entry
			if err := back.UnmarshalJSON(marshal(t, e)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

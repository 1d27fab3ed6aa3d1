package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

const paramsTestdata = "../../params/testdata/"

// bbn1Keys is the bbn-1 committee as docs/networks.md lists it (versions 0
// to 4 hold these nine keys).
var bbn1Keys = []string{
	"d45c70d28f169e1f0c7f4a78e2bc73497afe585b70aa897955989068f3350aaa",
	"4b15848e495a3a62283daaadb3f458a00859fe48e321f0121ebabbdd6698f9fa",
	"23b29f89b45f4af41588dcaf0ca572ada32872a88224f311373917f1b37d08d1",
	"d3c79b99ac4d265c2f97ac11e3232c07a598b020cf56c6f055472c893c0967ae",
	"f178fcce82f95c524b53b077e6180bd2d779a9057fdff4255a0af95af918cee0",
	"8242640732773249312c47ca7bdb50ca79f15f2ecc32b9c83ceebba44fb74df7",
	"cbdd028cfe32c1c1f2d84bfec71e19f92df509bba7b8ad31ca6c1a134fe09204",
	"e36200aaa8dce9453567bba108bdc51f7f1174b97a65e4dc4402fc5de779d41c",
	"de13fc96ea6899acbdc5db3afaa683f62fe35b60ff6eb723dad28a11d2b12f8c",
}

func sameKeySet(t *testing.T, got []string) {
	t.Helper()
	if len(got) != len(bbn1Keys) {
		t.Fatalf("%d keys", len(got))
	}
	for _, k := range bbn1Keys {
		found := false
		for _, g := range got {
			found = found || g == k
		}
		if !found {
			t.Fatalf("key %s missing from %v", k, got)
		}
	}
}

// checkV4JSON: version 4 of bbn-1 as issue 11 states it.
func checkV4JSON(t *testing.T, v paramsVersionJSON) {
	t.Helper()
	if v.Version == nil || *v.Version != 4 || v.BtcActivationHeight != 893362 || v.LockOnly || v.CovenantQuorum != 6 ||
		v.MinStakingValueSat != 500_000 || v.MaxStakingValueSat != 500_000_000_000 || v.MinStakingTimeBlocks != 64000 ||
		v.MaxStakingTimeBlocks != 64000 || v.UnbondingTimeBlocks != 1008 || v.UnbondingFeeSat != 9600 || v.SlashingRate != "0.001" ||
		v.SlashingPkScript != "6a07626162796c6f6e" || v.MinSlashingTxFeeSat != 100_000 || v.MinCommissionRate != "0.03" ||
		v.DelegationCreationBaseGasFee != 1_095_000 || v.AllowListExpirationHeight != 139920 {
		t.Fatalf("%+v", v)
	}
	sameKeySet(t, v.CovenantPks)
}

func TestParamsShow(t *testing.T) {
	j := mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", "bbn-1", "--btc-height", "893362", "--json"))
	checkV4JSON(t, j.Version)
	if j.SelectedBy != "btc_height" || j.BtcHeight == nil || *j.BtcHeight != 893362 || j.ParamsSource != "bbn-1" ||
		j.SourceKind != "preset" || j.Retrieved == "" || j.VersionCount != 5 {
		t.Fatalf("%+v", j)
	}
	// One block earlier: version 3 (unbonding fee 32,000 sat from 891,425).
	j = mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", "bbn-1", "--btc-height", "893361", "--json"))
	if *j.Version.Version != 3 || j.Version.BtcActivationHeight != 891425 || j.Version.UnbondingFeeSat != 32000 {
		t.Fatalf("%+v", j.Version)
	}
	sameKeySet(t, j.Version.CovenantPks)
	// No height: the latest, and said so.
	j = mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", "bbn-1", "--json"))
	if j.SelectedBy != "latest" || j.BtcHeight != nil {
		t.Fatalf("%+v", j)
	}
	checkV4JSON(t, j.Version)
	out := mustRun(t, "params", "show", "--params", "bbn-1")
	wantContains(t, out, "version 4 of preset bbn-1", "from Bitcoin height 893362", "the latest of 5 versions", "no --btc-height",
		"6 of 9 keys", "exactly 64000 blocks", "9600 sat", "OP_RETURN \"babylon\"", "100000 sat")
	// The recorded chain answer reads to the same version as the preset.
	for _, f := range []string{"bbn-1-params-versions.json", "bbn-1-params.json"} {
		j = mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", paramsTestdata+f, "--btc-height", "893362", "--json"))
		if j.SourceKind != "file" {
			t.Fatalf("%s: %+v", f, j)
		}
		if f == "bbn-1-params.json" { // the Params response does not number its version
			if j.Version.Version != nil {
				t.Fatalf("%s: numbered", f)
			}
			four := uint32(4)
			j.Version.Version = &four
		}
		checkV4JSON(t, j.Version)
	}
	// A file of one version needs no height; the regtest preset is the
	// example file.
	j = mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", "regtest", "--json"))
	f := mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", regtestParams, "--json"))
	ex := params.RegtestExample()
	if j.SelectedBy != "only" || j.Version.Version != nil || j.Version.CovenantQuorum != ex.CovenantQuorum() ||
		j.Version.Tag != fmt.Sprintf("%x", ex.Tag()) || fmt.Sprint(j.Version) != fmt.Sprint(f.Version) {
		t.Fatalf("%+v vs %+v", j, f)
	}
	// Phase 1 is shown, as lock-only.
	j = mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", "bbn-1-phase1", "--btc-height", "857910", "--json"))
	if !j.Version.LockOnly || j.Version.SlashingRate != "" || j.Version.Tag != "62626e31" || j.Version.ConfirmationDepth != 10 {
		t.Fatalf("%+v", j.Version)
	}
	wantContains(t, mustRun(t, "params", "show", "--params", "bbn-1-phase1"), "lock-only")
}

func TestParamsList(t *testing.T) {
	j := mustJSON[paramsListJSON](t, mustRun(t, "params", "list", "--params", "bbn-1", "--json"))
	// Activation heights and fees as docs/networks.md tabulates them.
	want := []struct {
		height uint32
		maxSat int64
		feeSat int64
	}{{857910, 5_000_000, 64000}, {864790, 50_000_000_000, 32000}, {874088, 500_000_000_000, 32000},
		{891425, 500_000_000_000, 32000}, {893362, 500_000_000_000, 9600}}
	if len(j.Versions) != len(want) || j.Format != string(params.FormatBabylonUpgrade) {
		t.Fatalf("%+v", j)
	}
	for i, w := range want {
		v := j.Versions[i]
		if v.Version == nil || *v.Version != uint32(i) || v.BtcActivationHeight != w.height || v.MaxStakingValueSat != w.maxSat || v.UnbondingFeeSat != w.feeSat {
			t.Fatalf("version %d: %+v", i, v)
		}
		sameKeySet(t, v.CovenantPks)
	}
	checkV4JSON(t, j.Versions[4])
	out := mustRun(t, "params", "list", "--params", "bbn-1")
	wantContains(t, out, "5 version(s)", "857910", "893362", "9600 sat", "64000 sat")
	if lines := strings.Count(out, "\n"); lines != 7 {
		t.Fatalf("%d lines:\n%s", lines, out)
	}
	// bbn-test-6: six versions, the last with a 3-key committee.
	j = mustJSON[paramsListJSON](t, mustRun(t, "params", "list", "--params", "bbn-test-6", "--json"))
	if len(j.Versions) != 6 || j.Versions[5].CovenantQuorum != 2 || len(j.Versions[5].CovenantPks) != 3 || j.Versions[5].BtcActivationHeight != 271923 {
		t.Fatalf("%+v", j.Versions[5])
	}
}

func TestParamsPresets(t *testing.T) {
	var got []presetJSON
	if err := json.Unmarshal([]byte(mustRun(t, "params", "presets", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	names := []string{"bbn-1", "bbn-1-phase1", "bbn-test-6", "regtest"}
	if len(got) != len(names) {
		t.Fatalf("%+v", got)
	}
	for i, p := range got {
		if p.Name != names[i] || len(p.Files) == 0 {
			t.Fatalf("%+v", p)
		}
	}
	b := got[0]
	if b.ChainID != "bbn-1" || b.BitcoinNetwork != "mainnet" || b.VersionCount != 5 || b.CheckpointTag != "62626e31" || b.Retrieved == "" ||
		b.Files[0].Repository != "babylonlabs-io/babylon" || b.Files[0].RepositoryFile != "app/upgrades/v1/mainnet/btcstaking_params.go" ||
		b.Files[0].Commit != "dc8848f2afa9e7827fea990a8e194b3ab5f993b3" || b.Files[1].Repository != "babylonlabs-io/btc-staking-ts" {
		t.Fatalf("%+v", b)
	}
	if got[2].ChainID != "bbn-test-6" || got[2].BitcoinNetwork != "signet" || got[2].CheckpointTag != "62627434" || got[2].VersionCount != 6 {
		t.Fatalf("%+v", got[2])
	}
	out := mustRun(t, "params", "presets")
	wantContains(t, out, "bbn-1: chain bbn-1, Bitcoin mainnet, 5 version(s), retrieved", "the preset for --network mainnet",
		"babylonlabs-io/babylon app/upgrades/v1/mainnet/btcstaking_params.go at v1.0.0 dc8848f2afa9e7827fea990a8e194b3ab5f993b3",
		"bbn-test-6: chain bbn-test-6, Bitcoin signet", "the preset for --network signet", "regtest: no Babylon chain")
}

func TestParamsBadInput(t *testing.T) {
	dir := t.TempDir()
	unknown := writeFile(t, dir, "unknown.json", []byte(`{"hello": "world"}`))
	gap := writeFile(t, dir, "gap.json", func() []byte {
		var resp map[string]any
		json.Unmarshal([]byte(mustRead(t, paramsTestdata+"bbn-1-params-versions.json")), &resp)
		items := resp["params"].([]any)
		resp["params"] = append(items[:2:2], items[3:]...)
		b, _ := json.Marshal(resp)
		return b
	}())
	for _, c := range []struct {
		name string
		args []string
		code int
		flag string
		text string
	}{
		{"no --params", []string{"params", "show", "--network", "mainnet"}, exitUsage, "--params", "for --network mainnet the preset is bbn-1"},
		{"no --params on testnet4", []string{"params", "show", "--network", "testnet4"}, exitUsage, "--params", "no preset fits --network testnet4"},
		{"no preset of that name", []string{"params", "show", "--params", "bbn1"}, exitUsage, "--params", `"bbn1" is neither a preset (bbn-1, bbn-1-phase1, bbn-test-6, regtest) nor a file`},
		{"a missing file", []string{"params", "show", "--params", filepath.Join(dir, "none.json")}, exitUsage, "--params", "no such file"},
		{"a format nobody publishes", []string{"params", "list", "--params", unknown}, exitUsage, "--params", "unknown params format"},
		{"a version gap", []string{"params", "list", "--params", gap}, exitUsage, "--params", "version 3 follows version 1"},
		{"a height before the first version", []string{"params", "show", "--params", "bbn-1", "--btc-height", "857909"}, exitError, "--btc-height", "before the first activation height 857910"},
		{"a height that is not one", []string{"params", "show", "--params", "bbn-1", "--btc-height", "-1"}, exitUsage, "--btc-height", "not a Bitcoin block height"},
		{"list takes no height", []string{"params", "list", "--params", "bbn-1", "--btc-height", "1"}, exitUsage, "--btc-height", "every version"},
		{"an unknown verb", []string{"params", "shw"}, exitUsage, "", "unknown command"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, js := range []bool{false, true} {
				args := c.args
				if js {
					args = append(args[:len(args):len(args)], "--json")
				}
				code, out, errOut := runCLI(t, args...)
				msg := errOut
				if js {
					var e errorJSON
					if json.Unmarshal([]byte(errOut), &e) != nil || e.ExitCode != c.code {
						t.Fatalf("not a JSON error: %q", errOut)
					}
					msg = e.Error
				}
				if code != c.code || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 ||
					!strings.Contains(msg, c.flag) || !strings.Contains(msg, c.text) {
					t.Fatalf("json=%v: exit %d, stdout %q, stderr %q", js, code, out, errOut)
				}
			}
		})
	}
}

// babylonREST serves the recorded params_versions answer (or another body)
// on loopback and counts the requests.
func babylonREST(t *testing.T, status int, body []byte) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/api/babylon/btcstaking/v1/params_versions" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/api", &n
}

func TestParamsFetch(t *testing.T) {
	recorded := []byte(mustRead(t, paramsTestdata+"bbn-1-params-versions.json"))
	url, hits := babylonREST(t, 200, recorded)
	dir := t.TempDir()
	out := filepath.Join(dir, "bbn-1-live.json")

	j := mustJSON[paramsFetchJSON](t, mustRun(t, "params", "fetch", "--babylon-rest", url, "--out", out, "--compare", "bbn-1", "--json"))
	if j.VersionCount != 5 || j.LatestVersion != 4 || j.LatestBtcActivationHeight != 893362 || j.OutFile != out ||
		j.ComparedWith != "bbn-1" || j.SameAsPreset == nil || !*j.SameAsPreset || len(j.Differences) != 0 || hits.Load() != 1 {
		t.Fatalf("%+v", j)
	}
	if got := mustRead(t, out); got != string(recorded) {
		t.Fatal("the saved file is not the node's answer")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
	// What was saved is a --params file like any other.
	show := mustJSON[paramsShowJSON](t, mustRun(t, "params", "show", "--params", out, "--btc-height", "893362", "--json"))
	checkV4JSON(t, show.Version)

	// An existing file is not replaced without --force, and nothing is
	// asked of the node then.
	hits.Store(0)
	os.WriteFile(out, []byte("mine"), 0o644)
	code, stdout, errOut := runCLI(t, "params", "fetch", "--babylon-rest", url, "--out", out)
	if code != exitUsage || stdout != "" || !strings.Contains(errOut, "--out") || !strings.Contains(errOut, "--force") || mustRead(t, out) != "mine" || hits.Load() != 0 {
		t.Fatalf("exit %d %q %q", code, stdout, errOut)
	}
	text := mustRun(t, "params", "fetch", "--babylon-rest", url, "--out", out, "--force")
	wantContains(t, text, "fetched 5 params version(s)", "version 4, is in force from Bitcoin height 893362", "wrote "+out)
	if mustRead(t, out) != string(recorded) {
		t.Fatal("--force did not replace the file")
	}

	// The chain has moved on: a new fee in version 4 and a version 5.
	var resp map[string]any
	json.Unmarshal(recorded, &resp)
	items := resp["params"].([]any)
	v4 := items[4].(map[string]any)["params"].(map[string]any)
	v4["unbonding_fee_sat"] = "12000"
	v5 := map[string]any{}
	for k, v := range v4 {
		v5[k] = v
	}
	v5["btc_activation_height"] = 950000
	resp["params"] = append(items, map[string]any{"version": 5, "params": v5})
	moved, _ := json.Marshal(resp)
	url2, _ := babylonREST(t, 200, moved)
	out2 := filepath.Join(dir, "moved.json")
	j = mustJSON[paramsFetchJSON](t, mustRun(t, "params", "fetch", "--babylon-rest", url2, "--out", out2, "--compare", "bbn-1", "--json"))
	if *j.SameAsPreset || len(j.Differences) != 2 || j.Differences[0] != (paramsDiffJSON{Version: 4, Field: "unbonding_fee_sat", PresetValue: "9600", FetchedValue: "12000"}) ||
		j.Differences[1].Version != 5 || j.Differences[1].Field != "version" || j.LatestVersion != 5 {
		t.Fatalf("%+v", j)
	}
	os.Remove(out2)
	text = mustRun(t, "params", "fetch", "--babylon-rest", url2, "--out", out2, "--compare", "bbn-1")
	wantContains(t, text, "2 difference(s) from the preset bbn-1 (the chain is right)", "version 4: unbonding_fee_sat: 9600 (preset), 12000 (chain)",
		"version 5: only in chain (from height 950000)")
}

func TestParamsFetchFailures(t *testing.T) {
	recorded := []byte(mustRead(t, paramsTestdata+"bbn-1-params-versions.json"))
	var resp map[string]any
	json.Unmarshal(recorded, &resp)
	items := resp["params"].([]any)
	resp["params"] = append(items[:1:1], items[2:]...)
	gap, _ := json.Marshal(resp)

	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	url500, _ := babylonREST(t, 500, []byte(`{"code":2,"message":"rpc error: code = Internal","details":[]}`))
	urlGarbage, _ := babylonREST(t, 200, []byte("<html>maintenance</html>"))
	urlGap, _ := babylonREST(t, 200, gap)
	urlGood, hits := babylonREST(t, 200, recorded)

	dir := t.TempDir()
	out := filepath.Join(dir, "p.json")
	for _, c := range []struct {
		name string
		args []string
		code int
		text string
	}{
		{"500", []string{"--babylon-rest", url500}, exitError, "--babylon-rest: Babylon REST endpoint answered with an HTTP error: GET "},
		{"garbage", []string{"--babylon-rest", urlGarbage}, exitError, "bad response"},
		{"a version gap", []string{"--babylon-rest", urlGap}, exitError, "version 2 follows version 0"},
		{"nothing", []string{"--babylon-rest", hang.URL, "--timeout", "300ms"}, exitError, "no answer within 300ms"},
		{"nobody listens", []string{"--babylon-rest", closed}, exitError, "unreachable"},
		{"not a URL", []string{"--babylon-rest", "babylon.example:1317"}, exitUsage, "--babylon-rest"},
		{"credentials in the URL", []string{"--babylon-rest", "https://u:hunter2@babylon.example"}, exitUsage, "credentials"},
		{"an unknown preset to compare", []string{"--babylon-rest", urlGood, "--compare", "bbn-2"}, exitUsage, "--compare"},
		{"no directory", []string{"--babylon-rest", urlGood, "--out", filepath.Join(dir, "no", "p.json")}, exitUsage, "--out"},
		{"no timeout", []string{"--babylon-rest", urlGood, "--timeout", "0s"}, exitUsage, "--timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"params", "fetch", "--out", out}, c.args...)
			start := time.Now()
			code, stdout, errOut := runCLI(t, args...)
			if code != c.code || stdout != "" || !strings.Contains(errOut, c.text) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d %q %q", code, stdout, errOut)
			}
			if strings.Contains(errOut, "hunter2") {
				t.Fatal("a credential in the error")
			}
			if time.Since(start) > 10*time.Second {
				t.Fatal("not bounded")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("written: %v", entries)
			}
		})
	}
	if hits.Load() != 0 {
		t.Fatal("the node was asked although the command line was wrong")
	}
}

// babylonParams is c in Babylon's JSON (Params of
// proto/babylon/btcstaking/v1/params.proto), in force from height.
func babylonParams(c params.Config, height uint32) map[string]any {
	var keys []string
	for _, k := range c.CovenantKeys {
		keys = append(keys, script.XOnly(k).String())
	}
	return map[string]any{"covenant_pks": keys, "covenant_quorum": c.CovenantQuorum,
		"min_staking_value_sat": fmt.Sprint(c.MinStakingValue), "max_staking_value_sat": fmt.Sprint(c.MaxStakingValue),
		"min_staking_time_blocks": c.MinStakingTime, "max_staking_time_blocks": c.MaxStakingTime,
		"slashing_pk_script": base64.StdEncoding.EncodeToString(c.SlashingPkScript), "min_slashing_tx_fee_sat": fmt.Sprint(c.MinSlashingFee),
		"slashing_rate": c.SlashingRate, "unbonding_time_blocks": c.UnbondingTime, "unbonding_fee_sat": fmt.Sprint(c.UnbondingFee),
		"btc_activation_height": height}
}

// versionsFile writes a params_versions answer of the given versions,
// numbered from 0.
func versionsFile(t *testing.T, dir, name string, vs ...map[string]any) string {
	t.Helper()
	var items []any
	for i, v := range vs {
		items = append(items, map[string]any{"version": i, "params": v})
	}
	b, err := json.Marshal(map[string]any{"params": items, "pagination": map[string]any{"next_key": nil, "total": fmt.Sprint(len(vs))}})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b)
}

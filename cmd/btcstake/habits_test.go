package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/psbt"
)

// TestCommandGrammar: every visible top-level command is one word (a step
// of the lifecycle or a group noun); the verb-noun spellings of the first
// releases are hidden from help and completion but still run, with a note
// on stderr (none under --json), doing exactly what the new spelling does.
func TestCommandGrammar(t *testing.T) {
	root := newRootCmd(&app{})
	for _, c := range root.Commands() {
		if !c.Hidden && strings.Contains(c.Name(), "-") {
			t.Errorf("top-level command %q is not one word", c.Name())
		}
	}
	_, help, _ := runCLI(t, "--help")
	_, top, _ := runCLI(t, "__complete", "")
	_, adaptorSubs, _ := runCLI(t, "__complete", "adaptor", "")
	_, stakeSubs, _ := runCLI(t, "__complete", "stake", "")
	for _, old := range []string{"adaptor-sign-slashing", "complete-slashing", "parse-staking-tx"} {
		if strings.Contains(help, old) || strings.Contains(top, old) {
			t.Errorf("%s is offered in help or completion", old)
		}
	}
	for _, sub := range []string{"sign-slashing", "complete-slashing"} {
		if !strings.Contains(adaptorSubs, sub) {
			t.Errorf("adaptor completion lacks %s: %q", sub, adaptorSubs)
		}
	}
	if !strings.Contains(stakeSubs, "parse") {
		t.Errorf("stake completion lacks parse: %q", stakeSubs)
	}

	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)
	cov := []string{"--covenant-quorum", "2", "--tag", "62627434", "--tx", stHex}
	for _, k := range w.cov {
		cov = append(cov, "--covenant-pk", xonlyHex(k))
	}
	sl := mustJSON[psbtJSON](t, mustRun(t, append([]string{"slash", "--json", "--from", "staking", "--funding-tx", stHex}, w.delegationArgs()...)...)).PSBT
	slFile := writeFile(t, w.dir, "slash.psbt", []byte(sl))
	mustRunInPlace(t, "sign", "--psbt", slFile, "--key", w.stakerFile, "--out", slFile)
	// The old adaptor-sign-slashing adds the first covenant signature, the
	// new spelling the second.
	code, out, errOut := runCLI(t, w.asCovenant("adaptor-sign-slashing", "--json", "--psbt", slFile, "--key", w.covFiles[0], "--out", slFile+".1")...)
	if code != 0 || errOut != "" || len(mustJSON[psbtJSON](t, out).Signed) != 1 {
		t.Fatalf("adaptor-sign-slashing --json: exit %d %q %q", code, errOut, out)
	}
	code, _, errOut = runCLI(t, w.asCovenant("adaptor-sign-slashing", "--psbt", slFile+".1", "--key", w.covFiles[1], "--out", slFile+".2")...)
	if code != 0 || errOut != "btcstake: note: 'adaptor-sign-slashing' is deprecated; use 'btcstake adaptor sign-slashing'\n" {
		t.Fatalf("adaptor-sign-slashing: exit %d %q", code, errOut)
	}
	for _, pair := range []struct{ old, now []string }{
		{[]string{"parse-staking-tx"}, []string{"stake", "parse"}},
		{[]string{"complete-slashing"}, []string{"adaptor", "complete-slashing"}},
	} {
		args := cov
		if pair.old[0] == "complete-slashing" {
			args = []string{"--psbt", slFile + ".2", "--fp-sk-file", w.fpFile}
		}
		for _, asJSON := range []bool{false, true} {
			extra := args
			if asJSON {
				extra = append(slices.Clone(args), "--json")
			}
			wantOut := mustRun(t, append(slices.Clone(pair.now), extra...)...)
			code, out, errOut := runCLI(t, append(slices.Clone(pair.old), extra...)...)
			note := ""
			if !asJSON {
				note = "btcstake: note: '" + pair.old[0] + "' is deprecated; use 'btcstake " + strings.Join(pair.now, " ") + "'\n"
			}
			if code != 0 || out != wantOut || errOut != note {
				t.Errorf("%s (json %v): exit %d, stderr %q, stdout differs: %v", pair.old[0], asJSON, code, errOut, out != wantOut)
			}
		}
	}
}

// TestErrorsUnderJSON: with --json an error is one JSON object on stderr
// (kind usage with exit code 2, failure with 1), nothing on stdout; without
// it, the one line "btcstake: error: ...".
func TestErrorsUnderJSON(t *testing.T) {
	dupCov := scriptArgs("--covenant-pk", exCov1)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string // in the message
	}{
		{"bad flag value", scriptArgs("--staking-time", "x", "--json"), exitUsage, "--staking-time"},
		{"unknown flag before --json", append([]string{"script", "--no-such-flag"}, "--json"), exitUsage, "unknown flag: --no-such-flag"},
		{"unknown command", []string{"--json", "no-such-command"}, exitUsage, "unknown command"},
		{"missing required flag", []string{"unbond", "--json"}, exitUsage, "required flag"},
		{"failed operation", append(dupCov, "--json"), exitError, "duplicate key"},
		{"invalid signature", []string{"adaptor", "verify", "--json", "--pk", exCov1, "--enc-key", exCov2, "--msg-hash", strings.Repeat("11", 32),
			"--sig", "0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0"}, exitError, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			var e errorJSON
			dec := json.NewDecoder(strings.NewReader(errOut))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&e); err != nil || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("stderr %q is not one JSON line: %v", errOut, err)
			}
			kind := map[int]string{exitUsage: "usage", exitError: "failure"}[c.code]
			if code != c.code || e.ExitCode != c.code || e.Kind != kind || !strings.Contains(e.Error, c.want) || strings.HasPrefix(e.Error, "btcstake:") {
				t.Fatalf("exit %d, %+v; want %d %s %q", code, e, c.code, kind, c.want)
			}
			// Only a verification verdict is printed before its error.
			if c.name != "invalid signature" && out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	for _, args := range [][]string{dupCov, append(slices.Clone(dupCov), "--json=false")} {
		code, out, errOut := runCLI(t, args...)
		if code != exitError || out != "" || !regexp.MustCompile(`^btcstake: error: [^\n]*duplicate key[^\n]*\n$`).MatchString(errOut) {
			t.Errorf("%v: exit %d %q %q", args[len(args)-1], code, out, errOut)
		}
	}
}

// TestFlagValueCompletion: enumerated flags complete to their values.
func TestFlagValueCompletion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"slash", "--from", ""}, []string{"staking", "unbonding"}},
		{[]string{"withdraw", "--from", ""}, []string{"staking", "unbonding", "slashing_change"}},
		{[]string{"demo", "--node", ""}, []string{"btcd", "bitcoind"}},
		{[]string{"regtest", "start", "--node", ""}, []string{"btcd", "bitcoind"}},
		{[]string{"inspect", "--network", ""}, []string{"regtest", "signet", "testnet", "testnet4", "mainnet"}},
	} {
		code, out, _ := runCLI(t, append([]string{"__complete"}, c.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) == 0 || !slices.Equal(lines[:len(lines)-1], c.want) || lines[len(lines)-1] != ":4" {
			t.Errorf("%v: %q, want %v then :4 (no file completion)", c.args, out, c.want)
		}
	}
}

// TestDuplicateKeysExitOne: a key given twice, or one key in two roles, is
// a set of well-formed values that fail together: exit 1 naming the flags,
// in every command that takes keys (a coin given twice likewise).
func TestDuplicateKeysExitOne(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)
	deleg := w.delegationArgs()
	fpTwice := append(slices.Clone(deleg), "--fp-pk", xonlyHex(w.fp))
	stakerIsFP := replaceFlag(slices.Clone(deleg), "--fp-pk", xonlyHex(w.staker))
	stakerIsCov := replaceFlag(slices.Clone(deleg), "--staker-pk", xonlyHex(w.cov[0]))
	_, coin := fundingCoin("dup coin", p2wpkhScript(w.funder), 300_000)
	stake := []string{"stake", "--amount", "100000", "--fee-rate", "2", "--utxo", coin, "--change-address", w.changeAddr}
	parse := []string{"stake", "parse", "--tag", "62627434", "--tx", stHex, "--covenant-quorum", "2"}
	for _, k := range w.cov {
		parse = append(parse, "--covenant-pk", xonlyHex(k))
	}
	status := []string{"status", "--txid", stTx.TxHash().String(), "--rpc-url", "127.0.0.1:1", "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}
	ub := mustJSON[psbtJSON](t, mustRun(t, append([]string{"unbond", "--json", "--staking-tx", stHex}, deleg...)...)).PSBT
	sl := mustJSON[psbtJSON](t, mustRun(t, append([]string{"slash", "--json", "--from", "staking", "--funding-tx", stHex}, deleg...)...)).PSBT
	with := func(base []string, extra ...[]string) []string {
		out := slices.Clone(base)
		for _, e := range extra {
			out = append(out, e...)
		}
		return out
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"script: covenant key twice", scriptArgs("--covenant-pk", exCov1), "duplicate key"},
		{"script: staker is the fp", replaceFlag(scriptArgs(), "--fp-pk", exStaker), "duplicate key"},
		{"stake parse: covenant key twice", with(parse, []string{"--covenant-pk", xonlyHex(w.cov[1])}), "duplicate key"},
		{"parse-staking-tx: covenant key twice", with([]string{"parse-staking-tx"}, parse[2:], []string{"--covenant-pk", xonlyHex(w.cov[1])}), "duplicate key"},
		{"stake: fp twice", with(stake, fpTwice), "duplicate key"},
		{"stake: staker is a covenant member", with(stake, stakerIsCov), "duplicate key"},
		{"stake: coin twice", with(stake, deleg, []string{"--utxo", coin}), "given twice"},
		{"unbond: fp twice", with([]string{"unbond", "--staking-tx", stHex}, fpTwice), "duplicate key"},
		{"slash: staker is the fp", with([]string{"slash", "--from", "staking", "--funding-tx", stHex}, stakerIsFP), "duplicate key"},
		{"withdraw: fp twice", with([]string{"withdraw", "--from", "staking", "--funding-tx", stHex, "--to", w.withdrawAddr, "--fee-rate", "2"}, fpTwice), "duplicate key"},
		{"inspect: fp twice", with([]string{"inspect", "--tx", stHex}, fpTwice), "duplicate key"},
		{"sign as covenant: fp twice", with([]string{"sign", "--psbt", ub, "--key", w.covFiles[0]}, fpTwice), "duplicate key"},
		{"adaptor sign-slashing: fp twice", with([]string{"adaptor", "sign-slashing", "--psbt", sl, "--key", w.covFiles[0]}, fpTwice), "duplicate key"},
		// status checks the delegation before it asks a node (here one
		// that is not there).
		{"status: fp twice", with(status, fpTwice), "duplicate key"},
		{"status: staker is the fp", with(status, stakerIsFP), "duplicate key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			// A deprecated spelling adds its note line.
			errOut = regexp.MustCompile(`(?m)^btcstake: note: .*\n`).ReplaceAllString(errOut, "")
			if code != exitError || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, c.want)
			}
		})
	}
}

// TestJSONFieldNames: the --json output types follow one spelling per kind
// of value: snake_case; amounts in satoshis end in _sat (an output's is
// value_sat); scripts are pk_script; public keys are public_key or
// <role>_pk(s); paths end in _file or _dir; and none of the spellings
// retired in docs/cli.md ("JSON field changes") is back.
func TestJSONFieldNames(t *testing.T) {
	retired := map[string]bool{"amount": true, "pkscript": true, "p2wpkh_pkscript": true, "p2tr_pkscript": true,
		"datadir": true, "log": true, "rpc": true, "blocks": true, "spendable": true, "immature": true, "pk": true,
		"key": true, "message": true, "public_rand": true, "commit_root": true, "commit_sig": true,
		"finality_provider_pk": true, "finality_provider_pks": true, "staking_time_blocks": true,
		"slashed_sat": true, "change_sat": true, "covenant_adaptor_sigs": true, "op_return_index": true,
		"adaptor_sigs": true}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	var check func(path string, typ reflect.Type)
	seen := map[reflect.Type]bool{}
	check = func(path string, typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				check(path, f.Type)
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			at := path + "." + name
			switch {
			case !snake.MatchString(name):
				t.Errorf("%s: not snake_case", at)
			case retired[name]:
				t.Errorf("%s: a retired spelling", at)
			case f.Type.Kind() == reflect.Int64 && regexp.MustCompile(`value|fee|amount|sat`).MatchString(name) && !strings.HasSuffix(name, "_sat"):
				t.Errorf("%s: an amount not ending in _sat", at)
			case strings.Contains(strings.ReplaceAll(name, "_", ""), "pkscript") && !strings.HasSuffix(name, "pk_script"):
				t.Errorf("%s: a script not spelt pk_script", at)
			case strings.HasSuffix(name, "_path") || name == "file" || name == "dir":
				t.Errorf("%s: a path not ending in _file or _dir", at)
			}
			check(at, f.Type)
		}
	}
	for _, v := range []any{psbtJSON{}, finalJSON{}, scriptJSON{}, parsedJSON{}, keyShowJSON{}, keyJSON{}, pubrandOutJSON{},
		extractJSON{}, signJSON{}, recordJSON{}, verifyJSON{}, adaptorSigJSON{}, decryptJSON{}, adaptorExtractJSON{},
		regtestStartJSON{}, regtestFundJSON{}, demoJSON{}, versionJSON{}, errorJSON{}, psbt.Description{},
		inspectJSON{}, stakeStatus{}, nodeConfig{}, paramsShowJSON{}, paramsListJSON{}, paramsFetchJSON{}, presetJSON{},
		popJSON{}, popVerifyJSON{}, msgJSON{}, provenJSON{}, exportJSON{}} {
		check(reflect.TypeOf(v).Name(), reflect.TypeOf(v))
	}
	// The retired names are gone from real output too (regtest fund and
	// start are covered by the regtest tests, which decode the new names).
	_, out, _ := runCLI(t, "eots", "pubrand", "--json", "--key", secretFile(t, strings.Repeat("11", 32)), "--chain-id", "c", "--start-height", "1", "--count", "1")
	if !bytes.Contains([]byte(out), []byte(`"public_key"`)) || bytes.Contains([]byte(out), []byte(`"pk"`)) {
		t.Errorf("eots pubrand --json: %s", out)
	}
}

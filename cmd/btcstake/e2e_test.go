package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// e2e runs btcstake commands in-process against the regtest node that
// "btcstake regtest start" launched for the test.
type e2e struct {
	t    *testing.T
	dir  string
	conn []string // --rpc-* flags of the node
	pass string   // passphrase file of every keystore
	sent int      // transactions broadcast so far
}

// cmd runs one command and returns its exit code and output.
func (e *e2e) cmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// ok runs a command that must succeed and returns its stdout.
func (e *e2e) ok(args ...string) string {
	e.t.Helper()
	code, out, errOut := e.cmd(args...)
	if code != 0 {
		e.t.Fatalf("btcstake %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// node runs a command that talks to the node (the --rpc-* flags appended)
// and must succeed.
func (e *e2e) node(args ...string) string {
	e.t.Helper()
	return e.ok(append(args, e.conn...)...)
}

func e2eJSON[T any](e *e2e, out string) T {
	e.t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		e.t.Fatalf("%v in %q", err, out)
	}
	return v
}

func (e *e2e) path(name string) string { return filepath.Join(e.dir, name) }

// status is "btcstake status --json" for a staking txid.
func (e *e2e) status(txid string) stakeStatus {
	e.t.Helper()
	return e2eJSON[stakeStatus](e, e.node("status", "--json", "--params", regtestParams, "--txid", txid))
}

// mine mines n blocks with "btcstake regtest mine" and returns the height.
func (e *e2e) mine(n int) int64 {
	e.t.Helper()
	j := e2eJSON[struct {
		Height int64 `json:"height"`
	}](e, e.ok("regtest", "mine", strconv.Itoa(n), "--dir", e.path("node"), "--json"))
	return j.Height
}

// sendAndConfirm broadcasts a final transaction, mines a block and waits
// for its confirmation, all through the commands.
//
// The transaction goes to --tx in turn as the hex, a file and standard
// input.
func (e *e2e) sendAndConfirm(txHexStr, txid string) {
	e.t.Helper()
	arg := txHexStr
	switch e.sent % 3 {
	case 1:
		arg = e.path(txid + ".hex")
		if err := os.WriteFile(arg, []byte(txHexStr+"\n"), 0o644); err != nil {
			e.t.Fatal(err)
		}
	case 2:
		arg = "-"
		saved := stdinSource
		stdinSource = strings.NewReader(txHexStr + "\n")
		defer func() { stdinSource = saved }()
	}
	e.sent++
	b := e2eJSON[struct {
		Txid     string `json:"txid"`
		Accepted bool   `json:"accepted"`
	}](e, e.node("broadcast", "--json", "--tx", arg))
	if !b.Accepted || b.Txid != txid {
		e.t.Fatalf("broadcast: %+v, want txid %s", b, txid)
	}
	e.mine(1)
	w := e2eJSON[struct {
		Confirmations int64 `json:"confirmations"`
	}](e, e.node("wait", "--json", "--txid", txid, "--confirmations", "1", "--interval", "20ms", "--timeout", "20s"))
	if w.Confirmations < 1 {
		e.t.Fatalf("wait: %+v", w)
	}
}

// signKS signs a PSBT file in place with a keystore and returns the roles
// it signed as. deleg (the delegation's flags) lets a covenant member check
// what it signs.
func (e *e2e) signKS(psbtFile, keystore string, deleg ...string) []signedJSON {
	e.t.Helper()
	j := e2eJSON[psbtJSON](e, e.okInPlace(psbtFile, append([]string{"sign", "--json", "--psbt", psbtFile, "--key", keystore,
		"--passphrase-file", e.pass}, deleg...)...))
	return j.Signed
}

// okInPlace runs a command that updates file, as a user does it (an output
// never replaces an input): --out a new file, then mv it over file.
func (e *e2e) okInPlace(file string, args ...string) string {
	e.t.Helper()
	out := e.ok(append(args, "--out", file+".new")...)
	if err := os.Rename(file+".new", file); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *e2e) finalize(psbtFile string) finalJSON {
	e.t.Helper()
	return e2eJSON[finalJSON](e, e.ok("finalize", "--json", "--psbt", psbtFile))
}

// TestEndToEndCLI runs the staking lifecycle only through btcstake commands
// against a regtest node started for the test: stake, unbond, withdraw
// (refused one block early, accepted at the lock); a second stake, an FP
// double-sign from two record stores, extraction, slashing and the
// withdrawal of the slashing change. Staker and covenant keys live in
// encrypted keystores.
func TestEndToEndCLI(t *testing.T) {
	start := time.Now()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	for _, v := range []string{passphraseEnv, "BTCSTAKE_RPC_URL", "BTCSTAKE_RPC_USER", "BTCSTAKE_RPC_PASS", "BTCSTAKE_RPC_COOKIE", "BTCSTAKE_CONFIG"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	e := &e2e{t: t, dir: t.TempDir()}
	t.Setenv(statusDirEnv, e.path("status"))      // status's stores, not the user's cache
	t.Setenv("XDG_CONFIG_HOME", e.path("config")) // no user config file
	e.pass = e.path("pass.txt")
	if err := os.WriteFile(e.pass, []byte(fmt.Sprintf("e2e passphrase %d\n", r.Int63())), 0o600); err != nil {
		t.Fatal(err)
	}

	// The node: started by the CLI, stopped on every exit path, its log
	// shown when the test fails.
	nodeDir := e.path("node")
	code, out, errOut := e.cmd("regtest", "start", "--dir", nodeDir, "--json")
	if code != 0 {
		e.cmd("regtest", "stop", "--dir", nodeDir)
		t.Fatalf("regtest start: exit %d: %s", code, errOut)
	}
	t.Cleanup(func() {
		if code, _, errOut := e.cmd("regtest", "stop", "--dir", nodeDir); code != 0 {
			t.Errorf("regtest stop: %s", errOut)
		}
	})
	st := e2eJSON[regtestStartJSON](e, out)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(st.LogFile); err == nil {
				if len(b) > 8000 {
					b = b[len(b)-8000:]
				}
				t.Logf("node log %s (tail):\n%s", st.LogFile, b)
			}
		}
	})
	e.conn = []string{"--rpc-url", st.RPCHost, "--rpc-user", st.RPCUser, "--rpc-pass-file", secretFile(t, st.RPCPass)}

	// Keys: the staker's keystore is new; the covenant members' are the
	// example keys of params/regtest-example.json imported into keystores;
	// the finality provider's is an EOTS keystore.
	staker := e2eJSON[keyShowJSON](e, e.ok("key", "keygen", "--json", "--key", e.path("staker.keystore"),
		"--passphrase-file", e.pass, "--scrypt-work-factor", "10"))
	if staker.PublicKey == "" {
		t.Fatalf("keygen: %+v", staker)
	}
	staker = e2eJSON[keyShowJSON](e, e.ok("key", "show", "--json", "--key", e.path("staker.keystore")))
	var cov []string
	for i := 1; i <= 3; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("btcstake example covenant %d", i)))
		plain := e.path(fmt.Sprintf("cov%d.hex", i))
		if err := os.WriteFile(plain, []byte(hex.EncodeToString(h[:])), 0o600); err != nil {
			t.Fatal(err)
		}
		ks := e.path(fmt.Sprintf("cov%d.keystore", i))
		e.ok("key", "import", "--key", ks, "--sk-file", plain, "--passphrase-file", e.pass, "--scrypt-work-factor", "10")
		os.Remove(plain)
		cov = append(cov, ks)
	}
	fp := e2eJSON[keyJSON](e, e.ok("eots", "keygen", "--json", "--key", e.path("fp.keystore"),
		"--passphrase-file", e.pass, "--scrypt-work-factor", "10"))

	// stakeOnce funds the staker's address, stakes, signs, finalises,
	// broadcasts and confirms; it returns the staking tx hex and txid.
	stakeOnce := func(stakingTime int, amount int64) (string, string, []string) {
		t.Helper()
		fund := e2eJSON[regtestFundJSON](e, e.ok("regtest", "fund", "--dir", nodeDir, "--json",
			"--address", staker.P2WPKH, "--amount", "400000", "--confirm"))
		if fund.PkScript != staker.P2WPKHPkScript || !fund.Confirmed {
			t.Fatalf("fund: %+v", fund)
		}
		deleg := []string{"--params", regtestParams, "--staker-pk", staker.PublicKey, "--fp-pk", fp.PublicKey,
			"--staking-time", strconv.Itoa(stakingTime)}
		f := e.path(fmt.Sprintf("stake-%d.psbt", stakingTime))
		sj := e2eJSON[psbtJSON](e, e.ok(append([]string{"stake", "--json", "--amount", strconv.FormatInt(amount, 10),
			"--fee-rate", "2", "--utxo", fmt.Sprintf("%s:%d:%d:%s", fund.Txid, fund.Vout, fund.Value, fund.PkScript),
			"--change-address", staker.P2WPKH, "--phase1", "--out", f}, deleg...)...))
		if sj.Description == nil || sj.Description.Kind != "staking" {
			t.Fatalf("stake: %+v", sj)
		}
		if s := e.signKS(f, e.path("staker.keystore")); len(s) != 1 || s[0].Kind != "funding" {
			t.Fatalf("sign funding coin: %+v", s)
		}
		fin := e.finalize(f)
		if fin.Txid != sj.Txid {
			t.Fatalf("staking txid %s, PSBT said %s", fin.Txid, sj.Txid)
		}
		e.sendAndConfirm(fin.Tx, fin.Txid)
		if s := e.status(fin.Txid); s.State != "staked" || s.Confirmations != 1 || s.Value != amount {
			t.Fatalf("status after staking: %+v", s)
		}
		return fin.Tx, fin.Txid, deleg
	}

	// 1. Stake, unbond with the staker and two covenant members, withdraw.
	stakeHex, stakeTxid, deleg := stakeOnce(100, 150_000)
	ub := e.path("unbond.psbt")
	e.ok(append([]string{"unbond", "--staking-tx", stakeHex, "--out", ub}, deleg...)...)
	if s := e.signKS(ub, e.path("staker.keystore")); len(s) != 1 || s[0].Role != "staker" {
		t.Fatalf("staker sign: %+v", s)
	}
	for _, k := range cov[:2] {
		if s := e.signKS(ub, k, deleg...); len(s) != 1 || s[0].Role != "covenant member" {
			t.Fatalf("covenant sign: %+v", s)
		}
	}
	ubFin := e.finalize(ub)
	e.sendAndConfirm(ubFin.Tx, ubFin.Txid)
	s := e.status(stakeTxid)
	if s.State != "unbonding" || len(s.Events) != 2 || s.Events[1].Event != "unbonded" || s.Events[1].Txid != ubFin.Txid || s.Paths[0].Output != "unbonding" {
		t.Fatalf("status after unbonding: %+v", s)
	}

	wd := e.path("withdraw.psbt")
	e.ok(append([]string{"withdraw", "--from", "unbonding", "--funding-tx", ubFin.Tx, "--to", staker.P2WPKH,
		"--fee-rate", "2", "--out", wd}, deleg...)...)
	if s := e.signKS(wd, e.path("staker.keystore")); len(s) != 1 || s[0].Role != "staker" {
		t.Fatalf("withdraw sign: %+v", s)
	}
	wdFin := e.finalize(wd)
	opens := s.Paths[0].OpensInBlocks
	if s.Paths[0].Path != "timelock" || s.Paths[0].SpendableNow || opens < 2 {
		t.Fatalf("unbonding time lock: %+v", s.Paths[0])
	}
	e.mine(int(opens) - 1)
	code, out, errOut = e.cmd(append([]string{"broadcast", "--tx", wdFin.Tx}, e.conn...)...)
	if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "btcstake: error: ") || !strings.Contains(errOut, "a time lock has not expired yet") {
		t.Fatalf("withdraw one block early: exit %d %q %q", code, out, errOut)
	}
	e.mine(1)
	if s := e.status(stakeTxid); !s.Paths[0].SpendableNow {
		t.Fatalf("time lock should be open: %+v", s.Paths[0])
	}
	e.sendAndConfirm(wdFin.Tx, wdFin.Txid)
	if s := e.status(stakeTxid); s.State != "withdrawn" || len(s.Events) != 3 || s.Events[2].Txid != wdFin.Txid {
		t.Fatalf("status after withdrawal: %+v", s)
	}

	// 2. A second stake is slashed after its finality provider double-signs.
	stake2Hex, stake2Txid, deleg2 := stakeOnce(200, 120_000)
	sl := e.path("slash.psbt")
	e.ok(append([]string{"slash", "--from", "staking", "--funding-tx", stake2Hex, "--out", sl}, deleg2...)...)
	if s := e.signKS(sl, e.path("staker.keystore")); len(s) != 1 || s[0].Role != "staker" {
		t.Fatalf("staker pre-signs slashing: %+v", s)
	}
	for _, k := range cov[1:] {
		j := e2eJSON[psbtJSON](e, e.okInPlace(sl, append([]string{"adaptor", "sign-slashing", "--json", "--psbt", sl, "--key", k,
			"--passphrase-file", e.pass}, deleg2...)...))
		if len(j.Signed) != 1 || j.Signed[0].Kind != "adaptor_sig" {
			t.Fatalf("adaptor-sign: %+v", j.Signed)
		}
	}
	// Without the provider's key the slashing PSBT is not a transaction.
	if code, _, errOut := e.cmd("finalize", "--psbt", sl); code != exitError {
		t.Fatalf("finalize without the FP key: exit %d %q", code, errOut)
	}

	// The provider votes at one height from two record stores (a restored
	// signer that lost its records); the first store alone refuses.
	height := strconv.Itoa(1000 + r.Intn(1000))
	msg1, msg2 := fmt.Sprintf("%064x", r.Int63()), fmt.Sprintf("%064x", r.Int63()+1)
	vote := func(db, msg string) signJSON {
		return e2eJSON[signJSON](e, e.ok("eots", "sign", "--json", "--key", e.path("fp.keystore"), "--db", db, "--create-db",
			"--chain-id", "bbn-e2e", "--height", height, "--msg", msg, "--passphrase-file", e.pass))
	}
	v1 := vote(e.path("records-a.db"), msg1)
	if code, out, errOut := e.cmd("eots", "sign", "--key", e.path("fp.keystore"), "--db", e.path("records-a.db"),
		"--chain-id", "bbn-e2e", "--height", height, "--msg", msg2, "--passphrase-file", e.pass); code != exitError || out != "" ||
		!strings.Contains(errOut, "double-sign") {
		t.Fatalf("the protected store signed a second message: exit %d %q %q", code, out, errOut)
	}
	v2 := vote(e.path("records-b.db"), msg2)
	if v1.PubRand != v2.PubRand || v1.Signature == v2.Signature {
		t.Fatalf("votes: %+v %+v", v1, v2)
	}
	leaked := e2eJSON[extractJSON](e, e.ok("eots", "extract", "--json", "--pk", fp.PublicKeyCompressed, "--pub-rand", v1.PubRand,
		"--msg1", msg1, "--sig1", v1.Signature, "--msg2", msg2, "--sig2", v2.Signature))
	if leaked.PublicKeyCompressed != fp.PublicKeyCompressed || leaked.PublicKey != fp.PublicKey {
		t.Fatalf("extracted the key of %s, want %s", leaked.PublicKeyCompressed, fp.PublicKeyCompressed)
	}
	leakedFile := e.path("fp-leaked.key")
	if err := os.WriteFile(leakedFile, []byte(leaked.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	slFin := e2eJSON[finalJSON](e, e.ok("adaptor", "complete-slashing", "--json", "--psbt", sl, "--fp-sk-file", leakedFile))
	e.sendAndConfirm(slFin.Tx, slFin.Txid)
	s = e.status(stake2Txid)
	if s.State != "slashed" || len(s.Events) != 2 || s.Events[1].Txid != slFin.Txid || len(s.Paths) != 1 {
		t.Fatalf("status after slashing: %+v", s)
	}

	// 3. The staker withdraws the slashing change after its time lock.
	wc := e.path("withdraw-change.psbt")
	e.ok(append([]string{"withdraw", "--from", "slashing", "--funding-tx", slFin.Tx, "--to", staker.P2WPKH,
		"--fee-rate", "2", "--out", wc}, deleg2...)...)
	e.signKS(wc, e.path("staker.keystore"))
	wcFin := e.finalize(wc)
	e.mine(int(s.Paths[0].OpensInBlocks))
	e.sendAndConfirm(wcFin.Tx, wcFin.Txid)
	if s := e.status(stake2Txid); s.State != "slashed, change withdrawn" {
		t.Fatalf("status after withdrawing the change: %+v", s)
	}
	t.Logf("lifecycle through the CLI in %v", time.Since(start).Round(time.Millisecond))
}

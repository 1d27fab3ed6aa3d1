package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/regtest"
)

// dirSnapshot records every file under dir with its size, mode and time,
// so a test can show a failed command wrote nothing.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		snap[p] = fmt.Sprintf("%v %d %v %s", fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestCommandsBadInput is the cross-command table of malformed input
// (eots, adaptor, keys and keystores, stake parse, node commands,
// regtest, and the transaction commands' remaining corners): each case
// exits with the documented code (2 for a bad command line, 1 for a failed
// operation), prints exactly one "btcstake: error: " line naming the flag
// at fault (usage errors add only the "--help" hint), nothing on stdout, no
// panic, and leaves the working directory exactly as it was.
func TestCommandsBadInput(t *testing.T) {
	for _, v := range []string{passphraseEnv, "BTCSTAKE_RPC_URL", "BTCSTAKE_RPC_USER", "BTCSTAKE_RPC_PASS", "BTCSTAKE_RPC_COOKIE", "BTCSTAKE_CONFIG"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	w := newTxWorld(t)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(w.dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(w.dir, "state")) // no node of "regtest start"
	t.Setenv(statusDirEnv, filepath.Join(t.TempDir(), "status"))
	node := regtest.NewTestNode(t, regtest.Options{})
	rpc := node.RPC()
	good := []string{"--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass)}
	wrongPass := []string{"--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass+"x")}
	unreachable := []string{"--rpc-url", closedPort(t), "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}

	stTx := w.stake(t)
	stHex := txHex(stTx)
	ubPSBT := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", stHex)...)).PSBT
	slPSBT := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"slash", "--json", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex)...)).PSBT

	pass := writeKeyText(t, w.dir, "pass.txt", "the right passphrase")
	wrong := writeKeyText(t, w.dir, "wrong.txt", "a wrong passphrase")
	empty := writeKeyText(t, w.dir, "empty.txt", "")
	keystore := filepath.Join(w.dir, "staker.keystore")
	mustRun(t, "key", "import", "--key", keystore, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	ksText, _ := os.ReadFile(keystore)
	truncatedKS := writeKeyText(t, w.dir, "truncated.keystore", string(ksText[:len(ksText)/2]))
	fpKS := filepath.Join(w.dir, "fp.keystore")
	mustRun(t, "eots", "import", "--key", fpKS, "--sk-file", w.fpFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	db := filepath.Join(w.dir, "records.db")
	mustRun(t, "eots", "sign", "--key", fpKS, "--db", db, "--create-db", "--chain-id", "c", "--height", "1", "--msg", "01", "--passphrase-file", pass)
	short := writeKeyText(t, w.dir, "short.hex", strings.Repeat("ab", 31))
	zero := writeKeyText(t, w.dir, "zero.hex", strings.Repeat("00", 32))
	overN := writeKeyText(t, w.dir, "overn.hex", strings.Repeat("ff", 32))
	badBatch := writeKeyText(t, w.dir, "batch.txt", "100 00aa\nnot-a-height 00bb")
	badConfig := writeKeyText(t, w.dir, "config.json", `{"rpc_url": "127.0.0.1:1", "rpc_colour": "blue"}`)
	noCookie := filepath.Join(w.dir, "no-such-cookie")
	emptyDir := filepath.Join(w.dir, "no-node")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}

	notOnCurve := strings.Repeat("00", 31) + "05"
	mainnetAddr := "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	testnetAddr := "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
	txid := stTx.TxHash().String()
	sig32 := strings.Repeat("11", 32)
	ptx := []string{"stake", "parse", "--tag", "62627434", "--tx", stHex, "--covenant-quorum", "2"}
	for _, k := range w.cov {
		ptx = append(ptx, "--covenant-pk", xonlyHex(k))
	}
	withQuorum := func(q string) []string {
		out := append([]string(nil), ptx...)
		out[7] = q
		return out
	}
	eotsSign := func(extra ...string) []string {
		return append([]string{"eots", "sign", "--key", fpKS, "--db", db, "--chain-id", "c", "--height", "2", "--msg", "02"}, extra...)
	}
	with := func(base []string, extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	cases := []struct {
		name string
		args []string
		code int
		flag string // the one-line error must name it ("" when no flag is at fault)
		want string
	}{
		// eots
		{"eots verify: bad hex key", []string{"eots", "verify", "--pk", "zz", "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "not hex"},
		{"eots verify: wrong key length", []string{"eots", "verify", "--pk", exEotsPK[:62], "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "31 bytes"},
		{"eots verify: key not on the curve", []string{"eots", "verify", "--pk", notOnCurve, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "curve"},
		{"eots verify: short signature", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1[:40]}, exitUsage, "--sig", ""},
		{"eots verify: randomness not on the curve", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", notOnCurve, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pub-rand", ""},
		{"eots verify: invalid signature", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM2, "--sig", exEotsS1}, exitError, "", "invalid"},
		{"eots pubrand: short secret key", []string{"eots", "pubrand", "--key", secretFile(t, exEotsSK[:62]), "--chain-id", "c", "--start-height", "1", "--count", "2"}, exitUsage, "--key", ""},
		{"eots pubrand: zero count", []string{"eots", "pubrand", "--key", secretFile(t, exEotsSK), "--chain-id", "c", "--start-height", "1", "--count", "0"}, exitUsage, "--count", ""},
		{"eots extract: same message", []string{"eots", "extract", "--pk", exEotsPK33, "--pub-rand", exEotsR, "--msg1", exEotsM1, "--sig1", exEotsS1, "--msg2", exEotsM1, "--sig2", exEotsS1}, exitError, "", "no key can be extracted"},
		{"eots sign: message not hex", eotsSign("--passphrase-file", pass, "--msg", "0x0g"), exitUsage, "--msg", "not hex"},
		{"eots sign: wrong passphrase", eotsSign("--passphrase-file", wrong), exitError, "", "wrong passphrase"},
		{"eots sign: missing passphrase file", eotsSign("--passphrase-file", filepath.Join(w.dir, "none.txt")), exitUsage, "--passphrase-file", ""},
		{"eots sign: empty passphrase", eotsSign("--passphrase-file", empty), exitUsage, "--passphrase-file", "empty"},
		{"eots sign: no passphrase at all", eotsSign(), exitUsage, "--passphrase-file", "no passphrase"},
		{"eots sign: store missing", with(eotsSign("--passphrase-file", pass), "--db", filepath.Join(w.dir, "lost.db")), exitError, "", "--create-db"},
		{"eots sign: double sign", with(eotsSign("--passphrase-file", pass), "--height", "1"), exitError, "", "double-sign"},
		{"eots sign-batch: bad line", []string{"eots", "sign-batch", "--key", fpKS, "--db", db, "--chain-id", "c", "--input", badBatch, "--passphrase-file", pass}, exitUsage, "--input", "line 2"},
		{"eots keygen: existing file", []string{"eots", "keygen", "--key", fpKS, "--passphrase-file", pass, "--scrypt-work-factor", "10"}, exitError, "", "exists"},
		{"eots keygen: work factor too small", []string{"eots", "keygen", "--key", filepath.Join(w.dir, "new.keystore"), "--passphrase-file", pass, "--scrypt-work-factor", "5"}, exitUsage, "--scrypt-work-factor", ""},
		{"eots rollback: not confirmed", []string{"eots", "rollback", "--db", db, "--key", fpKS, "--chain-id", "c", "--above", "0"}, exitUsage, "--yes", ""},
		{"eots records: store missing", []string{"eots", "records", "--db", filepath.Join(w.dir, "lost.db")}, exitError, "", "not found"},

		// keys and keystores
		{"key import: short key", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", short, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key import: zero key", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", zero, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key import: key above the group order", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", overN, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key show: plain key file", []string{"key", "show", "--key", w.stakerFile}, exitUsage, "--key", "keystore"},
		{"key show: unknown network", []string{"--network", "moon", "key", "show", "--key", keystore}, exitUsage, "--network", ""},
		{"key export: not confirmed", []string{"key", "export", "--key", keystore, "--passphrase-file", pass}, exitUsage, "--show-secret", ""},
		{"key export: wrong passphrase", []string{"key", "export", "--key", keystore, "--passphrase-file", wrong, "--show-secret"}, exitError, "", "wrong passphrase"},
		{"sign: keystore, wrong passphrase", []string{"sign", "--psbt", ubPSBT, "--key", keystore, "--passphrase-file", wrong}, exitError, "--key", "wrong passphrase"},
		{"sign: keystore, no passphrase", []string{"sign", "--psbt", ubPSBT, "--key", keystore}, exitUsage, "--passphrase-file", ""},
		{"sign: truncated keystore", []string{"sign", "--psbt", ubPSBT, "--key", truncatedKS, "--passphrase-file", pass}, exitUsage, "--key", "keystore"},
		{"adaptor-sign-slashing: keystore, wrong passphrase", []string{"adaptor", "sign-slashing", "--psbt", slPSBT, "--key", keystore, "--passphrase-file", wrong}, exitError, "--key", "wrong passphrase"},
		{"complete-slashing: fp keystore, wrong passphrase", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--fp-sk-file", fpKS, "--passphrase-file", wrong}, exitError, "--fp-sk-file", "wrong passphrase"},
		{"complete-slashing: psbt of another tx", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--psbt", ubPSBT, "--fp-sk-file", w.fpFile}, exitUsage, "--psbt", "is for transaction"},

		// adaptor
		{"adaptor sign: short secret key", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK[:62]), "--enc-key", exEotsPK, "--msg-hash", exSighash}, exitUsage, "--key", ""},
		{"adaptor sign: encryption key not on the curve", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", notOnCurve, "--msg-hash", exSighash}, exitUsage, "--enc-key", ""},
		{"adaptor sign: short hash", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", exEotsPK, "--msg-hash", exSighash[:62]}, exitUsage, "--msg-hash", ""},
		{"adaptor verify: bad signature length", []string{"adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", exSighash, "--sig", exAdSig[:100]}, exitUsage, "--sig", ""},
		{"adaptor verify: wrong message", []string{"adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", sig32, "--sig", exAdSig}, exitError, "", ""},
		{"adaptor decrypt: zero key", []string{"adaptor", "decrypt", "--sig", exAdSig, "--key", secretFile(t, strings.Repeat("00", 32))}, exitUsage, "--key", ""},

		// stake parse
		{"stake parse: truncated tx", with(ptx, "--tx", stHex[:len(stHex)-8]), exitUsage, "--tx", ""},
		{"stake parse: duplicate covenant keys", with(ptx, "--covenant-pk", xonlyHex(w.cov[0])), exitError, "--covenant-pk", "duplicate"},
		{"stake parse: quorum zero", withQuorum("0"), exitError, "--covenant-quorum", ""},
		{"stake parse: quorum above the committee", withQuorum("4"), exitError, "--covenant-quorum", ""},
		{"stake parse: unknown network", append([]string{"--network", "moon"}, ptx...), exitUsage, "--network", "unknown network"},
		// Commands that do not otherwise use the network still refuse a typo.
		{"finalize: unknown network", []string{"finalize", "--network", "moon", "--psbt", ubPSBT}, exitUsage, "--network", "unknown network"},
		{"adaptor verify: unknown network", []string{"adaptor", "verify", "--network", "mainet"}, exitUsage, "--network", "unknown network"},
		{"eots pubrand: unknown network", []string{"eots", "pubrand", "--network", "testnet5"}, exitUsage, "--network", "unknown network"},
		{"stake parse: tag of three bytes", with(ptx, "--tag", "626274"), exitUsage, "--tag", ""},

		// node connection, broadcast, wait, status
		{"broadcast: unreachable node", with([]string{"broadcast", "--tx", stHex}, unreachable...), exitError, "--rpc-url", "cannot reach"},
		{"broadcast: wrong RPC password", with([]string{"broadcast", "--tx", stHex}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},
		{"broadcast: tx not hex", with([]string{"broadcast", "--tx", "02zz"}, good...), exitUsage, "--tx", ""},
		{"broadcast: https url", []string{"broadcast", "--tx", stHex, "--rpc-url", "https://127.0.0.1:1"}, exitUsage, "--rpc-url", "scheme"},
		{"broadcast: no node on mainnet", []string{"--network", "mainnet", "broadcast", "--tx", stHex}, exitUsage, "--rpc-url", "no node configured"},
		{"broadcast: no node of regtest start", []string{"broadcast", "--tx", stHex}, exitUsage, "--rpc-url", "regtest start"},
		{"broadcast: missing cookie file", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-cookie", noCookie}, exitUsage, "--rpc-cookie", ""},
		{"broadcast: config with an unknown field", []string{"broadcast", "--tx", stHex, "--config", badConfig}, exitUsage, "--config", ""},
		{"broadcast: unfunded tx", with([]string{"broadcast", "--tx", stHex}, good...), exitError, "", "the node would reject"},
		{"wait: short txid", with([]string{"wait", "--txid", txid[:60]}, good...), exitUsage, "--txid", ""},
		{"wait: zero confirmations", with([]string{"wait", "--txid", txid, "--confirmations", "0"}, good...), exitUsage, "--confirmations", ""},
		{"wait: wrong RPC password", with([]string{"wait", "--txid", txid, "--timeout", "5s"}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},
		{"wait: unreachable node", with([]string{"wait", "--txid", txid, "--timeout", "5s"}, unreachable...), exitError, "--rpc-url", "cannot reach"},
		{"status: neither tx nor txid", with([]string{"status", "--params", regtestParams}, good...), exitUsage, "--txid", ""},
		{"status: missing params", with([]string{"status", "--params", filepath.Join(w.dir, "none.json"), "--staking-tx", stHex}, good...), exitUsage, "--params", ""},
		{"status: staking time zero", with([]string{"status", "--params", regtestParams, "--staking-tx", stHex, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "0"}, good...), exitUsage, "--staking-time", ""},
		{"status: staking time too large", with([]string{"status", "--params", regtestParams, "--staking-tx", stHex, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "65536"}, good...), exitUsage, "--staking-time", ""},
		{"status: --staking-time without --staker-pk", with([]string{"status", "--params", regtestParams, "--txid", txid, "--staking-time", "144"}, good...), exitUsage, "--staker-pk", ""},
		{"status: wrong RPC password", with([]string{"status", "--params", regtestParams, "--txid", txid}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},

		// regtest
		{"regtest mine: zero blocks", []string{"regtest", "mine", "0", "--dir", emptyDir}, exitUsage, "N", ""},
		{"regtest mine: on mainnet", []string{"--network", "mainnet", "regtest", "mine", "1", "--dir", emptyDir}, exitUsage, "--network", ""},
		{"regtest fund: mainnet address", []string{"regtest", "fund", "--address", mainnetAddr, "--amount", "1000", "--dir", emptyDir}, exitUsage, "--address", ""},
		{"regtest fund: zero amount", []string{"regtest", "fund", "--address", w.changeAddr, "--amount", "0", "--dir", emptyDir}, exitUsage, "--amount", ""},
		{"regtest status: no node", []string{"regtest", "status", "--dir", emptyDir}, exitError, "", "no regtest node is running"},
		{"regtest start: unknown node", []string{"regtest", "start", "--node", "geth", "--dir", emptyDir}, exitUsage, "--node", ""},

		// transaction commands: corners TestTxCommandsBadInput leaves
		{"stake: below the minimum staking value", with(append([]string{"stake"}, w.delegationArgs()...), "--amount", "49999", "--fee-rate", "2",
			"--utxo", fmt.Sprintf("%s:0:500000:%x", txid, p2wpkhScript(w.funder)), "--change-address", w.changeAddr), exitError, "--amount", ""},
		{"stake: regtest address on testnet", with(append([]string{"--network", "testnet", "stake"}, w.delegationArgs()...), "--amount", "100000", "--fee-rate", "2",
			"--utxo", fmt.Sprintf("%s:0:500000:%x", txid, p2wpkhScript(w.funder)), "--change-address", w.changeAddr), exitUsage, "--change-address", "network"},
		{"withdraw: testnet destination", with(append([]string{"withdraw", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex, "--to", testnetAddr, "--fee-rate", "2"), exitUsage, "--to", "network"},
		{"unbond: staking time zero", with(append([]string{"unbond"}, replaceFlag(w.delegationArgs(), "--staking-time", "0")...), "--staking-tx", stHex), exitUsage, "--staking-time", ""},
		{"inspect: truncated psbt", []string{"inspect", "--psbt", ubPSBT[:len(ubPSBT)-12]}, exitUsage, "--psbt", ""},
		{"sign: fp keystore is a wrong role", []string{"sign", "--psbt", ubPSBT, "--key", fpKS, "--passphrase-file", pass}, exitError, "--key", "no role"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	secrets := []string{hex32(w.staker), hex32(w.fp), "the right passphrase"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirSnapshot(t, w.dir)
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want exactly one: %q", len(lines), stderr)
			}
			if !strings.HasPrefix(lines[0], "btcstake: error: ") ||
				!strings.Contains(lines[0], c.flag) || !strings.Contains(lines[0], c.want) {
				t.Fatalf("stderr %q: want one error line naming %q with %q", stderr, c.flag, c.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "internal error") {
				t.Fatalf("stderr %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
			for _, s := range secrets {
				if strings.Contains(stderr, s) {
					t.Fatal("a secret in the error")
				}
			}
			after := dirSnapshot(t, w.dir)
			for p, v := range after {
				if before[p] != v {
					t.Errorf("%s written or changed", p)
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("%s removed", p)
				}
			}
		})
	}
}

// replaceFlag returns args with flag's value replaced.
func replaceFlag(args []string, flag, val string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == flag && i+1 < len(out) {
			out[i+1] = val
		}
	}
	return out
}

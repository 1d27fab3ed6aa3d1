package regtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// FuzzLoadState: any state.json content either reads, and then encodes as
// SaveState does and reads back to the same State, or is ErrState;
// nothing panics, and a loaded mining key prints redacted. (The file
// handling around it, LoadState's bound and regular-file check, is
// TestLoadStateBounded's; the fuzzer's time goes to the parser.)
func FuzzLoadState(f *testing.F) {
	key, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{1}, 32))
	if w, err := walletFromKey(key, &chaincfg.RegressionNetParams); err == nil {
		st := State{Kind: Btcd, Pid: 4242, RPC: RPCInfo{Host: "127.0.0.1:18443", User: "u", Pass: "p"},
			Dir: "/tmp/n", Log: "/tmp/n/node.log", Conf: "/tmp/n/btcd.conf", MiningAddress: w.addr,
			MiningKey: Secret(w.key.Serialize())}
		b, _ := json.Marshal(st)
		f.Add(b)
	}
	f.Add([]byte(`{"kind":"bitcoind","pid":1,"rpc":{"host":"h:1"},"mining_key":"zz"}`))
	f.Add([]byte(`{"mining_key":"00","started":"not a time"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseState("state.json", data)
		if err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		if st.MiningKey.String() != "[redacted]" || st.MiningKey.GoString() != "[redacted]" {
			t.Fatalf("the mining key prints as %q", st.MiningKey.String())
		}
		saved, err := json.MarshalIndent(st, "", "  ") // what SaveState writes
		if err != nil {
			t.Fatalf("a loaded state does not encode: %v", err)
		}
		st2, err := parseState("again.json", saved)
		if err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		b1, _ := json.Marshal(st)
		b2, _ := json.Marshal(st2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("state changes through save and load:\n%s\n%s", b1, b2)
		}
	})
}

// TestLoadStateBounded: LoadState reads a regular file of at most 64 KiB:
// a larger file, a directory or a FIFO is ErrState at once (no endless
// read, no hang), and a saved state loads back.
func TestLoadStateBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, append([]byte(`{"kind":"btcd","log":"`), bytes.Repeat([]byte("a"), maxStateSize)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadState(big); !errors.Is(err, ErrState) || !bytes.Contains([]byte(err.Error()), []byte("larger than")) {
		t.Fatalf("a 64 KiB+ state: %v", err)
	}
	if _, err := LoadState(dir); !errors.Is(err, ErrState) {
		t.Fatalf("a directory: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err == nil {
		// Opening a FIFO for reading blocks until a writer comes: hold
		// one open so the open returns and the check itself is tested.
		w, err := os.OpenFile(fifo, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := LoadState(fifo); !errors.Is(err, ErrState) || !bytes.Contains([]byte(err.Error()), []byte("not a regular file")) {
			t.Fatalf("a FIFO: %v", err)
		}
	}
	ok := filepath.Join(dir, "ok.json")
	want := State{Kind: Btcd, Pid: 7, RPC: RPCInfo{Host: "127.0.0.1:1"}, MiningKey: Secret{1, 2}}
	if err := SaveState(ok, want); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadState(ok); err != nil || got.Pid != 7 || got.RPC.Host != "127.0.0.1:1" || !bytes.Equal(got.MiningKey, want.MiningKey) {
		t.Fatalf("saved state: %+v, %v", got, err)
	}
}

package regtest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/internal/atomicfile"
	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcstake/btcstake/internal/strictjson"
)

// Secret is key material that must not reach logs or error messages: it
// prints as "[redacted]" and only its JSON form (for the 0600 state file)
// carries the bytes, as hex.
type Secret []byte

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// MarshalJSON encodes the secret as hex.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(s)) }

// UnmarshalJSON decodes hex.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var h string
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return fmt.Errorf("secret is not hex")
	}
	*s = raw
	return nil
}

// State describes a running node well enough for another process to use
// it (Attach): the CLI's "regtest start" saves it, "mine", "fund" and
// "stop" load it. It holds the harness's mining key, so it is stored with
// mode 0600.
type State struct {
	Kind Kind    `json:"kind"`
	Pid  int     `json:"pid"`
	RPC  RPCInfo `json:"rpc"`
	Dir  string  `json:"datadir"`
	Log  string  `json:"log"`
	// Conf is the node's config file (its RPC credentials, mode 0600),
	// which RPC clients such as btcctl -C or bitcoin-cli -conf can read
	// instead of taking the password on their command line.
	Conf          string    `json:"conf,omitempty"`
	MiningAddress string    `json:"mining_address"`
	MiningKey     Secret    `json:"mining_key"`
	Started       time.Time `json:"started"`
}

// State returns the node's State (including its mining key).
func (n *Node) State() State {
	return State{
		Kind: n.kind, Pid: n.pid, RPC: n.rpcInfo, Dir: n.dir, Log: n.logPath, Conf: n.confPath,
		MiningAddress: n.w.addr, MiningKey: Secret(n.w.key.Serialize()),
		Started: time.Now().UTC().Truncate(time.Second),
	}
}

// Attach connects to a node another process started, as described by s.
// The returned Node works like one from Start; Stop stops the node (over
// RPC, then by signal if needed) and Close just lets go of it. It fails
// with ErrState when the node is not running or does not answer.
func Attach(ctx context.Context, s State) (*Node, error) {
	if s.Kind != Btcd && s.Kind != Bitcoind {
		return nil, fmt.Errorf("%w: unknown node kind %q", ErrState, s.Kind)
	}
	if len(s.MiningKey) != 32 {
		return nil, fmt.Errorf("%w: the mining key is missing or not 32 bytes", ErrState)
	}
	if s.Pid > 0 && !processAlive(s.Pid) {
		return nil, fmt.Errorf("%w: node process %d is not running", ErrState, s.Pid)
	}
	params := &chaincfg.RegressionNetParams
	key, _ := btcec.PrivKeyFromBytes(s.MiningKey)
	w, err := walletFromKey(key, params)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if s.MiningAddress != "" && s.MiningAddress != w.addr {
		return nil, fmt.Errorf("%w: the mining key does not match the mining address", ErrState)
	}
	n := &Node{
		kind: s.Kind, params: params, rpcInfo: s.RPC, dir: s.Dir, logPath: s.Log,
		confPath: s.Conf, pid: s.Pid, w: w,
	}
	if n.c, err = newChainClient(s.RPC); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = n.c.Height(pctx)
	cancel()
	if err != nil {
		n.c.Close()
		return nil, fmt.Errorf("%w: node at %s does not answer: %v", ErrState, s.RPC.Host, err)
	}
	// Payments made by earlier processes may still wait in the mempool;
	// the wallet reads it (and the chain) on first use.
	n.w.needMempool = true
	return n, nil
}

// StopState stops the node s describes when Attach cannot reach it. A node
// that died leaves nothing to do (false, nil). A node that is alive but does
// not answer RPC (it hangs, or the state's credentials are stale) is stopped
// as Stop stops an attached node: asked over RPC, then SIGTERM, then SIGKILL
// after 15 s; the process must carry s.Dir on its command line, so a reused
// pid is never signalled. It reports whether a node process was running.
func StopState(s State) (running bool, err error) {
	if s.Pid <= 0 || s.Dir == "" || !processAlive(s.Pid) || !processMatches(s.Pid, s.Dir) {
		return false, nil
	}
	n := &Node{kind: s.Kind, rpcInfo: s.RPC, dir: s.Dir, logPath: s.Log, pid: s.Pid}
	if n.c, err = newChainClient(s.RPC); err != nil {
		return true, err
	}
	defer n.c.Close()
	return true, n.stopProcess(15 * time.Second)
}

// SaveState writes s to path atomically (temp file, fsync, rename) with
// mode 0600, creating the directory (0700) if needed.
func SaveState(path string, s State) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	return writeFileAtomic(path, append(data, '\n'), 0o600)
}

// maxStateSize bounds a state file read (SaveState writes under 1 KiB).
const maxStateSize = 64 << 10

// LoadState reads a state file written by SaveState: a regular file (a
// pipe or a device is refused before it is read) of at most 64 KiB that
// only its owner can access (it holds the mining key), decoded strictly
// (parseState).
func LoadState(path string) (State, error) {
	data, err := inputfile.Read(path, inputfile.Options{Max: maxStateSize, Forbid: inputfile.Private})
	if err != nil {
		if os.IsNotExist(err) {
			return State{}, fmt.Errorf("%w: no state file %s (is a node running?)", ErrState, path)
		}
		return State{}, fmt.Errorf("%w: %v", ErrState, err)
	}
	defer clear(data)
	return parseState(path, data)
}

// parseState decodes the content of state file path strictly
// (internal/strictjson: unknown fields, a field given twice and data after
// the object are refused).
func parseState(path string, data []byte) (State, error) {
	var s State
	if err := strictjson.Decode(data, &s); err != nil {
		return State{}, fmt.Errorf("%w: %s: %v", ErrState, path, err)
	}
	return s, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	if err := atomicfile.Write(path, data, mode, false); err != nil {
		return fmt.Errorf("%w: writing %s: %v", ErrState, path, err)
	}
	return nil
}

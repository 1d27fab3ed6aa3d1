package regtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/internal/atomicfile"
)

// Kind is a node implementation.
type Kind string

// The supported node implementations.
const (
	Btcd     Kind = "btcd"
	Bitcoind Kind = "bitcoind"
)

// DefaultInitialBlocks is how many blocks Start mines when Options leaves
// InitialBlocks at zero: enough for ten mature coinbase outputs (50 BTC
// each) in the harness wallet.
const DefaultInitialBlocks = 110

// Options configure Start. The zero value starts btcd (or the node named by
// $BTCSTAKE_NODE) in a fresh temporary directory.
type Options struct {
	// Kind selects the node; empty means $BTCSTAKE_NODE, else btcd.
	Kind Kind
	// Dir holds the node's data and its log (node.log). Empty means a new
	// temporary directory, removed by Stop. A directory given here is
	// kept (tests pass t.TempDir()).
	Dir string
	// Binary is the node executable. Empty means $BTCSTAKE_BTCD or the
	// cached build of the pinned btcd (see BtcdBinary) for btcd, and
	// bitcoind from PATH for bitcoind.
	Binary string
	// InitialBlocks is the number of blocks mined right after start; 0
	// means DefaultInitialBlocks, negative means none.
	InitialBlocks int
	// Detached starts the node so that it outlives this process (the CLI's
	// "regtest start"): no parent-death signal, its own session. Stop
	// still stops it.
	Detached bool
	// StartTimeout bounds the wait for the node's RPC to answer (not the
	// btcd build). Zero means 60 s.
	StartTimeout time.Duration
	// Logf, when set, receives progress lines (such as the one-time btcd
	// build notice).
	Logf func(format string, args ...any)
	// NoTxIndex starts the node without a transaction index, as most
	// users' nodes run: confirmed transactions are then found by reading
	// blocks (chain.Client.FindTransaction, Locate, FindSpend), not by the
	// index.
	NoTxIndex bool
	// Lock, when set, is the lock of the directory the node belongs to
	// (LockDir): the node process inherits it and holds it for as long as
	// it runs, and is recorded as its holder. The caller still closes its
	// own hold (DirLock.Close) when done.
	Lock *DirLock
}

// RPCInfo is how to reach the node's JSON-RPC server.
type RPCInfo struct {
	Host string `json:"host"` // "127.0.0.1:port"
	User string `json:"user"`
	Pass string `json:"pass"`
}

// Node is a running regtest node with a small wallet: it mines to a key
// the harness generated, and pays arbitrary scripts from the mature
// coinbase outputs (and change) of that key. Methods are safe for
// concurrent use.
type Node struct {
	kind    Kind
	noIndex bool
	params  *chaincfg.Params
	rpcInfo RPCInfo
	c       *chain.Client
	dir     string
	ownsDir bool
	logPath string
	// confPath is the node's config file (RPC credentials, mode 0600).
	confPath string
	pid      int
	proc     *os.Process   // nil for an attached node
	exited   chan struct{} // closed when an own child exits
	w        *wallet

	wmu      sync.Mutex // the wallet
	mu       sync.Mutex // stopped, stopErr
	stopped  bool
	stopErr  error
	stopOnce sync.Once
}

const rpcTimeout = 30 * time.Second

// Start launches a node on 127.0.0.1 with free ports and waits, polling its
// RPC, until it answers; then it mines the initial blocks. On error nothing
// is left running. Call Stop when done (tests: t.Cleanup, or NewTestNode).
func Start(ctx context.Context, opts Options) (n *Node, err error) {
	kind := opts.Kind
	if kind == "" {
		kind = Kind(os.Getenv(EnvNode))
	}
	if kind == "" {
		kind = Btcd
	}
	if kind != Btcd && kind != Bitcoind {
		return nil, fmt.Errorf("%w: unknown node kind %q (want btcd or bitcoind)", ErrInvalidArgument, kind)
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin := opts.Binary
	if bin == "" {
		switch kind {
		case Btcd:
			if bin, err = BtcdBinary(ctx, func(s string) { logf("%s", s) }); err != nil {
				return nil, err
			}
		case Bitcoind:
			if bin, err = exec.LookPath("bitcoind"); err != nil {
				return nil, fmt.Errorf("%w: %s=bitcoind but bitcoind is not on PATH", ErrBuild, EnvNode)
			}
		}
	}

	dir, ownsDir := opts.Dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "btcstake-regtest-"); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStart, err)
		}
		ownsDir = true
	} else {
		if dir, err = filepath.Abs(dir); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStart, err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStart, err)
		}
	}
	defer func() {
		if err != nil && ownsDir {
			_ = os.RemoveAll(dir)
		}
	}()

	params := &chaincfg.RegressionNetParams
	w, err := newWallet(params)
	if err != nil {
		return nil, err
	}
	user, pass := randomHex(8), randomHex(16)
	// The RPC credentials reach the node through a 0600 config file, never
	// its command line, which every user of the machine can read (ps,
	// /proc/PID/cmdline).
	conf := filepath.Join(dir, string(kind)+".conf")
	if err := writeNodeConf(conf, kind, user, pass); err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}

	// A free port found by binding :0 can be taken by someone else before
	// the node binds it; retry with a new port when that happens.
	for attempt := 0; ; attempt++ {
		port, perr := freePort()
		if perr != nil {
			return nil, fmt.Errorf("%w: no free port: %v", ErrStart, perr)
		}
		n = &Node{
			kind:     kind,
			noIndex:  opts.NoTxIndex,
			params:   params,
			rpcInfo:  RPCInfo{Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), User: user, Pass: pass},
			dir:      dir,
			ownsDir:  ownsDir,
			logPath:  filepath.Join(dir, "node.log"),
			confPath: conf,
			w:        w,
		}
		if n.c, err = newChainClient(n.rpcInfo); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStart, err)
		}
		err = n.launch(ctx, bin, port, opts.Detached, opts.Lock, timeout)
		if err == nil {
			break
		}
		n.kill()
		if attempt < 2 && strings.Contains(strings.ToLower(n.LogTail(20)), "address already in use") {
			continue
		}
		return nil, err
	}
	blocks := opts.InitialBlocks
	if blocks == 0 {
		blocks = DefaultInitialBlocks
	}
	if blocks > 0 {
		if _, err = n.Mine(blocks); err != nil {
			n.kill()
			return nil, fmt.Errorf("%w: mining the initial %d blocks: %v (log %s ends: %s)", ErrStart, blocks, err, n.logPath, n.LogTail(5))
		}
	}
	return n, nil
}

// writeNodeConf writes the node's config file, holding its RPC user and
// password, with mode 0600 (atomically): for btcd an INI file read with
// --configfile, for bitcoind a bitcoin.conf read with -conf, its options in
// the [regtest] section.
func writeNodeConf(path string, kind Kind, user, pass string) error {
	var conf string
	switch kind {
	case Bitcoind:
		conf = "[regtest]\nrpcuser=" + user + "\nrpcpassword=" + pass + "\n"
	default:
		conf = "[Application Options]\nrpcuser=" + user + "\nrpcpass=" + pass + "\n"
	}
	if err := atomicfile.Write(path, []byte(conf), 0o600, false); err != nil {
		return fmt.Errorf("%w: writing the node's config file: %v", ErrStart, err)
	}
	return nil
}

// args is the node's command line: no secret (the RPC credentials are in
// the config file, confPath).
func (n *Node) args(port int) []string {
	p := strconv.Itoa(port)
	switch n.kind {
	case Bitcoind:
		args := []string{
			"-regtest", "-server", "-datadir=" + n.dir, "-conf=" + n.confPath, "-printtoconsole",
			"-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1", "-rpcport=" + p,
			"-listen=0", "-listenonion=0", "-dnsseed=0", "-fixedseeds=0",
			"-disablewallet", "-acceptnonstdtxn=0", "-minrelaytxfee=0.00001",
		}
		if !n.noIndex {
			args = append(args, "-txindex")
		}
		return args
	default:
		args := []string{
			"--regtest", "--notls", "--configfile=" + n.confPath, "--rpclisten=127.0.0.1:" + p,
			"--nolisten", "--miningaddr=" + n.w.addr,
			"--datadir=" + filepath.Join(n.dir, "data"), "--logdir=" + filepath.Join(n.dir, "logs"),
			"--utxocachemaxsize=16", "--rejectnonstd", "--limitfreerelay=0",
			"--debuglevel=MINR=warn", // not a line per mined block
		}
		if !n.noIndex {
			args = append(args, "--txindex")
		}
		return args
	}
}

// launch starts the process, handing it lock when set, and polls its RPC
// until it answers.
func (n *Node) launch(ctx context.Context, bin string, port int, detached bool, lock *DirLock, timeout time.Duration) error {
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStart, err)
	}
	cmd := exec.Command(bin, n.args(port)...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	setProcAttr(cmd, detached)
	if lock != nil {
		// The child's descriptor 3 shares the lock's open file, and with
		// it the flock.
		cmd.ExtraFiles = []*os.File{lock.f}
	}
	err = cmd.Start()
	logFile.Close() // the child holds its own descriptor
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrStart, bin, err)
	}
	n.proc, n.pid = cmd.Process, cmd.Process.Pid
	n.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(n.exited) }() // also reaps a detached child
	if lock != nil {
		if err := lock.setNode(n.pid); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := n.c.Height(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			return fmt.Errorf("%w: %s exited during start-up (log %s): %s", ErrStart, n.kind, n.logPath, n.LogTail(5))
		case <-ctx.Done():
			return fmt.Errorf("%w: %s did not answer RPC within %s (log %s): %v; log ends: %s", ErrStart, n.kind, timeout, n.logPath, err, n.LogTail(5))
		case <-tick.C:
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Kind reports which node implementation runs.
func (n *Node) Kind() Kind { return n.kind }

// RPC returns the node's JSON-RPC address and credentials.
func (n *Node) RPC() RPCInfo { return n.rpcInfo }

// Params returns the chain parameters (regtest).
func (n *Node) Params() *chaincfg.Params { return n.params }

// Dir returns the node's directory (data and node.log).
func (n *Node) Dir() string { return n.dir }

// Pid returns the node's process id.
func (n *Node) Pid() int { return n.pid }

// ConfPath returns the node's config file, which holds its RPC user and
// password (mode 0600): point an RPC client at it (btcctl -C FILE,
// bitcoin-cli -conf=FILE) rather than putting the password on a command
// line. Empty for a node attached from a state that does not name it.
func (n *Node) ConfPath() string { return n.confPath }

// LogPath returns the file the node's output goes to.
func (n *Node) LogPath() string { return n.logPath }

// maxLogTail bounds how much of the end of the node's log LogTail reads.
const maxLogTail = 1 << 20

// LogTail returns the last lines of the node's log (empty if unreadable),
// from at most its last MiB.
func (n *Node) LogTail(lines int) string {
	f, err := os.Open(n.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return ""
	} else if fi.Size() > maxLogTail {
		if _, err := f.Seek(fi.Size()-maxLogTail, io.SeekStart); err != nil {
			return ""
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxLogTail))
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Chain returns the typed client the harness talks to the node through
// (package chain), for calls the harness does not wrap: Locate,
// FindSpend, CheckNetwork, ... It is closed by Stop or Close.
func (n *Node) Chain() *chain.Client { return n.c }

// Call runs a raw JSON-RPC call and returns its result. Node errors are
// wrapped in ErrRPC with the node's code and message.
func (n *Node) Call(method string, params ...any) (json.RawMessage, error) {
	res, err := n.c.Call(context.Background(), method, params...)
	return res, n.wrap(err)
}

// wrap gives an error of package chain the harness's kinds: rejections,
// ErrNotFound, ErrTimeout and ErrInvalidArgument are shared kinds and pass
// unchanged; any other failure is ErrRPC (ErrStopped once Stop ran).
func (n *Node) wrap(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrRejected), errors.Is(err, ErrNotFound),
		errors.Is(err, ErrTimeout), errors.Is(err, ErrInvalidArgument):
		return err
	case n.isStopped():
		return fmt.Errorf("%w: %w", ErrStopped, err)
	}
	return fmt.Errorf("%w: %w", ErrRPC, err)
}

func (n *Node) callInto(out any, method string, params ...any) error {
	res, err := n.Call(method, params...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("%w: %s: unexpected reply: %v", ErrRPC, method, err)
	}
	return nil
}

func (n *Node) isStopped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

// Height returns the height of the chain tip.
func (n *Node) Height() (int32, error) {
	var h int32
	err := n.callInto(&h, "getblockcount")
	return h, err
}

// Mine mines count blocks (paying the harness's key) and returns their
// hashes in chain order. Transactions in the mempool go into the first
// block.
func (n *Node) Mine(count int) ([]chainhash.Hash, error) {
	if count <= 0 || count > 10000 {
		return nil, fmt.Errorf("%w: block count %d (want 1..10000)", ErrInvalidArgument, count)
	}
	var strs []string
	var err error
	if n.kind == Bitcoind {
		err = n.callInto(&strs, "generatetoaddress", count, n.w.addr)
	} else {
		err = n.callInto(&strs, "generate", count)
	}
	if err != nil {
		return nil, err
	}
	hashes := make([]chainhash.Hash, len(strs))
	for i, s := range strs {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: generate: bad block hash %q", ErrRPC, s)
		}
		hashes[i] = *h
	}
	if len(hashes) != count {
		return hashes, fmt.Errorf("%w: asked for %d blocks, got %d", ErrRPC, count, len(hashes))
	}
	return hashes, nil
}

// MineTo mines until the tip is at height target (nothing if it is
// already there or above) and returns the new blocks' hashes. Time-lock
// tests use it to stand exactly one block before, then at, a lock.
func (n *Node) MineTo(target int32) ([]chainhash.Hash, error) {
	tip, err := n.Height()
	if err != nil {
		return nil, err
	}
	if target <= tip {
		return nil, nil
	}
	return n.Mine(int(target - tip))
}

// Broadcast submits tx to the node's mempool and returns its txid. A
// refusal is a *RejectError (errors.Is with ErrRejected and the classified
// kind). Broadcasting a transaction already in the mempool succeeds again;
// one already confirmed (with unspent outputs) is ErrAlreadyKnown.
func (n *Node) Broadcast(tx *wire.MsgTx) (chainhash.Hash, error) {
	h, err := n.c.Broadcast(context.Background(), tx)
	return h, n.wrap(err)
}

// TestMempoolAccept asks the node whether it would accept tx, without
// broadcasting it. nil means accepted; a refusal is a *RejectError.
func (n *Node) TestMempoolAccept(tx *wire.MsgTx) error {
	return n.wrap(n.c.TestMempoolAccept(context.Background(), tx))
}

// GetRawTransaction returns a transaction from the mempool or the chain:
// by the node's transaction index, or, on a node started with
// Options.NoTxIndex, by reading the last chain.DefaultMaxTxScanBlocks
// blocks (chain.Client.FindTransaction).
func (n *Node) GetRawTransaction(txid chainhash.Hash) (*wire.MsgTx, error) {
	info, err := n.c.FindTransaction(context.Background(), txid, chain.TxSearch{})
	if err != nil {
		return nil, n.wrap(err)
	}
	return info.Tx, nil
}

// Confirmations returns how many blocks confirm txid: 0 while it waits in
// the mempool, ErrNotFound when the node does not know it (found as
// GetRawTransaction finds it, with or without a transaction index).
func (n *Node) Confirmations(txid chainhash.Hash) (int64, error) {
	info, err := n.c.FindTransaction(context.Background(), txid, chain.TxSearch{})
	if err != nil {
		return 0, n.wrap(err)
	}
	return info.Confirmations, nil
}

// WaitConfirmations polls until txid has at least confs confirmations. It
// does not mine: call Mine (or let another party mine). It fails at once
// with ErrNotFound if the node does not know txid, and with ErrTimeout when
// ctx ends first.
func (n *Node) WaitConfirmations(ctx context.Context, txid chainhash.Hash, confs int64) error {
	_, err := n.c.WaitConfirmations(ctx, txid, confs, chain.WaitOptions{Interval: 20 * time.Millisecond, FailIfUnknown: true})
	return n.wrap(err)
}

// TxOut is an unspent output as the node sees it.
type TxOut = chain.TxOut

// GetTxOut returns an unspent output, counting the mempool: an output
// spent by a mempool transaction, or unknown, is ErrNotFound.
func (n *Node) GetTxOut(op wire.OutPoint) (*TxOut, error) {
	o, err := n.c.TxOut(context.Background(), op)
	return o, n.wrap(err)
}

// GetBlockHash returns the hash of the main-chain block at height.
func (n *Node) GetBlockHash(height int32) (chainhash.Hash, error) {
	h, err := n.c.BlockHash(context.Background(), int64(height))
	return h, n.wrap(err)
}

// GetBlock returns a block by hash.
func (n *Node) GetBlock(hash chainhash.Hash) (*wire.MsgBlock, error) {
	b, err := n.c.Block(context.Background(), hash)
	return b, n.wrap(err)
}

// BlockAt returns the main-chain block at height.
func (n *Node) BlockAt(height int32) (*wire.MsgBlock, error) {
	b, _, err := n.c.BlockAt(context.Background(), int64(height))
	return b, n.wrap(err)
}

// ScanBlocks calls fn for each main-chain block from height from to to
// (inclusive), in order, stopping at fn's first error (returned as is).
func (n *Node) ScanBlocks(from, to int32, fn func(height int32, b *wire.MsgBlock) error) error {
	if from < 0 || to < from {
		return fmt.Errorf("%w: block range %d..%d", ErrInvalidArgument, from, to)
	}
	for h := from; h <= to; h++ {
		b, err := n.BlockAt(h)
		if err != nil {
			return err
		}
		if err := fn(h, b); err != nil {
			return err
		}
	}
	return nil
}

// MempoolTxids returns the ids of the transactions in the mempool.
func (n *Node) MempoolTxids() ([]chainhash.Hash, error) {
	ids, err := n.c.MempoolTxids(context.Background())
	return ids, n.wrap(err)
}

// Close releases the RPC connections without stopping the node (for a
// node reached with Attach that should keep running).
func (n *Node) Close() { n.c.Close() }

// Stop stops the node and waits for its process to exit (killing it if it
// ignores the request for 15 s), then removes the data directory if Start
// created it. It is idempotent: later calls return the first result, and
// a call made while another is in progress (a signal handler and a
// deferred Stop) waits for it to finish.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		n.mu.Lock()
		n.stopped = true
		n.mu.Unlock()

		err := n.stopProcess(15 * time.Second)
		n.Close()
		if n.ownsDir {
			if rerr := os.RemoveAll(n.dir); rerr != nil && err == nil {
				err = fmt.Errorf("%w: removing %s: %v", ErrStopped, n.dir, rerr)
			}
		}
		n.mu.Lock()
		n.stopErr = err
		n.mu.Unlock()
	})
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopErr
}

// kill stops the process of a failed start without the niceties.
func (n *Node) kill() {
	if n.proc != nil {
		_ = n.proc.Kill()
		<-n.exited
	}
	n.c.Close()
}

func (n *Node) stopProcess(grace time.Duration) error {
	if n.proc != nil {
		// Our own child: SIGTERM, then SIGKILL after the grace period.
		select {
		case <-n.exited:
			return nil
		default:
		}
		_ = terminate(n.proc)
		select {
		case <-n.exited:
			return nil
		case <-time.After(grace):
		}
		_ = n.proc.Kill()
		<-n.exited
		return nil
	}
	// An attached node (another process started it): ask over RPC, which
	// cannot hit a reused pid, then watch the pid.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, rpcErr := n.c.Call(ctx, "stop")
	cancel()
	if n.pid <= 0 {
		if rpcErr != nil {
			return fmt.Errorf("%w: stop: %v", ErrRPC, rpcErr)
		}
		return nil
	}
	if rpcErr != nil && processAlive(n.pid) && processMatches(n.pid, n.dir) {
		_ = terminatePid(n.pid)
	}
	if waitGone(n.pid, grace) {
		return nil
	}
	if processMatches(n.pid, n.dir) {
		_ = killPid(n.pid)
		if waitGone(n.pid, 5*time.Second) {
			return nil
		}
	}
	return fmt.Errorf("%w: process %d did not exit", ErrRPC, n.pid)
}

// waitGone polls until pid is gone or the timeout passes.
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for processAlive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

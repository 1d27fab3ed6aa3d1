package main

// btcstake watch: the watcher (package watch) as a long-lived service,
// with its delivery sinks (watch/notify) and its HTTP endpoints
// (watch/web); and two read-only subcommands on a stopped store.

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
	"github.com/btcstake/btcstake/watch/notify"
	"github.com/btcstake/btcstake/watch/web"
)

func init() { register(newWatchCmd) }

// watchFlags are the flags of `btcstake watch`.
type watchFlags struct {
	nf nodeFlags
	ps paramsSource
	pf passphraseFlags

	db          string
	fromHeight  string // a height, or "tip"
	untilHeight int64  // -1: run until stopped
	lists       []string
	regs        []string
	psbtDirs    []string
	stakingTx   string
	staker      string
	fps         []string
	stakingTime int64
	phase1      bool
	autoSlash   bool
	fpKeys      []string
	exec        string
	webhook     string
	webhookFile string
	listen      string
	jsonLog     bool
	logLevel    string
	poll        time.Duration
	skipHistory bool
}

// maxWebhookFileSize bounds a --webhook-file read.
const maxWebhookFileSize = 8192

func newWatchCmd(a *app) *cobra.Command {
	f := &watchFlags{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Follow stakes on the chain as a service: events as JSON lines, alerts, metrics, auto-slash",
		Long: `Runs the watcher: follows your node block by block (no -txindex needed) from
the store's cursor, and reports what happens to the watched delegations, one
JSON line per event on stdout: staking_confirmed, staking_deep,
unbonding_broadcast, unbonding_confirmed, slashed, fp_key_recovered,
timelock_reached, withdrawn, extended, reorg, reorged_out, auto_slash_* (see
docs/watch.md for every field). Logs go to stderr.

Everything it learns is kept in --db (one bbolt file, mode 0600): stop it at
any time (SIGINT, SIGTERM: exit 0; or kill -9) and it resumes where it was,
losing no event and printing again at most the last one it printed, with
the same id (after a power loss, those printed since the last commit).

What to watch (each is added to the store, and stays watched):
  --watch FILE          a watch list (JSON: staking transactions with keys,
                        registrations, PSBT directories; docs/watch.md)
  --registration FILE   a file 'btcstake register' wrote
  --psbt-dir DIR        a directory of the lifecycle PSBTs and transactions
  --staking-tx TX --staker-pk --fp-pk --staking-time
                        one delegation from flags
  --phase1              every phase-1 staking transaction of the params' tag

A new store needs --from-height: the first block to read, at or below the
block of every watched staking transaction (or "tip"). A delegation added
to a store that has already read past its staking transaction's block is
brought through the blocks it missed first (from that block when the node
or the watch list's staking_height says, else from the store's start).

With --auto-slash, once a finality provider's key is known (recovered from
an on-chain slashing of a watched delegation, or given with --fp-key from
EOTS evidence), the pre-signed slashing transaction of every other watched
live delegation of that provider is completed and broadcast, once each.

--exec CMD runs CMD (through /bin/sh) once per event, with the event in its
environment and on stdin; --webhook URL (or --webhook-file) POSTs it; each
with retries, on its own cursor, never holding up the follower. --listen
ADDR serves /metrics (Prometheus), a status page at / and /api/stakes.

--until-height H stops after processing block H (for one-shot catch-up and
tests), once --exec and --webhook have delivered every event.

'btcstake watch events' and 'btcstake watch stakes' read a store while the
service is stopped (bbolt locks the file: while it runs, they say so).`,
		Example: `  btcstake watch --network signet --params bbn-test-6 --db stakes.db --from-height 230000 \
      --watch stakes.json --listen 127.0.0.1:9464
  btcstake watch --params bbn-1 --network mainnet --db mainnet.db --from-height tip --phase1 --auto-slash \
      --fp-key leaked-fp.key --webhook-file hook.url --exec 'logger -t btcstake "$BTCSTAKE_EVENT_KIND"'
  btcstake watch --db stakes.db --until-height 231000 | jq -r 'select(.kind=="slashed") | .delegation'
  btcstake watch events --db stakes.db --after 120
  btcstake watch stakes --db stakes.db --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWatch(cmd, a, f) },
	}
	fl := cmd.Flags()
	f.nf.add(cmd)
	f.ps.add(cmd, "staking parameters: a preset (bbn-1, bbn-test-6, regtest) or a params file; every version is used (needed to add delegations and for --phase1)")
	fl.Lookup("btc-height").Usage = "for --staking-tx: a Bitcoin height whose params version applies (default: the newest version under which the delegation holds together)"
	fl.StringVar(&f.db, "db", "", "the watcher's store (bbolt file, created 0600 when absent)")
	fl.StringVar(&f.fromHeight, "from-height", "", `first block a new store reads (a height, or "tip"); on an existing store it must be the one it started from`)
	fl.Int64Var(&f.untilHeight, "until-height", -1, "stop after processing this block (-1: run until SIGINT/SIGTERM)")
	fl.StringArrayVar(&f.lists, "watch", nil, "a watch list file (JSON; repeatable)")
	fl.StringArrayVar(&f.regs, "registration", nil, "a registration file 'btcstake register' wrote (repeatable)")
	fl.StringArrayVar(&f.psbtDirs, "psbt-dir", nil, "a directory of lifecycle PSBTs and transactions (repeatable)")
	fl.StringVar(&f.stakingTx, "staking-tx", "", "one delegation's staking transaction, hex; with --staker-pk, --fp-pk, --staking-time")
	fl.StringVar(&f.staker, "staker-pk", "", "the staker's public key, for --staking-tx")
	fl.StringArrayVar(&f.fps, "fp-pk", nil, "a finality provider's public key, for --staking-tx (repeatable)")
	fl.Int64Var(&f.stakingTime, "staking-time", 0, "the staking time in blocks, for --staking-tx")
	fl.BoolVar(&f.phase1, "phase1", false, "also watch every phase-1 staking transaction of the params' tag and committee")
	fl.BoolVar(&f.autoSlash, "auto-slash", false, "complete and broadcast the slashing transactions of every watched delegation of a provider whose key is known")
	fl.StringArrayVar(&f.fpKeys, "fp-key", nil, "a finality provider's leaked secret key: a plain hex key file (mode 0600) or a keystore (repeatable; needs --auto-slash)")
	f.pf.add(cmd)
	fl.StringVar(&f.exec, "exec", "", "a command run through /bin/sh once per event (event in BTCSTAKE_EVENT_* and on stdin)")
	fl.StringVar(&f.webhook, "webhook", "", "an http(s) URL each event is POSTed to (no credentials in it: use --webhook-file)")
	fl.StringVar(&f.webhookFile, "webhook-file", "", "a file (mode 0600) holding the webhook URL, for a URL that is itself a secret")
	fl.StringVar(&f.listen, "listen", "", "serve /metrics, the status page (/) and /api/stakes on this host:port (keep it on loopback)")
	fl.BoolVar(&f.jsonLog, "json-log", false, "log to stderr as JSON lines (default: text; --json implies it)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.DurationVar(&f.poll, "poll-interval", watch.DefaultPollInterval, "how often to ask the node for a new block and look at the mempool once caught up")
	fl.BoolVar(&f.skipHistory, "skip-history", false, "--exec and --webhook start after the events already stored, instead of from the first (a sink that has delivered before resumes where it was)")
	_ = cmd.MarkFlagRequired("db")
	completeValues(cmd, "log-level", "debug", "info", "warn", "error")
	cmd.AddCommand(newWatchEventsCmd(a), newWatchStakesCmd(a))
	return cmd
}

// watchSetup is what runWatch prepares before it talks to the node.
type watchSetup struct {
	entries  []watchedEntry
	keys     []*btcec.PrivateKey
	sinks    []notify.SinkConfig
	listener net.Listener
	start    int64 // -1: "tip" (or no --from-height)
	startSet bool
	log      *slog.Logger
}

// watchedEntry is an entry and the flag that named it.
type watchedEntry struct {
	e    *watch.Entry
	flag string
}

func (s *watchSetup) zeroKeys() {
	for _, k := range s.keys {
		k.Zero()
	}
}

// prepare checks every flag and reads every input file, before any node is
// asked or any store opened.
func (f *watchFlags) prepare(cmd *cobra.Command, a *app) (*watchSetup, error) {
	s := &watchSetup{start: -1}
	var err error
	if s.log, err = f.logger(a); err != nil {
		return nil, err
	}
	fi, statErr := os.Stat(f.db)
	if statErr == nil {
		if !fi.Mode().IsRegular() {
			return nil, usagef("db", "%s is not a regular file", f.db)
		}
	} else if errors.Is(statErr, os.ErrNotExist) {
		if fi, err := os.Stat(filepath.Dir(f.db)); err != nil || !fi.IsDir() {
			return nil, usagef("db", "the directory of %s does not exist", f.db)
		}
	} else {
		return nil, usagef("db", "%v", statErr)
	}
	switch strings.TrimSpace(f.fromHeight) {
	case "":
	case "tip":
		s.startSet = true
	default:
		h, err := strconv.ParseInt(strings.TrimSpace(f.fromHeight), 10, 64)
		if err != nil || h < 0 {
			return nil, usagef("from-height", `%q is neither a block height (0 or more) nor "tip"`, f.fromHeight)
		}
		s.start, s.startSet = h, true
	}
	if cmd.Flags().Changed("until-height") && f.untilHeight < 0 {
		return nil, usagef("until-height", "must not be negative")
	}
	if s.start >= 0 && f.untilHeight >= 0 && f.untilHeight < s.start-1 {
		return nil, usagef("until-height", "%d is below --from-height %d", f.untilHeight, s.start)
	}
	if f.poll <= 0 {
		return nil, usagef("poll-interval", "must be positive")
	}
	if statErr == nil {
		if err := f.preflight(a, s); err != nil {
			return nil, err
		}
	}
	if len(f.fpKeys) > 0 && !f.autoSlash {
		return nil, usagef("fp-key", "a finality provider's key is only used by --auto-slash: add --auto-slash")
	}
	if err := f.checkDelegationFlags(cmd); err != nil {
		return nil, err
	}
	// Sinks.
	if f.exec != "" || cmd.Flags().Changed("exec") {
		argv, err := notify.ShellArgv(f.exec)
		if err != nil {
			return nil, usagef("exec", "%v", err)
		}
		x, err := notify.NewExec(notify.ExecConfig{Argv: argv})
		if err != nil {
			return nil, usagef("exec", "%v", err)
		}
		s.sinks = append(s.sinks, notify.SinkConfig{Sink: x})
	}
	if hook, flag, err := f.webhookURL(cmd); err != nil {
		return nil, err
	} else if hook != "" {
		h, err := notify.NewWebhook(notify.WebhookConfig{URL: hook})
		if err != nil {
			return nil, usagef(flag, "%v", err)
		}
		s.sinks = append(s.sinks, notify.SinkConfig{Sink: h})
	}
	// Entries (these need the params).
	if need := len(f.lists) + len(f.regs) + len(f.psbtDirs); need > 0 || f.stakingTx != "" || f.phase1 {
		if strings.TrimSpace(f.ps.arg) == "" {
			return nil, usagef("params", "needed to add delegations and for --phase1: a preset (bbn-1, bbn-test-6, regtest) or a params file; %s", networkHint(a.netName()))
		}
	}
	if err := f.readEntries(a, s); err != nil {
		return nil, err
	}
	// Keys last: a keystore may prompt for its passphrase.
	for _, path := range f.fpKeys {
		k, err := signingKeyFlag(a, "fp-key", path, &f.pf)
		if err != nil {
			s.zeroKeys()
			return nil, err
		}
		s.keys = append(s.keys, k)
	}
	if f.listen != "" {
		if s.listener, err = listenFlag(f.listen); err != nil {
			s.zeroKeys()
			return nil, err
		}
	}
	return s, nil
}

// preflight opens an existing --db before anything else is done: a file
// that is no store of this network, or one in use, stops the command
// before the node is asked; and --from-height must be the height the
// store started from.
func (f *watchFlags) preflight(a *app, s *watchSetup) error {
	w, err := openStoreFlag(a, f.db)
	if err != nil {
		return err
	}
	defer w.Close()
	if s.start >= 0 && s.start != w.StartHeight() {
		cur, _ := w.Cursor()
		return usagef("from-height", "%s started at height %d and resumes from its cursor (height %d), not from %d: drop --from-height, give %d, or use a new --db",
			f.db, w.StartHeight(), cur, s.start, w.StartHeight())
	}
	return nil
}

// logger is the service's log on stderr.
func (f *watchFlags) logger(a *app) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usagef("log-level", "%q: want debug, info, warn or error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	if f.jsonLog || a.json {
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
}

// checkDelegationFlags: --staker-pk, --fp-pk and --staking-time describe
// --staking-tx's delegation, all together.
func (f *watchFlags) checkDelegationFlags(cmd *cobra.Command) error {
	given := []string{}
	for _, n := range []string{"staker-pk", "fp-pk", "staking-time"} {
		if cmd.Flags().Changed(n) {
			given = append(given, n)
		}
	}
	if f.stakingTx == "" {
		if len(given) > 0 {
			return usagef(given[0], "describes the delegation of --staking-tx, which is not given")
		}
		if cmd.Flags().Changed("btc-height") {
			return usagef("btc-height", "picks the params version of --staking-tx, which is not given")
		}
		return nil
	}
	for _, n := range []string{"staker-pk", "fp-pk", "staking-time"} {
		if !cmd.Flags().Changed(n) {
			return usagef(n, "required with --staking-tx")
		}
	}
	return nil
}

// webhookURL is the URL of --webhook or --webhook-file, and the flag that
// gave it.
func (f *watchFlags) webhookURL(cmd *cobra.Command) (string, string, error) {
	switch {
	case f.webhook != "" && f.webhookFile != "":
		return "", "", usagef("webhook-file", "give --webhook or --webhook-file, not both")
	case f.webhookFile != "":
		u, err := readPassFile("webhook-file", f.webhookFile)
		if err != nil {
			return "", "", err
		}
		if len(u) > maxWebhookFileSize {
			return "", "", usagef("webhook-file", "longer than %d bytes", maxWebhookFileSize)
		}
		return strings.TrimSpace(u), "webhook-file", nil
	case f.webhook != "" || cmd.Flags().Changed("webhook"):
		u, err := url.Parse(f.webhook)
		if err != nil || f.webhook == "" {
			return "", "", usagef("webhook", "not a URL")
		}
		if u.User != nil {
			// Never echo the URL: it holds the secret.
			return "", "", usagef("webhook", "the URL carries credentials (user:password@), which every user of this machine can read in the process list: put the URL in a file (mode 0600) and give --webhook-file")
		}
		return f.webhook, "webhook", nil
	}
	return "", "", nil
}

// listenFlag binds --listen: a host:port with a numeric or named port (a
// port of 0 picks a free one; the log says which).
func listenFlag(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("listen", "%q is not host:port (127.0.0.1:9464, [::1]:9464, :9464)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		return nil, usagef("listen", "%q: bad port %q", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return nil, usagef("listen", "%q: bad host %q", addr, host)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--listen: %w", err)
	}
	return l, nil
}

// readEntries reads every delegation the flags name, checking each.
func (f *watchFlags) readEntries(a *app, s *watchSetup) error {
	if strings.TrimSpace(f.ps.arg) == "" {
		return nil
	}
	lp, err := f.ps.load(a.netName())
	if err != nil {
		return err
	}
	if err := lp.forNetwork(a.netName()); err != nil {
		return err
	}
	add := func(flag string, es []*watch.Entry) {
		for _, e := range es {
			s.entries = append(s.entries, watchedEntry{e: e, flag: flag})
		}
	}
	for _, path := range f.lists {
		es, err := watch.LoadWatchList(path, lp.versions)
		if err != nil {
			return ingestError("watch", path, err)
		}
		add("watch", es)
	}
	for _, path := range f.regs {
		e, err := watch.LoadRegistration(path, lp.versions)
		if err != nil {
			return ingestError("registration", path, err)
		}
		add("registration", []*watch.Entry{e})
	}
	for _, dir := range f.psbtDirs {
		es, err := watch.FromPSBTDir(dir, lp.versions)
		if err != nil {
			return ingestError("psbt-dir", dir, err)
		}
		add("psbt-dir", es)
	}
	if f.stakingTx != "" {
		e, err := f.flagEntry(lp)
		if err != nil {
			return err
		}
		add("staking-tx", []*watch.Entry{e})
	}
	return nil
}

// flagEntry is the delegation of --staking-tx and the key flags, built as
// a one-item watch list so that its params version is chosen by the same
// rule (docs/watch.md, "Watch lists").
func (f *watchFlags) flagEntry(lp *loadedParams) (*watch.Entry, error) {
	tx, err := parseTxHex("staking-tx", f.stakingTx)
	if err != nil {
		return nil, err
	}
	staker, err := parsePubKey("staker-pk", f.staker)
	if err != nil {
		return nil, err
	}
	fps, err := parsePubKeys("fp-pk", f.fps)
	if err != nil {
		return nil, err
	}
	t, err := timelockFlag("staking-time", f.stakingTime)
	if err != nil {
		return nil, err
	}
	item := map[string]any{"staking_tx": txHex(tx), "staker_pk": hex.EncodeToString(staker.SerializeCompressed()), "staking_time": t}
	var keys []string
	for _, k := range fps {
		keys = append(keys, hex.EncodeToString(k.SerializeCompressed()))
	}
	item["finality_providers"] = keys
	if f.ps.height.set {
		item["staking_height"] = f.ps.height.v
	}
	doc, err := json.Marshal(map[string]any{"entries": []any{item}})
	if err != nil {
		return nil, err
	}
	es, err := watch.ParseWatchList(doc, lp.versions)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "entries[0]: ")
		if errors.Is(err, watch.ErrInvalidWatchList) {
			return nil, usagef("staking-tx", "%s", msg)
		}
		return nil, fmt.Errorf("--staking-tx: %s", msg)
	}
	return es[0], nil
}

// ingestError names the flag and file of a delegation that cannot be
// read: an unreadable or malformed file is a bad command line (exit 2), a
// delegation that does not hold together a failed operation (exit 1).
func ingestError(flag, path string, err error) error {
	msg := err.Error()
	if !strings.Contains(msg, path) {
		msg = path + ": " + msg
	}
	if errors.Is(err, watch.ErrInvalidWatchList) || errors.Is(err, watch.ErrInvalidFile) {
		return usagef(flag, "%s", msg)
	}
	return fmt.Errorf("--%s: %s", flag, msg)
}

// fanObserver hands the watcher's observations to each observer (set
// before Run starts).
type fanObserver struct{ list []watch.Observer }

func (o *fanObserver) BlockProcessed(p watch.Progress) {
	for _, x := range o.list {
		x.BlockProcessed(p)
	}
}

func (o *fanObserver) EventEmitted(e watch.Event) {
	for _, x := range o.list {
		x.EventEmitted(e)
	}
}

func (o *fanObserver) NodeError(err error) {
	for _, x := range o.list {
		x.NodeError(err)
	}
}

// progressLog logs the follower's progress: every 10 s while it catches
// up, and once each time it reaches the tip.
type progressLog struct {
	log      *slog.Logger
	last     time.Time
	caughtUp bool
}

func (p *progressLog) BlockProcessed(pr watch.Progress) {
	switch {
	case pr.CaughtUp && !p.caughtUp:
		p.log.Info("caught up with the node", "height", pr.Height, "block_hash", pr.BlockHash)
	case !pr.CaughtUp && time.Since(p.last) >= 10*time.Second:
		p.last = time.Now()
		p.log.Info("catching up", "height", pr.Height, "tip", pr.Tip)
	}
	p.caughtUp = pr.CaughtUp
}

func (p *progressLog) EventEmitted(e watch.Event) {
	p.log.Debug("event", "id", e.ID, "kind", string(e.Kind), "seq", e.Seq, "delegation", e.Delegation)
}

func (p *progressLog) NodeError(error) {}

func runWatch(cmd *cobra.Command, a *app, f *watchFlags) (err error) {
	s, err := f.prepare(cmd, a)
	if err != nil {
		return err
	}
	defer s.zeroKeys()
	if s.listener != nil {
		defer s.listener.Close()
	}
	log := s.log
	ctx, stopSignals := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	c, chainNet, err := f.nf.connectChain(ctx, a)
	if err != nil {
		return err
	}
	defer c.Close()

	// The store: its start height, and the params for phase-1 entries.
	_, statErr := os.Stat(f.db)
	fresh := errors.Is(statErr, os.ErrNotExist)
	if fresh && !s.startSet {
		tip, _ := c.Height(ctx)
		return usagef("from-height", "required for a new --db: the first block to read, at or below the block of every watched staking transaction (the node's tip is %d), or \"tip\"", tip)
	}
	start := s.start
	if fresh && start < 0 {
		if start, err = c.Height(ctx); err != nil {
			return nodeError(c, err)
		}
	}
	obs := &fanObserver{list: []watch.Observer{&progressLog{log: log}}}
	var jl *notify.JSONLines
	if jl, err = notify.NewJSONLines(a.stdout); err != nil {
		return err
	}
	var disp *notify.Dispatcher
	cfg := watch.Config{Network: chainNet, Node: c, StartHeight: max(start, 0), PhaseOne: f.phase1, AutoSlash: f.autoSlash,
		Observer: obs, Logger: log, PollInterval: f.poll,
		// stdout: each event once it is durably stored, in order; then
		// the sinks that read the log on their own are told.
		Handler: func(e watch.Event) error {
			if err := jl.Write(e); err != nil {
				return err
			}
			if disp != nil {
				disp.Poke()
			}
			return nil
		}}
	if f.phase1 || len(s.entries) > 0 {
		lp, err := f.ps.load(a.netName())
		if err != nil {
			return err
		}
		cfg.Versions = lp.versions
	}
	w, err := watch.Open(f.db, cfg)
	if err != nil {
		return storeError("db", f.db, chainNet.Name, err)
	}
	running := false
	defer func() {
		cerr := w.Close()
		if fresh && !running {
			// Bad input changes nothing: a store this run created is
			// removed when the run fails before following the chain.
			_ = watch.Remove(f.db)
		} else if cerr != nil && err == nil {
			err = storeError("db", f.db, chainNet.Name, cerr)
		}
	}()
	if err := addEntries(ctx, c, w, s.entries, log); err != nil {
		return err
	}
	for _, k := range s.keys {
		if err := w.AddFinalityProviderKey(k); err != nil {
			return storeError("db", f.db, chainNet.Name, err)
		}
		log.Info("finality provider key recorded for auto-slash", "finality_provider", script.XOnly(k.PubKey()).String())
	}

	// Delivery, metrics and the web page.
	var names []string
	for _, sc := range s.sinks {
		names = append(names, sc.Sink.Name())
	}
	var rec notify.Recorder
	var srv *http.Server
	if s.listener != nil {
		m, err := web.NewMetrics(web.MetricsConfig{Source: w, Sinks: names})
		if err != nil {
			return err
		}
		obs.list = append(obs.list, m)
		rec = m
		h, err := web.NewHandler(web.Config{Source: w, Metrics: m, Logger: log})
		if err != nil {
			return err
		}
		srv = web.NewServer(s.listener.Addr().String(), h)
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
		addr := s.listener.Addr().String()
		if host, _, err := net.SplitHostPort(addr); err == nil && !isLoopback(addr) {
			log.Warn("serving on a non-loopback address: anyone who can reach it sees every watched stake", "host", host)
		}
		log.Info("serving metrics, the status page and the API", "addr", addr, "url", "http://"+addr+"/")
		go func() {
			if err := srv.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("the HTTP server stopped", "err", err)
			}
		}()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	dctx, stopSinks := context.WithCancel(context.Background())
	var sinksDone sync.WaitGroup
	defer func() {
		stopSinks()
		sinksDone.Wait()
	}()
	if len(s.sinks) > 0 {
		if f.skipHistory {
			for _, n := range names {
				if cur, err := w.SinkCursor(n); err == nil && cur == 0 {
					if err := w.SetSinkCursor(n, w.LastSeq()); err != nil {
						return storeError("db", f.db, chainNet.Name, err)
					}
				}
			}
		}
		d, err := notify.NewDispatcher(notify.DispatcherConfig{Log: w, Sinks: s.sinks, Recorder: rec, Logger: log})
		if err != nil {
			return err
		}
		disp = d
		sinksDone.Add(1)
		go func() {
			defer sinksDone.Done()
			_ = d.Run(dctx)
		}()
	}

	running = true
	cur, _ := w.Cursor()
	log.Info("watching", "db", f.db, "network", chainNet.Name, "from_height", cur+1, "start_height", w.StartHeight(),
		"phase1", f.phase1, "auto_slash", f.autoSlash, "known_fp_keys", len(w.KnownKeys()))
	if f.untilHeight >= 0 {
		err = w.CatchUp(ctx, f.untilHeight)
	} else {
		err = w.Run(ctx)
	}
	if ctx.Err() != nil && (err == nil || errors.Is(err, ctx.Err())) {
		log.Info("stopped by a signal")
		return nil
	}
	if err != nil {
		return watchRunError(c, f.db, chainNet.Name, err)
	}
	if f.untilHeight >= 0 && disp != nil {
		drainSinks(ctx, w, names, disp, log)
	}
	log.Info("stopped", "height", f.untilHeight)
	return nil
}

// addEntries adds the delegations to the store, in one store
// transaction. One new to the store is brought through the blocks the
// store has already read (a backfill, watch.Watcher.AddEach) from the
// lowest height its staking transaction can be at: its block when the
// node says (asked through its unspent outputs, so no -txindex is
// needed), else the height its source stated (a watch list's
// staking_height, --btc-height), else the store's start height. One in
// the node's mempool needs no backfill.
func addEntries(ctx context.Context, c *chain.Client, w *watch.Watcher, entries []watchedEntry, log *slog.Logger) error {
	cur, _ := w.Cursor()
	var es []*watch.Entry
	var from []int64
	for _, we := range entries {
		id := we.e.ID()
		es = append(es, we.e)
		if _, err := w.Stake(id); err == nil {
			from = append(from, -1) // known: Add merges in what it adds
			continue
		} else if !errors.Is(err, watch.ErrNotFound) {
			return fmt.Errorf("--db: %w", err)
		}
		info, err := c.Locate(ctx, we.e.StakingTx())
		switch {
		case errors.Is(err, chain.ErrNotFound):
			h, ok := we.e.StatedHeight()
			if !ok {
				h = -1
			}
			from = append(from, h)
			if h < 0 {
				h = w.StartHeight()
			}
			if h <= cur {
				log.Info("staking transaction not in the node's mempool or unspent outputs (not broadcast yet, or spent): the blocks the store has read are searched for it",
					"delegation", id, "from_height", h, "to_height", cur)
			}
		case err != nil:
			return nodeError(c, err)
		case info.Height >= 0:
			from = append(from, info.Height)
			if info.Height <= cur {
				log.Info("staking transaction confirmed in a block the store has read: the store goes back through the blocks from there",
					"delegation", id, "from_height", info.Height, "to_height", cur)
			}
		default: // in the mempool: it confirms in a block to come
			from = append(from, cur+1)
		}
	}
	if len(es) == 0 {
		return nil
	}
	if err := w.AddEach(from, es); err != nil {
		if errors.Is(err, watch.ErrEntryConflict) {
			return fmt.Errorf("--db: a delegation given conflicts with the one the store keeps under its staking output: %w", err)
		}
		return fmt.Errorf("--db: %w", err)
	}
	log.Info("delegations added", "count", len(es))
	return nil
}

// watchRunError says why the watcher stopped.
func watchRunError(c *chain.Client, db, network string, err error) error {
	switch {
	case errors.Is(err, watch.ErrHandler):
		return fmt.Errorf("writing an event to stdout failed (is the reader gone?): %w", err)
	case errors.Is(err, watch.ErrReorgTooDeep):
		return fmt.Errorf("%w: the store cannot follow the node's chain any more; start a new --db below the fork", err)
	case errors.Is(err, watch.ErrWrongNetwork):
		return fmt.Errorf("the node does not follow --network %s: %w", network, err)
	case errors.Is(err, watch.ErrStore), errors.Is(err, watch.ErrClosed):
		return storeError("db", db, network, err)
	case errors.Is(err, chain.ErrAuth):
		return nodeError(c, err)
	}
	return fmt.Errorf("the watcher stopped: %w", err)
}

// drainSinks waits until every sink has delivered (or given up on) every
// stored event, or a signal comes.
func drainSinks(ctx context.Context, w *watch.Watcher, names []string, d *notify.Dispatcher, log *slog.Logger) {
	last := w.LastSeq()
	said := false
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		done := true
		for _, n := range names {
			if cur, err := w.SinkCursor(n); err != nil || cur < last {
				done = false
			}
		}
		if done {
			return
		}
		if !said {
			log.Info("waiting for --exec/--webhook to deliver the stored events", "last_seq", last)
			said = true
		}
		d.Poke()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// openStoreFlag opens an existing store for the read-only subcommands.
func openStoreFlag(a *app, db string) (*watch.Watcher, error) {
	fi, err := os.Stat(db)
	if err != nil {
		return nil, usagef("db", "%v", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, usagef("db", "%s is not a regular file", db)
	}
	chainNet, err := a.params()
	if err != nil {
		return nil, err
	}
	w, err := watch.Open(db, watch.Config{Network: chainNet})
	if err != nil {
		return nil, storeError("db", db, chainNet.Name, err)
	}
	return w, nil
}

func newWatchEventsCmd(a *app) *cobra.Command {
	var db string
	var after uint64
	var limit int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print the events a watcher store holds, as JSON lines",
		Long: `Prints the events stored in --db after --after (a seq), one JSON line each,
oldest first, as 'btcstake watch' printed them. The node is not asked.

bbolt locks the store while 'btcstake watch' runs: then this says so at
once (exit 1) instead of waiting; ask the service's --listen address, or
stop it first.`,
		Example: `  btcstake watch events --db stakes.db --after 120
  btcstake watch events --db stakes.db | jq -r 'select(.kind=="slashed") | .txid'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return usagef("limit", "must not be negative")
			}
			w, err := openStoreFlag(a, db)
			if err != nil {
				return err
			}
			defer w.Close()
			jl, err := notify.NewJSONLines(a.stdout)
			if err != nil {
				return err
			}
			n := 0
			for {
				evs, err := w.Events(after, 1000)
				if err != nil {
					return fmt.Errorf("--db: %w", err)
				}
				if len(evs) == 0 {
					return nil
				}
				for _, e := range evs {
					if limit > 0 && n >= limit {
						return nil
					}
					if err := jl.Write(e); err != nil {
						return err
					}
					after = e.Seq
					n++
				}
			}
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "the watcher's store")
	cmd.Flags().Uint64Var(&after, "after", 0, "print the events after this seq")
	cmd.Flags().IntVar(&limit, "limit", 0, "print at most this many (0: all)")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

// watchStakesJSON is `watch stakes --json`: the store's cursor and every
// watched stake, as /api/stakes lists them.
type watchStakesJSON struct {
	Height     int64             `json:"height"`
	BlockHash  string            `json:"block_hash"`
	StartedAt  int64             `json:"start_height"`
	KnownFPKey []string          `json:"known_fp_pks"`
	Count      int               `json:"count"`
	Stakes     []watch.StakeView `json:"stakes"`
}

func newWatchStakesCmd(a *app) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "stakes",
		Short: "List the stakes a watcher store follows, with their state",
		Long: `Lists every delegation --db watches: its state, amount, staking txid, the
output it sits in and the blocks left until it can be withdrawn, counted
from the last block the store read (the node is not asked), and the
unbonding, slashing and withdraw txids. --json gives the fields of
/api/stakes (docs/watch.md).

bbolt locks the store while 'btcstake watch' runs: then this says so at
once (exit 1) instead of waiting; ask the service's --listen address
(/api/stakes), or stop it first.`,
		Example: `  btcstake watch stakes --db stakes.db
  btcstake watch stakes --db stakes.db --json | jq '.stakes[] | select(.state=="unbonding")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := openStoreFlag(a, db)
			if err != nil {
				return err
			}
			defer w.Close()
			stakes, err := w.Stakes()
			if err != nil {
				return fmt.Errorf("--db: %w", err)
			}
			cur, hash := w.Cursor()
			for i := range stakes {
				// Counted from the store's last block, the only tip it knows.
				if at := stakes[i].WithdrawableAt; at > 0 {
					stakes[i].BlocksLeft = max(0, at-(cur+1))
				}
			}
			out := watchStakesJSON{Height: cur, StartedAt: w.StartHeight(), KnownFPKey: w.KnownKeys(), Count: len(stakes), Stakes: stakes}
			if cur >= w.StartHeight() {
				out.BlockHash = hash.String()
			}
			if out.Stakes == nil {
				out.Stakes = []watch.StakeView{}
			}
			if out.KnownFPKey == nil {
				out.KnownFPKey = []string{}
			}
			if a.json {
				return a.printJSON(out)
			}
			return printStakes(a.stdout, out)
		},
	}
	cmd.Flags().StringVar(&db, "db", "", "the watcher's store")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

// printStakes is `watch stakes` as text.
func printStakes(w io.Writer, s watchStakesJSON) error {
	fmt.Fprintf(w, "store read up to height %d (started at %d); %d stake(s)\n", s.Height, s.StartedAt, s.Count)
	for _, v := range s.Stakes {
		left := ""
		switch {
		case v.WithdrawableAt > 0 && v.BlocksLeft > 0:
			left = fmt.Sprintf(", withdrawable at %d (%d block(s) left)", v.WithdrawableAt, v.BlocksLeft)
		case v.WithdrawableAt > 0:
			left = fmt.Sprintf(", withdrawable since %d", v.WithdrawableAt)
		}
		fmt.Fprintf(w, "%s  %-10s %s BTC%s\n", v.Delegation, v.State, web.FormatBTC(v.ValueSat), left)
		for _, t := range []struct{ what, txid string }{{"unbonding", v.UnbondingTxid}, {"slashing", v.SlashingTxid}, {"withdraw", v.WithdrawTxid}} {
			if t.txid != "" {
				fmt.Fprintf(w, "    %-9s %s\n", t.what, t.txid)
			}
		}
	}
	for _, k := range s.KnownFPKey {
		fmt.Fprintf(w, "known key of finality provider %s\n", k)
	}
	return nil
}

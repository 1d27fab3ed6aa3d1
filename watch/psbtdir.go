package watch

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// FromPSBTDir makes the entries of the delegations whose lifecycle files
// sit in dir, as the CLI leaves them (docs/tutorial.md: stake.psbt,
// unbond.psbt, slash.psbt, unbonding-slashing.psbt, ...; the names do not
// matter, the contents do).
//
// Files read: every *.psbt (base64 or binary) and every *.tx (a
// transaction in hex or binary), each a regular file (a symbolic link, a
// directory or a pipe of that name is refused) of at most
// MaxInputFileSize bytes, at most MaxPSBTDirFiles of them; other names are
// not opened (key files stay unread). Each is classified with
// psbt.Analyze (psbt.AnalyzeTx for a .tx):
//
//   - staking: the staking transaction of a delegation (a PSBT's unsigned
//     transaction, whose txid must not change when it is signed);
//   - unbonding: the unbonding transaction (PSBT or .tx) of the staking
//     output its input spends;
//   - slashing of the staking output, slashing of the unbonding output:
//     the pre-signed slashing PSBTs (a .tx of a slashing is refused: the
//     PSBT carries the adaptor signatures);
//   - withdrawals and stake extensions are not needed to watch a
//     delegation and are skipped;
//   - a file of no kind is a staking transaction only when an unbonding
//     or slashing file spends one of its outputs (a staking PSBT a wallet
//     stripped of its taproot fields), and refused otherwise.
//
// Files are grouped into delegations by the outpoints they spend: an
// unbonding or a slashing of the staking output spends T:i, where T must
// be the txid of a staking file in dir; a slashing of the unbonding
// output spends U:0, where U must be one of the unbonding transactions.
// Several files of one role for one output must be the same transaction
// (several slashing PSBTs are combined, uniting their signatures; two
// different transactions for one role are refused). A staking file that
// nothing spends is a delegation of its own.
//
// Each delegation's staker, finality providers and staking time come from
// what its files reveal, which must agree: the staking PSBT's taproot
// tree (BIP-371 output fields, which `btcstake stake` writes), a phase-1
// OP_RETURN, the leaves the unbonding and slashing PSBTs spend and the
// staking time their control blocks reveal. The params version is the
// newest under which the whole delegation holds together (ingest.go).
//
// Entries are returned in the order of their staking files' names. A
// directory without .psbt or .tx files, and anything that does not make a delegation is ErrPSBTDir, naming the
// file; an unreadable file ErrInvalidFile; a delegation that does not hold
// together ErrInvalidEntry.
func FromPSBTDir(dir string, versions *params.Versions) ([]*Entry, error) {
	files, err := readPSBTDir(dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s has no .psbt or .tx files", ErrPSBTDir, dir)
	}
	groups, err := groupDir(dir, files)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, g := range groups {
		e, err := g.entry(versions)
		if err != nil {
			return nil, fmt.Errorf("%s: delegation of %s: %w", dir, g.staking[0].name, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// dirFile is one file of a PSBT directory.
type dirFile struct {
	name string
	pkt  *btcpsbt.Packet // nil for a .tx file
	tx   *wire.MsgTx     // the PSBT's unsigned transaction, or the .tx
	a    *psbt.Analysis
}

func (f *dirFile) txid() chainhash.Hash { return f.tx.TxHash() }

// readPSBTDir reads and analyses every *.psbt and *.tx file of dir, in
// name order.
func readPSBTDir(dir string) ([]*dirFile, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidFile, err)
	}
	var out []*dirFile
	for _, de := range des {
		name := de.Name()
		ext := filepath.Ext(name)
		if ext != ".psbt" && ext != ".tx" {
			continue
		}
		if len(out) == MaxPSBTDirFiles {
			return nil, fmt.Errorf("%w: %s has more than %d .psbt and .tx files", ErrPSBTDir, dir, MaxPSBTDirFiles)
		}
		path := filepath.Join(dir, name)
		b, err := readFileBounded(path, MaxInputFileSize, false)
		if err != nil {
			return nil, err
		}
		f := &dirFile{name: name}
		opts := psbt.AnalyzeOptions{TimelockSearches: psbt.DefaultTimelockSearches}
		if ext == ".psbt" {
			if f.pkt, err = psbt.Decode(b); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidFile, path, err)
			}
			f.tx = f.pkt.UnsignedTx
			f.a, err = psbt.Analyze(f.pkt, opts)
		} else {
			if f.tx, err = decodeTxFile(b); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvalidFile, path, err)
			}
			f.a, err = psbt.AnalyzeTx(f.tx, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPSBTDir, path, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// decodeTxFile reads a transaction in hex (surrounding white space
// allowed) or in binary.
func decodeTxFile(b []byte) (*wire.MsgTx, error) {
	if s := strings.TrimSpace(string(b)); isHex(s) {
		raw, _ := hex.DecodeString(s)
		return parseTxBytes(raw)
	}
	return parseTxBytes(b)
}

// dirGroup is one delegation of a PSBT directory.
type dirGroup struct {
	staking []*dirFile // same txid
	op      *wire.OutPoint
	// each role: the files, all of one transaction
	unbonding, slashing, unbondingSlashing []*dirFile
}

func names(fs []*dirFile) string {
	var n []string
	for _, f := range fs {
		n = append(n, f.name)
	}
	return strings.Join(n, ", ")
}

// sameTx refuses two different transactions in one role.
func sameTx(role string, op wire.OutPoint, fs []*dirFile) error {
	for _, f := range fs[1:] {
		if f.txid() != fs[0].txid() {
			return fmt.Errorf("%w: %s and %s are two different %s transactions of %s", ErrPSBTDir, fs[0].name, f.name, role, op)
		}
	}
	return nil
}

// groupDir classifies the files and groups them into delegations.
func groupDir(dir string, files []*dirFile) ([]*dirGroup, error) {
	cands := map[chainhash.Hash][]*dirFile{}
	var candOrder []chainhash.Hash
	unbonding := map[wire.OutPoint][]*dirFile{}
	slashing := map[wire.OutPoint][]*dirFile{}
	unbondingSlashing := map[wire.OutPoint][]*dirFile{}
	var spendOrder []wire.OutPoint // staking outpoints, first seen first
	seen := map[wire.OutPoint]bool{}
	spends := func(f *dirFile) wire.OutPoint { return f.tx.TxIn[0].PreviousOutPoint }
	addSpend := func(m map[wire.OutPoint][]*dirFile, f *dirFile, staking bool) {
		op := spends(f)
		m[op] = append(m[op], f)
		if staking && !seen[op] {
			seen[op] = true
			spendOrder = append(spendOrder, op)
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		switch f.a.Kind {
		case psbt.TxStaking, psbt.TxUnknown:
			id := f.txid()
			if len(cands[id]) == 0 {
				candOrder = append(candOrder, id)
			}
			cands[id] = append(cands[id], f)
		case psbt.TxUnbonding:
			addSpend(unbonding, f, true)
		case psbt.TxSlashing:
			if f.pkt == nil {
				return nil, fmt.Errorf("%w: %s is a slashing transaction without its PSBT; give the pre-signed slashing PSBT, which carries the adaptor signatures", ErrPSBTDir, path)
			}
			switch f.a.SpentOutput() {
			case script.StakingOutputKind:
				addSpend(slashing, f, true)
			case script.UnbondingOutputKind:
				addSpend(unbondingSlashing, f, false)
			default:
				return nil, fmt.Errorf("%w: %s is a slashing of an output that is neither a staking nor an unbonding output", ErrPSBTDir, path)
			}
		case psbt.TxWithdraw, psbt.TxExtension:
			// Not needed to watch a delegation: the watcher sees them on
			// chain.
		default:
			return nil, fmt.Errorf("%w: %s is a %s transaction", ErrPSBTDir, path, f.a.Kind)
		}
	}
	// Delegations spent by something, in the order first seen.
	byOp := map[wire.OutPoint]*dirGroup{}
	var groups []*dirGroup
	for _, op := range spendOrder {
		st := cands[op.Hash]
		if len(st) == 0 {
			var fs []*dirFile
			fs = append(append(fs, unbonding[op]...), slashing[op]...)
			return nil, fmt.Errorf("%w: %s spends the staking output %s, and no staking transaction in %s has txid %s (stake.psbt, or the transaction as a .tx file)",
				ErrPSBTDir, names(fs), op, dir, op.Hash)
		}
		o := op
		g := &dirGroup{staking: st, op: &o, unbonding: unbonding[op], slashing: slashing[op]}
		for _, r := range []struct {
			role string
			fs   []*dirFile
		}{{"unbonding", g.unbonding}, {"slashing", g.slashing}} {
			if len(r.fs) > 0 {
				if err := sameTx(r.role, op, r.fs); err != nil {
					return nil, err
				}
			}
		}
		byOp[op] = g
		groups = append(groups, g)
	}
	// Slashings of unbonding outputs join the delegation whose unbonding
	// transaction makes the output.
	byUnbonding := map[wire.OutPoint]*dirGroup{}
	for _, g := range groups {
		if len(g.unbonding) > 0 {
			byUnbonding[wire.OutPoint{Hash: g.unbonding[0].txid(), Index: 0}] = g
		}
	}
	var uops []wire.OutPoint
	for op := range unbondingSlashing {
		uops = append(uops, op)
	}
	sort.Slice(uops, func(i, j int) bool { return unbondingSlashing[uops[i]][0].name < unbondingSlashing[uops[j]][0].name })
	for _, op := range uops {
		fs := unbondingSlashing[op]
		g := byUnbonding[op]
		if g == nil {
			return nil, fmt.Errorf("%w: %s spends %s, the output of no unbonding transaction in %s (give unbond.psbt, or the unbonding transaction as a .tx file)",
				ErrPSBTDir, names(fs), op, dir)
		}
		if err := sameTx("unbonding slashing", op, fs); err != nil {
			return nil, err
		}
		g.unbondingSlashing = fs
	}
	// Staking files nothing spends.
	claimed := map[chainhash.Hash]bool{}
	for op := range byOp {
		claimed[op.Hash] = true
	}
	for _, id := range candOrder {
		if claimed[id] {
			continue
		}
		st := cands[id]
		for _, f := range st {
			if f.a.Kind != psbt.TxStaking {
				return nil, fmt.Errorf("%w: %s is not a transaction of the staking lifecycle, and nothing in %s spends it", ErrPSBTDir, filepath.Join(dir, f.name), dir)
			}
		}
		groups = append(groups, &dirGroup{staking: st})
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.staking[0].name != b.staking[0].name {
			return a.staking[0].name < b.staking[0].name
		}
		return a.op != nil && b.op != nil && a.op.Index < b.op.Index
	})
	return groups, nil
}

// partyInfo gathers what a group's files reveal of the delegation, each
// value with the file that said it first.
type partyInfo struct {
	staker            *script.XOnlyKey
	fps               []script.XOnlyKey
	stakingTime       uint16
	stakerFrom        string
	fpsFrom, timeFrom string
}

func (pi *partyInfo) setStaker(x script.XOnlyKey, from string) error {
	if pi.staker != nil && *pi.staker != x {
		return fmt.Errorf("%w: %s says the staker is %s, %s says %s", ErrPSBTDir, pi.stakerFrom, *pi.staker, from, x)
	}
	if pi.staker == nil {
		pi.staker, pi.stakerFrom = &x, from
	}
	return nil
}

func (pi *partyInfo) setFPs(xs []script.XOnlyKey, from string) error {
	s := append([]script.XOnlyKey(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return bytes.Compare(s[i][:], s[j][:]) < 0 })
	if pi.fps != nil {
		same := len(pi.fps) == len(s)
		for i := 0; same && i < len(s); i++ {
			same = pi.fps[i] == s[i]
		}
		if !same {
			return fmt.Errorf("%w: %s and %s name different finality providers", ErrPSBTDir, pi.fpsFrom, from)
		}
		return nil
	}
	pi.fps, pi.fpsFrom = s, from
	return nil
}

func (pi *partyInfo) setTime(t uint16, from string) error {
	if pi.stakingTime != 0 && pi.stakingTime != t {
		return fmt.Errorf("%w: %s says the staking time is %d blocks, %s says %d", ErrPSBTDir, pi.timeFrom, pi.stakingTime, from, t)
	}
	if pi.stakingTime == 0 {
		pi.stakingTime, pi.timeFrom = t, from
	}
	return nil
}

func (pi *partyInfo) leaf(l *script.Leaf, from string) error {
	if l == nil {
		return nil
	}
	if err := pi.setStaker(l.Staker, from); err != nil {
		return err
	}
	switch l.Kind {
	case script.SlashingPath:
		return pi.setFPs(l.FinalityProviders, from)
	case script.TimelockPath:
		return pi.setTime(l.Timelock, from)
	}
	return nil
}

// tapTreeLeaves parses a BIP-371 PSBT_OUT_TAP_TREE value: per leaf, its
// depth, leaf version and script (compact-size prefixed). nil when it is
// malformed or holds a leaf that is not a staking leaf.
func tapTreeLeaves(tree []byte) []*script.Leaf {
	r := bytes.NewReader(tree)
	var out []*script.Leaf
	for r.Len() > 0 {
		if _, err := r.ReadByte(); err != nil { // depth
			return nil
		}
		if _, err := r.ReadByte(); err != nil { // leaf version
			return nil
		}
		n, err := wire.ReadVarInt(r, 0)
		if err != nil || n > uint64(r.Len()) {
			return nil
		}
		s := make([]byte, n)
		if _, err := r.Read(s); err != nil && n > 0 {
			return nil
		}
		l, err := script.ParseLeafScript(s)
		if err != nil {
			return nil
		}
		out = append(out, l)
	}
	return out
}

// parties works out the delegation's keys and staking time from every
// file of the group.
func (g *dirGroup) parties() (*partyInfo, error) {
	pi := &partyInfo{}
	st := g.staking[0]
	// The staking transaction: its staking outputs' taproot trees (the
	// output spent, when something spends one), a phase-1 OP_RETURN.
	for _, f := range g.staking {
		if f.pkt == nil {
			continue
		}
		for i, o := range f.pkt.Outputs {
			if g.op != nil && uint32(i) != g.op.Index || g.op == nil && f.a.Outputs[i].Role != psbt.RoleStaking {
				continue
			}
			for _, l := range tapTreeLeaves(o.TaprootTapTree) {
				if err := pi.leaf(l, f.name); err != nil {
					return nil, err
				}
			}
		}
	}
	var data []*script.V0StakingData
	for _, o := range st.tx.TxOut {
		if d, err := script.ParseV0StakingData(o.PkScript); err == nil {
			data = append(data, d)
		}
	}
	if len(data) == 1 {
		d := data[0]
		if err := pi.setStaker(d.Staker, st.name+" (phase-1 data)"); err != nil {
			return nil, err
		}
		if err := pi.setFPs([]script.XOnlyKey{d.FinalityProvider}, st.name+" (phase-1 data)"); err != nil {
			return nil, err
		}
		if err := pi.setTime(d.StakingTime, st.name+" (phase-1 data)"); err != nil {
			return nil, err
		}
	}
	// The leaves the spending files reveal, and the staking time their
	// control blocks give away.
	for _, fs := range [][]*dirFile{g.unbonding, g.slashing, g.unbondingSlashing} {
		for _, f := range fs {
			if len(f.a.Inputs) == 0 {
				continue
			}
			in := f.a.Inputs[0]
			if err := pi.leaf(in.Leaf, f.name); err != nil {
				return nil, err
			}
			if in.SpentOutput == script.StakingOutputKind && in.StakingTime != 0 {
				if err := pi.setTime(in.StakingTime, f.name); err != nil {
					return nil, err
				}
			}
		}
	}
	switch {
	case pi.staker == nil || pi.fps == nil:
		return nil, fmt.Errorf("%w: no file tells the finality providers of the delegation: give its slashing PSBT, or the staking PSBT with its taproot tree (as btcstake stake writes it)", ErrPSBTDir)
	case pi.stakingTime == 0:
		return nil, fmt.Errorf("%w: no file tells the staking time of the delegation: give the staking PSBT with its taproot tree (as btcstake stake writes it), or its unbonding or slashing PSBT", ErrPSBTDir)
	}
	return pi, nil
}

// entry makes the group's entry.
func (g *dirGroup) entry(versions *params.Versions) (*Entry, error) {
	st := g.staking[0]
	for _, f := range g.staking {
		if f.pkt != nil && !f.a.TxidFinal {
			return nil, fmt.Errorf("%w: %s: the transaction's txid changes when it is signed (an input that is not segwit); give the signed staking transaction as a .tx file",
				ErrPSBTDir, f.name)
		}
		if f.pkt == nil {
			st = f // a signed transaction beats an unsigned one
		}
	}
	pi, err := g.parties()
	if err != nil {
		return nil, err
	}
	c := EntryConfig{Source: SourcePSBTDir, StakingTx: st.tx, StakingTime: pi.stakingTime}
	if c.Staker, err = pi.staker.PubKey(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPSBTDir, err)
	}
	for _, x := range pi.fps {
		k, err := x.PubKey()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPSBTDir, err)
		}
		c.FPs = append(c.FPs, k)
	}
	if len(g.unbonding) > 0 {
		c.UnbondingTx = g.unbonding[0].tx
	}
	for _, r := range []struct {
		fs  []*dirFile
		dst **btcpsbt.Packet
	}{{g.slashing, &c.Slashing}, {g.unbondingSlashing, &c.UnbondingSlashing}} {
		if len(r.fs) == 0 {
			continue
		}
		var pkts []*btcpsbt.Packet
		for _, f := range r.fs {
			pkts = append(pkts, f.pkt)
		}
		p, err := psbt.Combine(pkts...)
		if err != nil {
			return nil, fmt.Errorf("%w: combining %s: %v", ErrPSBTDir, names(r.fs), err)
		}
		*r.dst = p
	}
	check := func(e *Entry) error {
		if g.op != nil && e.StakingOutPoint() != *g.op {
			return fmt.Errorf("%w: the delegation's staking output is %s, the files spend %s", ErrPSBTDir, e.StakingOutPoint(), *g.op)
		}
		return nil
	}
	return buildUnder(versions, versionChoice{}, c, nil, check)
}

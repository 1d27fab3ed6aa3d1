package watch

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// The ways to make entries besides NewEntry: a watch list (ParseWatchList,
// LoadWatchList), a registration (FromRegistration, ParseRegistration,
// LoadRegistration; registration.go), a directory of lifecycle PSBTs
// (FromPSBTDir; psbtdir.go) and a phase-1 staking transaction
// (FromPhaseOne).
//
// Which params version a delegation is built under. Babylon picks the
// version in force at a Bitcoin height (the staking transaction's
// inclusion height, or its tip when the delegation is registered before
// staking; docs/spec.md §8.3), and a registration records the number it
// got. A constructor here takes, in this order:
//
//  1. a stated version number (a watch-list entry's params_version, the
//     params_version `btcstake register --json` prints):
//     versions.ByNumber;
//  2. a stated Bitcoin height (a watch-list entry's staking_height, a
//     phase-1 transaction's block): versions.At(height);
//  3. otherwise the newest version under which the delegation holds
//     together: each version is tried from the newest to the oldest, and
//     the first whose staking output the staking transaction pays and
//     under which every pre-signed transaction given checks (NewEntry) is
//     taken. When the staking output matches under some versions but the
//     rest fails under each of them, the error lists each one's failure,
//     newest first. Versions that share the covenant committee and
//     differ elsewhere (the unbonding time, the slashing values) cannot
//     be told apart by a bare staking transaction: give params_version or
//     staking_height for those, or the pre-signed transactions, which
//     pin the rest.
//
// Lock-only (phase-1) versions carry no slashing values and never make an
// entry. The entry's confirmation depth is the version's Babylon
// confirmation_depth when it has one.

// Error kinds of the constructors (errors.Is); an entry that does not hold
// together is ErrInvalidEntry.
var (
	// ErrInvalidWatchList: the watch list is not a document of the
	// format ParseWatchList describes (bad JSON, a key given twice, an
	// unknown or missing field, two items for one delegation).
	ErrInvalidWatchList = errors.New("invalid watch list")
	// ErrInvalidFile: a file cannot be read as what it should hold: not a
	// regular file, larger than its bound, or not in any accepted
	// encoding.
	ErrInvalidFile = errors.New("unreadable input file")
	// ErrPSBTDir: the files of a PSBT directory do not make delegations:
	// a slashing or unbonding PSBT whose staking transaction is absent,
	// two different transactions for one role, a file of no role, a
	// delegation whose keys or staking time no file tells.
	ErrPSBTDir = errors.New("PSBT directory does not make delegations")
	// ErrNoParamsVersion: no params version fits: the stated one does not
	// exist or is lock-only, or the staking transaction pays the staking
	// output of the delegation under none of them.
	ErrNoParamsVersion = errors.New("no params version fits the delegation")
)

// Bounds of what the constructors read.
const (
	// MaxWatchListSize bounds a watch list.
	MaxWatchListSize = 32 << 20
	// MaxInputFileSize bounds a registration, PSBT or transaction file.
	MaxInputFileSize = 1 << 20
	// MaxPSBTDirFiles bounds the *.psbt and *.tx files of a PSBT
	// directory.
	MaxPSBTDirFiles = 10_000
)

// readFileBounded reads a regular file of at most max bytes through the
// project's one bounded reader (internal/inputfile), its errors under
// ErrInvalidFile. With followLinks false, a symbolic link is refused like
// any other non-regular file (a directory scan names only what it finds);
// with it true, the named path may be a link to a regular file.
func readFileBounded(path string, max int64, followLinks bool) ([]byte, error) {
	b, err := inputfile.Read(path, inputfile.Options{Max: max, NoFollow: !followLinks})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	return b, nil
}

// versionChoice is how a constructor was told the params version (nil:
// not told).
type versionChoice struct {
	number, height *uint32
}

// describeVersion names a version in errors.
func describeVersion(v *params.Version) string {
	if v.NumberKnown() {
		return fmt.Sprintf("params version %d (from height %d)", v.Number(), v.ActivationHeight())
	}
	return fmt.Sprintf("the params version from height %d", v.ActivationHeight())
}

// checkParties refuses what NewEntry would refuse before it needs params,
// so that the version search reports it once and plainly.
func checkParties(c *EntryConfig) error {
	switch {
	case c.StakingTx == nil:
		return fmt.Errorf("%w: no staking transaction", ErrInvalidEntry)
	case c.Staker == nil:
		return fmt.Errorf("%w: no staker key", ErrInvalidEntry)
	case len(c.FPs) == 0:
		return fmt.Errorf("%w: no finality provider key", ErrInvalidEntry)
	}
	for i, k := range c.FPs {
		if k == nil {
			return fmt.Errorf("%w: finality provider key %d is nil", ErrInvalidEntry, i)
		}
	}
	return nil
}

// buildUnder makes the entry base describes under the params version the
// rule above picks. finish, when given, completes the config under the
// candidate version's params (building pre-signed PSBTs, say); check,
// when given, is a last test of the entry made (values a message states).
func buildUnder(versions *params.Versions, choice versionChoice, base EntryConfig, finish func(*EntryConfig) error, check func(*Entry) error) (*Entry, error) {
	if versions == nil || versions.Len() == 0 {
		return nil, fmt.Errorf("%w: no params versions given", ErrNoParamsVersion)
	}
	if err := checkParties(&base); err != nil {
		return nil, err
	}
	var cands []*params.Version
	explicit := true
	switch {
	case choice.number != nil && choice.height != nil:
		return nil, fmt.Errorf("%w: give a params version or a staking height, not both", ErrNoParamsVersion)
	case choice.number != nil:
		v, err := versions.ByNumber(*choice.number)
		if err != nil {
			return nil, fmt.Errorf("%w: params version %d: %w", ErrNoParamsVersion, *choice.number, err)
		}
		cands = []*params.Version{v}
	case choice.height != nil:
		v, err := versions.At(*choice.height)
		if err != nil {
			return nil, fmt.Errorf("%w: at height %d: %w", ErrNoParamsVersion, *choice.height, err)
		}
		cands = []*params.Version{v}
	default:
		explicit = false
		all := versions.All()
		for i := len(all) - 1; i >= 0; i-- {
			cands = append(cands, all[i])
		}
	}
	txid := base.StakingTx.TxHash()
	var fails []error
	for _, v := range cands {
		p, err := v.StakingParams()
		if err != nil {
			if explicit {
				return nil, fmt.Errorf("%w: %s: %w", ErrNoParamsVersion, describeVersion(v), err)
			}
			continue
		}
		c := base
		c.Params = p
		c.FPs = append([]*btcec.PublicKey(nil), base.FPs...)
		if c.ConfirmationDepth == 0 {
			c.ConfirmationDepth = v.Babylon().ConfirmationDepth
		}
		d := psbt.Delegation{Params: p, Staker: c.Staker, FinalityProviders: c.FPs, StakingTime: c.StakingTime}
		if _, err := psbt.ValidateStakingTx(c.StakingTx, d); err != nil {
			if explicit {
				return nil, fmt.Errorf("%w: under %s, staking transaction %s: %w", ErrInvalidEntry, describeVersion(v), txid, err)
			}
			continue
		}
		e, err := func() (*Entry, error) {
			if finish != nil {
				if err := finish(&c); err != nil {
					return nil, err
				}
			}
			e, err := NewEntry(c)
			if err != nil {
				return nil, err
			}
			if check != nil {
				if err := check(e); err != nil {
					return nil, err
				}
			}
			return e, nil
		}()
		if err == nil {
			if choice.height != nil {
				e.stated = int64(*choice.height) + 1
			}
			return e, nil
		}
		if explicit {
			return nil, fmt.Errorf("under %s: %w", describeVersion(v), err)
		}
		fails = append(fails, fmt.Errorf("under %s: %w", describeVersion(v), err))
	}
	if len(fails) > 0 {
		// Every version whose staking output matched, newest first: the
		// newest is the likeliest, and an older one may name the real
		// fault (a fee off by one rather than another unbonding time).
		format := "the staking transaction pays the staking output under %d params version(s), and the delegation holds together under none: " +
			strings.TrimSuffix(strings.Repeat("%w; ", len(fails)), "; ")
		args := []any{len(fails)}
		for _, f := range fails {
			args = append(args, f)
		}
		return nil, fmt.Errorf(format, args...)
	}
	return nil, fmt.Errorf("%w: staking transaction %s pays the delegation's staking output under none of the %d params versions",
		ErrNoParamsVersion, txid, len(cands))
}

// FromPhaseOne makes the entry of a phase-1 staking transaction included
// at Bitcoin height (or seen in the mempool with height the tip's next):
// the version is versions.At(height), and the delegation is the one the
// transaction's OP_RETURN describes (psbt.PhaseOneDelegation: its tag and
// covenant committee must be the version's). The staked value and time
// must be within that version's ranges (NewEntry).
func FromPhaseOne(tx *wire.MsgTx, height uint32, versions *params.Versions) (*Entry, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: no staking transaction", ErrInvalidEntry)
	}
	if versions == nil || versions.Len() == 0 {
		return nil, fmt.Errorf("%w: no params versions given", ErrNoParamsVersion)
	}
	v, err := versions.At(height)
	if err != nil {
		return nil, fmt.Errorf("%w: at height %d: %w", ErrNoParamsVersion, height, err)
	}
	p, err := v.StakingParams()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoParamsVersion, describeVersion(v), err)
	}
	d, err := psbt.PhaseOneDelegation(tx, p)
	if err != nil {
		return nil, fmt.Errorf("%w: transaction %s under %s: %w", ErrInvalidEntry, tx.TxHash(), describeVersion(v), err)
	}
	e, err := NewEntry(EntryConfig{Source: SourcePhaseOne, Params: p, Staker: d.Staker, FPs: d.FinalityProviders,
		StakingTime: d.StakingTime, StakingTx: tx, ConfirmationDepth: v.Babylon().ConfirmationDepth})
	if err != nil {
		return nil, err
	}
	e.stated = int64(height) + 1
	return e, nil
}

// watchListJSON is the watch list document.
type watchListJSON struct {
	Entries []watchItemJSON `json:"entries"`
}

// watchItemJSON is one item; which fields are present decides its form.
type watchItemJSON struct {
	StakingTx             *string  `json:"staking_tx"`
	StakerPK              *string  `json:"staker_pk"`
	FPs                   []string `json:"finality_providers"`
	StakingTime           *int64   `json:"staking_time"`
	ParamsVersion         *uint32  `json:"params_version"`
	StakingHeight         *uint32  `json:"staking_height"`
	UnbondingTx           *string  `json:"unbonding_tx"`
	SlashingPSBT          *string  `json:"slashing_psbt"`
	UnbondingSlashingPSBT *string  `json:"unbonding_slashing_psbt"`
	Registration          *string  `json:"registration"`
	PSBTDir               *string  `json:"psbt_dir"`
}

// ParseWatchList reads a watch list: the delegations `btcstake watch`
// follows. It is one JSON object, UTF-8, at most MaxWatchListSize bytes:
//
//	{
//	  "entries": [
//	    {
//	      "staking_tx": "<hex>",               the staking transaction (signed or not: its txid)
//	      "staker_pk": "<hex>",                x-only (32 bytes) or compressed (33)
//	      "finality_providers": ["<hex>"],     one or more, same encodings
//	      "staking_time": 64000,               blocks
//	      "params_version": 4,                 optional: the params version number
//	      "staking_height": 870000,            optional, instead: a height whose version applies
//	      "unbonding_tx": "<hex>",             optional
//	      "slashing_psbt": "<base64>",         optional: staker-signed, with adaptor signatures
//	      "unbonding_slashing_psbt": "<base64>" optional, needs unbonding_tx
//	    },
//	    {"registration": "alice/register.json", "params_version": 4},
//	    {"psbt_dir": "bob/"}
//	  ]
//	}
//
// An item is one of three forms, told by its keys: a staking
// transaction with the keys above; {"registration": PATH}, a file that
// `btcstake register` wrote (ParseRegistration), optionally with
// params_version or staking_height when the file does not say; or
// {"psbt_dir": PATH}, a directory of lifecycle PSBTs (FromPSBTDir), which
// may make several entries. Relative paths are taken from the current
// directory (LoadWatchList takes them from the list's own directory).
//
// The params version of each delegation is chosen as the package
// documents (ingest.go): params_version, else staking_height, else the
// newest version under which the delegation holds together.
//
// Everything is checked before anything is returned: unknown keys, a key
// given twice (named with its path, entries[2].staking_tx), data after
// the object, a missing field, keys of two forms in one item, and two
// items for the same delegation (staking output) are ErrInvalidWatchList;
// an entry that does not hold together is ErrInvalidEntry; each error
// names the item.
func ParseWatchList(b []byte, versions *params.Versions) ([]*Entry, error) {
	return parseWatchList(b, "", versions)
}

// LoadWatchList reads the watch list file at path (a regular file of at
// most MaxWatchListSize bytes) and parses it as ParseWatchList does, with
// relative registration and psbt_dir paths taken from the list file's
// directory.
func LoadWatchList(path string, versions *params.Versions) ([]*Entry, error) {
	b, err := readFileBounded(path, MaxWatchListSize, true)
	if err != nil {
		return nil, err
	}
	return parseWatchList(b, filepath.Dir(path), versions)
}

func parseWatchList(b []byte, base string, versions *params.Versions) ([]*Entry, error) {
	if len(b) > MaxWatchListSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidWatchList, len(b), MaxWatchListSize)
	}
	if err := strictjson.Check(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWatchList, err)
	}
	var doc watchListJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWatchList, err)
	}
	if doc.Entries == nil {
		return nil, fmt.Errorf("%w: no \"entries\" list", ErrInvalidWatchList)
	}
	var out []*Entry
	where := map[string]string{} // delegation ID -> the item that made it
	for i, it := range doc.Entries {
		name := fmt.Sprintf("entries[%d]", i)
		es, err := it.entries(name, base, versions)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, e := range es {
			if prev, dup := where[e.ID()]; dup {
				return nil, fmt.Errorf("%w: %s and %s are both delegation %s", ErrInvalidWatchList, prev, name, e.ID())
			}
			where[e.ID()] = name
			out = append(out, e)
		}
	}
	return out, nil
}

// entries makes the item's entries.
func (it *watchItemJSON) entries(name, base string, versions *params.Versions) ([]*Entry, error) {
	resolve := func(p string) string {
		if base == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	delegationKeys := it.StakerPK != nil || it.FPs != nil || it.StakingTime != nil || it.UnbondingTx != nil ||
		it.SlashingPSBT != nil || it.UnbondingSlashingPSBT != nil
	forms := 0
	for _, set := range []bool{it.StakingTx != nil, it.Registration != nil, it.PSBTDir != nil} {
		if set {
			forms++
		}
	}
	switch {
	case forms != 1:
		return nil, fmt.Errorf("%w: an item has exactly one of staking_tx, registration and psbt_dir", ErrInvalidWatchList)
	case it.PSBTDir != nil:
		if delegationKeys || it.ParamsVersion != nil || it.StakingHeight != nil {
			return nil, fmt.Errorf("%w: a psbt_dir item has no other keys", ErrInvalidWatchList)
		}
		if *it.PSBTDir == "" {
			return nil, fmt.Errorf("%w: psbt_dir is empty", ErrInvalidWatchList)
		}
		return FromPSBTDir(resolve(*it.PSBTDir), versions)
	case it.Registration != nil:
		if delegationKeys {
			return nil, fmt.Errorf("%w: a registration item takes only params_version or staking_height besides the path", ErrInvalidWatchList)
		}
		if *it.Registration == "" {
			return nil, fmt.Errorf("%w: registration is empty", ErrInvalidWatchList)
		}
		e, err := loadRegistration(resolve(*it.Registration), versions, versionChoice{number: it.ParamsVersion, height: it.StakingHeight})
		if err != nil {
			return nil, err
		}
		return []*Entry{e}, nil
	}
	if it.ParamsVersion != nil && it.StakingHeight != nil {
		return nil, fmt.Errorf("%w: give params_version or staking_height, not both", ErrInvalidWatchList)
	}
	c := EntryConfig{Source: SourceStakingTx}
	var err error
	for _, f := range []struct {
		key string
		ok  bool
	}{{"staker_pk", it.StakerPK != nil}, {"finality_providers", len(it.FPs) > 0}, {"staking_time", it.StakingTime != nil}} {
		if !f.ok {
			return nil, fmt.Errorf("%w: %s is required with staking_tx", ErrInvalidWatchList, f.key)
		}
	}
	if c.StakingTx, err = parseTxHex(*it.StakingTx); err != nil {
		return nil, fmt.Errorf("%w: staking_tx: %v", ErrInvalidWatchList, err)
	}
	if c.Staker, err = parseKeyHex(*it.StakerPK); err != nil {
		return nil, fmt.Errorf("%w: staker_pk: %v", ErrInvalidWatchList, err)
	}
	for i, s := range it.FPs {
		k, err := parseKeyHex(s)
		if err != nil {
			return nil, fmt.Errorf("%w: finality_providers[%d]: %v", ErrInvalidWatchList, i, err)
		}
		c.FPs = append(c.FPs, k)
	}
	st, err := script.CheckTimelock("staking_time", *it.StakingTime)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidWatchList, err)
	}
	c.StakingTime = st
	if it.UnbondingTx != nil {
		if c.UnbondingTx, err = parseTxHex(*it.UnbondingTx); err != nil {
			return nil, fmt.Errorf("%w: unbonding_tx: %v", ErrInvalidWatchList, err)
		}
	}
	for _, f := range []struct {
		key string
		src *string
		dst **btcpsbt.Packet
	}{{"slashing_psbt", it.SlashingPSBT, &c.Slashing}, {"unbonding_slashing_psbt", it.UnbondingSlashingPSBT, &c.UnbondingSlashing}} {
		if f.src == nil {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(*f.src)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: not base64", ErrInvalidWatchList, f.key)
		}
		if *f.dst, err = psbt.Decode(raw); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidWatchList, f.key, err)
		}
	}
	e, err := buildUnder(versions, versionChoice{number: it.ParamsVersion, height: it.StakingHeight}, c, nil, nil)
	if err != nil {
		return nil, err
	}
	return []*Entry{e}, nil
}

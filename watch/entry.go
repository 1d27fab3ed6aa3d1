package watch

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// Error kinds (errors.Is).
var (
	// ErrInvalidEntry: a watched delegation that does not hold together
	// (a staking transaction that does not pay the delegation's staking
	// output, a missing key, a pre-signed transaction of another
	// delegation).
	ErrInvalidEntry = errors.New("invalid watch entry")
)

// Sources of an Entry, as StakeView.Source and the store spell them.
const (
	SourceStakingTx    = "staking_tx"
	SourceRegistration = "registration"
	SourcePSBTDir      = "psbt_dir"
	SourcePhaseOne     = "phase1"
)

// DefaultConfirmationDepth is the depth staking_deep waits for when the
// params version does not carry Babylon's confirmation_depth.
const DefaultConfirmationDepth = 6

// EntryConfig is what NewEntry needs: a delegation and its staking
// transaction, and optionally its pre-signed transactions.
type EntryConfig struct {
	Source      string
	Params      *params.Params
	Staker      *btcec.PublicKey
	FPs         []*btcec.PublicKey
	StakingTime uint16
	StakingTx   *wire.MsgTx
	// ConfirmationDepth is the depth staking_deep waits for (0:
	// DefaultConfirmationDepth).
	ConfirmationDepth uint32
	// Optional: the unbonding transaction, and the slashing PSBTs of the
	// staking and of the unbonding output (staker-signed, with the
	// covenant's adaptor signatures when known).
	UnbondingTx       *wire.MsgTx
	Slashing          *btcpsbt.Packet
	UnbondingSlashing *btcpsbt.Packet
}

// Entry is a validated watched delegation. It is immutable: made only by
// NewEntry (or the constructors built on it) and UnmarshalJSON; accessors
// return copies.
type Entry struct {
	source            string
	p                 *params.Params
	d                 psbt.Delegation
	stakingTx         *wire.MsgTx
	index             uint32
	depth             uint32
	unbondingTx       *wire.MsgTx
	slashing          *btcpsbt.Packet
	unbondingSlashing *btcpsbt.Packet
	// stated is the Bitcoin height the entry's source stated, plus one
	// (0: none); not stored (StatedHeight).
	stated int64
}

// NewEntry validates c and copies what it keeps (the caller's values are
// never shared). Every refusal wraps ErrInvalidEntry:
//
//  1. valid params, a staking transaction, the staker's key, at least one
//     finality provider key, a known source;
//  2. the staking transaction pays the delegation's staking output exactly
//     once, with a value and time the params allow
//     (psbt.ValidateStakingTx);
//  3. the optional unbonding transaction is the delegation's
//     (psbt.ValidateUnbondingTx: its one input the staking output, its
//     one output the unbonding output, the fee exactly the params');
//  4. each optional slashing PSBT is a slashing of its output, the
//     staking output or the unbonding transaction's output 0 (which
//     therefore needs the unbonding transaction), as
//     Entry.checkSlashingPacket details: a valid slashing transaction of
//     that outpoint, input 0 describing that output and its slashing
//     leaf, every signature it carries valid, its adaptor-signature
//     fields well formed.
func NewEntry(c EntryConfig) (*Entry, error) {
	if c.Params == nil || !c.Params.Valid() {
		return nil, fmt.Errorf("%w: no params", ErrInvalidEntry)
	}
	if c.StakingTx == nil {
		return nil, fmt.Errorf("%w: no staking transaction", ErrInvalidEntry)
	}
	if c.Staker == nil {
		return nil, fmt.Errorf("%w: no staker key", ErrInvalidEntry)
	}
	if len(c.FPs) == 0 {
		return nil, fmt.Errorf("%w: no finality provider key", ErrInvalidEntry)
	}
	for i, k := range c.FPs {
		if k == nil {
			return nil, fmt.Errorf("%w: finality provider key %d is nil", ErrInvalidEntry, i)
		}
	}
	switch c.Source {
	case SourceStakingTx, SourceRegistration, SourcePSBTDir, SourcePhaseOne:
	default:
		return nil, fmt.Errorf("%w: unknown source %q", ErrInvalidEntry, c.Source)
	}
	e := &Entry{source: c.Source, p: c.Params, depth: c.ConfirmationDepth, stakingTx: c.StakingTx.Copy()}
	if e.depth == 0 {
		e.depth = DefaultConfirmationDepth
	}
	e.d = psbt.Delegation{Params: c.Params, Staker: c.Staker, FinalityProviders: append([]*btcec.PublicKey(nil), c.FPs...), StakingTime: c.StakingTime}
	idx, err := psbt.ValidateStakingTx(e.stakingTx, e.d)
	if err != nil {
		return nil, fmt.Errorf("%w: staking transaction %s: %w", ErrInvalidEntry, e.stakingTx.TxHash(), err)
	}
	e.index = idx
	if c.UnbondingTx != nil {
		// psbt.ValidateUnbondingTx: one input, the staking output; one
		// output, the unbonding output, worth the stake less exactly the
		// unbonding fee.
		if err := psbt.ValidateUnbondingTx(c.UnbondingTx, e.stakingTx, e.d); err != nil {
			return nil, fmt.Errorf("%w: the unbonding transaction %s is not this delegation's: %w", ErrInvalidEntry, c.UnbondingTx.TxHash(), err)
		}
		e.unbondingTx = c.UnbondingTx.Copy()
	}
	if c.UnbondingSlashing != nil && e.unbondingTx == nil {
		return nil, fmt.Errorf("%w: a slashing PSBT of the unbonding output needs the unbonding transaction", ErrInvalidEntry)
	}
	for _, s := range []struct {
		from script.OutputKind
		src  *btcpsbt.Packet
		dst  **btcpsbt.Packet
	}{{script.StakingOutputKind, c.Slashing, &e.slashing}, {script.UnbondingOutputKind, c.UnbondingSlashing, &e.unbondingSlashing}} {
		if s.src == nil {
			continue
		}
		cp, err := copyPacket(s.src)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
		}
		if err := e.checkSlashingPacket(cp, s.from); err != nil {
			return nil, fmt.Errorf("%w: the slashing PSBT of the %s output: %w", ErrInvalidEntry, psbt.OutputWords(s.from), err)
		}
		*s.dst = cp
	}
	return e, nil
}

// funding is the output a slashing transaction from that output spends:
// the staking output, or output 0 of the unbonding transaction (nil
// Funding.Tx when the entry has none).
func (e *Entry) funding(from script.OutputKind) psbt.Funding {
	if from == script.UnbondingOutputKind {
		return psbt.Funding{Tx: e.unbondingTx, Index: 0}
	}
	return psbt.Funding{Tx: e.stakingTx, Index: e.index}
}

// checkSlashingPacket checks a slashing PSBT against the entry's output
// from (the staking or the unbonding output):
//
//  1. its unsigned transaction is a valid slashing transaction of that
//     output (psbt.ValidateSlashingTx: spends exactly that outpoint, pays
//     the slashing script and the slashing change output as the params
//     say);
//  2. input 0 records the spent output (witness_utxo equal to it) and
//     reveals that output's own slashing leaf and control block
//     (psbt.CheckCovenantSigning, the check a covenant member runs before
//     it adaptor-signs);
//  3. every tap_script_sig it carries verifies (psbt.VerifyTapscriptSigs),
//     and its adaptor-signature fields are well formed (psbt.AdaptorSigs;
//     whether each verifies is CompleteSlashing's business, which reports
//     the invalid ones).
func (e *Entry) checkSlashingPacket(p *btcpsbt.Packet, from script.OutputKind) error {
	f := e.funding(from)
	if p.UnsignedTx == nil || len(p.Inputs) != 1 || len(p.UnsignedTx.TxIn) != 1 {
		return fmt.Errorf("%w: a slashing PSBT has exactly one input", psbt.ErrInvalidPSBT)
	}
	if err := psbt.ValidateSlashingTx(p.UnsignedTx, f.Tx, f.Index, from, e.d); err != nil {
		return err
	}
	want := f.Tx.TxOut[f.Index]
	if u := p.Inputs[0].WitnessUtxo; u == nil || u.Value != want.Value || !bytes.Equal(u.PkScript, want.PkScript) {
		return fmt.Errorf("%w: input 0's witness_utxo is not the %s output", psbt.ErrInvalidPSBT, psbt.OutputWords(from))
	}
	if err := psbt.CheckCovenantSigning(p, 0, e.d); err != nil {
		return err
	}
	if _, err := psbt.VerifyTapscriptSigs(p); err != nil {
		return err
	}
	if _, err := psbt.AdaptorSigs(p, 0); err != nil {
		return err
	}
	return nil
}

func copyPacket(p *btcpsbt.Packet) (*btcpsbt.Packet, error) {
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("a slashing PSBT cannot be serialised: %w", err)
	}
	return btcpsbt.NewFromRawBytes(&buf, false)
}

// ID is the delegation's id: its staking output, "txid:vout".
func (e *Entry) ID() string { return e.StakingOutPoint().String() }

// StatedHeight is the Bitcoin height the entry's source stated for its
// staking transaction, ok false when none did: a watch-list item's
// staking_height (--btc-height for `btcstake watch --staking-tx`), the
// block of a phase-1 staking transaction (FromPhaseOne). It is what chose
// the params version, and where the staking transaction should be looked
// for (Watcher.AddFrom): at or below its block. It is not stored: an entry
// read back from a store has none.
func (e *Entry) StatedHeight() (height int64, ok bool) {
	return e.stated - 1, e.stated > 0
}

// Source says how the entry was made (Source* constants).
func (e *Entry) Source() string { return e.source }

// Params are the params the delegation's outputs are built with.
func (e *Entry) Params() *params.Params { return e.p }

// ConfirmationDepth is the depth staking_deep waits for.
func (e *Entry) ConfirmationDepth() uint32 { return e.depth }

// Delegation is the delegation (a copy).
func (e *Entry) Delegation() psbt.Delegation {
	d := e.d
	d.FinalityProviders = append([]*btcec.PublicKey(nil), e.d.FinalityProviders...)
	return d
}

// StakingTx is the staking transaction (a copy).
func (e *Entry) StakingTx() *wire.MsgTx { return e.stakingTx.Copy() }

// StakingOutPoint is the staking output.
func (e *Entry) StakingOutPoint() wire.OutPoint {
	return wire.OutPoint{Hash: e.stakingTx.TxHash(), Index: e.index}
}

// Value is the staked amount in satoshis.
func (e *Entry) Value() int64 { return e.stakingTx.TxOut[e.index].Value }

// UnbondingTx is the unbonding transaction when the entry has it (a copy),
// else nil.
func (e *Entry) UnbondingTx() *wire.MsgTx {
	if e.unbondingTx == nil {
		return nil
	}
	return e.unbondingTx.Copy()
}

// SlashingPSBT is the pre-signed slashing PSBT of the staking output
// (from == script.StakingOutputKind) or of the unbonding output, a copy;
// nil when the entry does not have it.
func (e *Entry) SlashingPSBT(from script.OutputKind) *btcpsbt.Packet {
	p := e.slashing
	if from == script.UnbondingOutputKind {
		p = e.unbondingSlashing
	}
	if p == nil {
		return nil
	}
	cp, err := copyPacket(p)
	if err != nil {
		return nil // it serialised when the entry was made
	}
	return cp
}

// entryJSON is how the store keeps an Entry.
type entryJSON struct {
	Source            string          `json:"source"`
	Params            json.RawMessage `json:"params"`
	ConfirmationDepth uint32          `json:"confirmation_depth"`
	StakerPK          string          `json:"staker_pk"`
	FPs               []string        `json:"finality_providers"`
	StakingTime       uint16          `json:"staking_time"`
	StakingTx         string          `json:"staking_tx"`
	UnbondingTx       string          `json:"unbonding_tx,omitempty"`
	Slashing          []byte          `json:"slashing_psbt,omitempty"`
	UnbondingSlashing []byte          `json:"unbonding_slashing_psbt,omitempty"`
}

// MarshalJSON encodes the entry as the store keeps it.
func (e *Entry) MarshalJSON() ([]byte, error) {
	pj, err := e.p.MarshalJSON()
	if err != nil {
		return nil, err
	}
	j := entryJSON{Source: e.source, Params: pj, ConfirmationDepth: e.depth, StakerPK: hex.EncodeToString(e.d.Staker.SerializeCompressed()),
		StakingTime: e.d.StakingTime, StakingTx: txHex(e.stakingTx)}
	for _, k := range e.d.FinalityProviders {
		j.FPs = append(j.FPs, hex.EncodeToString(k.SerializeCompressed()))
	}
	if e.unbondingTx != nil {
		j.UnbondingTx = txHex(e.unbondingTx)
	}
	for _, s := range []struct {
		src *btcpsbt.Packet
		dst *[]byte
	}{{e.slashing, &j.Slashing}, {e.unbondingSlashing, &j.UnbondingSlashing}} {
		if s.src == nil {
			continue
		}
		var buf bytes.Buffer
		if err := s.src.Serialize(&buf); err != nil {
			return nil, err
		}
		*s.dst = buf.Bytes()
	}
	return json.Marshal(j)
}

// MaxEntrySize bounds an entry's JSON encoding (UnmarshalJSON).
const MaxEntrySize = 1 << 20

// UnmarshalJSON decodes and validates an entry as MarshalJSON wrote it
// (NewEntry's checks). It refuses, wrapping ErrInvalidEntry, a document
// larger than MaxEntrySize, unknown fields, a key given twice, and data
// after the object. On error e is unchanged.
func (e *Entry) UnmarshalJSON(b []byte) error {
	if len(b) > MaxEntrySize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidEntry, len(b), MaxEntrySize)
	}
	if err := strictjson.Check(b); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	var j entryJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	p, err := params.Parse(j.Params)
	if err != nil {
		return fmt.Errorf("%w: params: %w", ErrInvalidEntry, err)
	}
	c := EntryConfig{Source: j.Source, Params: p, StakingTime: j.StakingTime, ConfirmationDepth: j.ConfirmationDepth}
	if c.Staker, err = parseKeyHex(j.StakerPK); err != nil {
		return fmt.Errorf("%w: staker_pk: %w", ErrInvalidEntry, err)
	}
	for i, s := range j.FPs {
		k, err := parseKeyHex(s)
		if err != nil {
			return fmt.Errorf("%w: finality_providers[%d]: %w", ErrInvalidEntry, i, err)
		}
		c.FPs = append(c.FPs, k)
	}
	if c.StakingTx, err = parseTxHex(j.StakingTx); err != nil {
		return fmt.Errorf("%w: staking_tx: %w", ErrInvalidEntry, err)
	}
	if j.UnbondingTx != "" {
		if c.UnbondingTx, err = parseTxHex(j.UnbondingTx); err != nil {
			return fmt.Errorf("%w: unbonding_tx: %w", ErrInvalidEntry, err)
		}
	}
	for _, s := range []struct {
		src []byte
		dst **btcpsbt.Packet
	}{{j.Slashing, &c.Slashing}, {j.UnbondingSlashing, &c.UnbondingSlashing}} {
		if len(s.src) == 0 {
			continue
		}
		if *s.dst, err = btcpsbt.NewFromRawBytes(bytes.NewReader(s.src), false); err != nil {
			return fmt.Errorf("%w: slashing PSBT: %v", ErrInvalidEntry, err)
		}
	}
	n, err := NewEntry(c)
	if err != nil {
		return err
	}
	*e = *n
	return nil
}

func txHex(tx *wire.MsgTx) string {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf) // writing to a bytes.Buffer does not fail
	return hex.EncodeToString(buf.Bytes())
}

func parseTxHex(s string) (*wire.MsgTx, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex")
	}
	return parseTxBytes(b)
}

// parseTxBytes decodes a transaction in Bitcoin's serialization, refusing
// bytes left over after it.
func parseTxBytes(b []byte) (*wire.MsgTx, error) {
	tx := new(wire.MsgTx)
	r := bytes.NewReader(b)
	if err := tx.Deserialize(r); err != nil {
		return nil, fmt.Errorf("not a bitcoin transaction: %v", err)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes left over after the transaction", r.Len())
	}
	return tx, nil
}

func parseKeyHex(s string) (*btcec.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not hex")
	}
	return script.ParsePublicKey(b)
}

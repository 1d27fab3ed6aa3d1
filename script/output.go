package script

import (
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Parties are the keys a delegation commits to: the staker, the finality
// providers it delegates to, and the covenant committee with its quorum.
type Parties struct {
	Staker            *btcec.PublicKey
	FinalityProviders []*btcec.PublicKey
	Covenant          []*btcec.PublicKey
	CovenantQuorum    uint32
}

// parties is the validated x-only form of Parties, key lists sorted ascending.
type parties struct {
	staker XOnlyKey
	fps    []XOnlyKey
	cov    []XOnlyKey
	quorum uint32
}

// validate checks every rule of docs/spec.md §1 and §2 once: keys
// present, pairwise distinct across and within roles, quorum in 1..n.
func (p Parties) validate() (*parties, error) {
	if p.Staker == nil {
		return nil, fmt.Errorf("%w: staker key is nil", ErrInvalidKey)
	}
	if len(p.FinalityProviders) == 0 {
		return nil, fmt.Errorf("%w", ErrNoFinalityProvider)
	}
	fps, err := xonlyAll("finality provider", p.FinalityProviders)
	if err != nil {
		return nil, err
	}
	cov, err := xonlyAll("covenant", p.Covenant)
	if err != nil {
		return nil, err
	}
	return newParties(XOnly(p.Staker), fps, cov, p.CovenantQuorum)
}

func newParties(staker XOnlyKey, fps, cov []XOnlyKey, quorum uint32) (*parties, error) {
	if len(fps) == 0 {
		return nil, fmt.Errorf("%w", ErrNoFinalityProvider)
	}
	scov, err := checkCommittee(staker, fps, cov, quorum)
	if err != nil {
		return nil, err
	}
	sfps, err := sortedUnique("finality provider", fps)
	if err != nil {
		return nil, err
	}
	return &parties{staker: staker, fps: sfps, cov: scov, quorum: quorum}, nil
}

// OutputKind names the three outputs of the protocol.
type OutputKind int

const (
	StakingOutputKind OutputKind = iota + 1
	UnbondingOutputKind
	SlashingChangeOutputKind
)

func (k OutputKind) String() string {
	switch k {
	case StakingOutputKind:
		return "staking"
	case UnbondingOutputKind:
		return "unbonding"
	case SlashingChangeOutputKind:
		return "slashing_change"
	}
	return fmt.Sprintf("OutputKind(%d)", int(k))
}

// ParseOutputKind is the inverse of OutputKind.String. The older spelling
// "slashing-change" is accepted on input; output always uses
// "slashing_change", the one spelling in text, JSON and flags.
func ParseOutputKind(s string) (OutputKind, error) {
	for _, k := range []OutputKind{StakingOutputKind, UnbondingOutputKind, SlashingChangeOutputKind} {
		if s == k.String() {
			return k, nil
		}
	}
	if s == "slashing-change" {
		return SlashingChangeOutputKind, nil
	}
	return 0, fmt.Errorf("%w: unknown output kind %q (want staking, unbonding or slashing_change)", ErrInvalidOutputKind, s)
}

// PathKind names a spend path (a leaf of the tap tree).
type PathKind int

const (
	// TimelockPath: the staker alone after a relative time lock.
	TimelockPath PathKind = iota + 1
	// UnbondingPath: the staker with quorum covenant signatures, at once.
	UnbondingPath
	// SlashingPath: staker, one finality provider and quorum covenant
	// signatures, at once.
	SlashingPath
)

func (k PathKind) String() string {
	switch k {
	case TimelockPath:
		return "timelock"
	case UnbondingPath:
		return "unbonding"
	case SlashingPath:
		return "slashing"
	}
	return fmt.Sprintf("PathKind(%d)", int(k))
}

// SpendPath is one leaf of an output with everything a spender reveals.
type SpendPath struct {
	Kind         PathKind
	Script       []byte
	LeafHash     chainhash.Hash
	ControlBlock []byte
	// Timelock is the relative lock (blocks) of a timelock path, which the
	// spending input's nSequence must carry; 0 for the other paths.
	Timelock uint16
}

// Output is one of the protocol's taproot outputs with its spend paths.
type Output struct {
	Kind     OutputKind
	Taproot  *TaprootOutput
	PkScript []byte
	Paths    []SpendPath // in leaf order
	// Timelock is the lock of the output's timelock path: the staking time
	// for a staking output, the unbonding time otherwise.
	Timelock uint16

	p *parties // nil for a slashing change output (staker only)
	s XOnlyKey // staker
}

// NewStakingOutput builds the staking output (docs/spec.md §3):
// leaves [timelock(stakingTime), unbonding, slashing] in the tree
// Branch(Branch(L0, L1), L2) under the NUMS internal key.
func NewStakingOutput(p Parties, stakingTime uint16) (*Output, error) {
	v, err := p.validate()
	if err != nil {
		return nil, err
	}
	return buildStaking(v, stakingTime)
}

func buildStaking(v *parties, stakingTime uint16) (*Output, error) {
	return buildStakingKeyed(v, stakingTime, nil)
}

// outputKey is a staking output's key computed ahead (ScanBlock computes
// the keys of a block's staking transactions together): the Merkle root
// it was computed for, the tweak and Q.
type outputKey struct {
	leaves [3]chainhash.Hash // the leaf hashes the root was computed from
	root   chainhash.Hash
	tweak  [32]byte
	q      XOnlyKey
	odd    bool
}

// buildStakingKeyed is buildStaking with the output key given (when key
// is not nil and matches the tree's root; otherwise it is computed).
func buildStakingKeyed(v *parties, stakingTime uint16, key *outputKey) (*Output, error) {
	if stakingTime == 0 {
		return nil, fmt.Errorf("%w: staking time must be at least 1 block", ErrInvalidTimelock)
	}
	// One backing array for the three scripts keeps allocations down.
	nTL := 34 + len(appendScriptNum(nil, int64(stakingTime))) + 1
	nUB := 34 + multisigLen(len(v.cov), v.quorum)
	nSL := 34 + multisigLen(len(v.fps), 1) + multisigLen(len(v.cov), v.quorum)
	buf := make([]byte, 0, nTL+nUB+nSL)
	buf = timelockScript(buf, v.staker, stakingTime)
	buf = unbondingScript(buf, v.staker, v.cov, v.quorum)
	buf = slashingScript(buf, v.staker, v.fps, v.cov, v.quorum)
	leaves := []TapLeaf{
		{BaseLeafVersion, buf[:nTL:nTL]},
		{BaseLeafVersion, buf[nTL : nTL+nUB : nTL+nUB]},
		{BaseLeafVersion, buf[nTL+nUB:]},
	}
	kinds := []PathKind{TimelockPath, UnbondingPath, SlashingPath}
	return newOutput(StakingOutputKind, v, v.staker, stakingTime, leaves, kinds,
		BranchNode(BranchNode(LeafNode(0), LeafNode(1)), LeafNode(2)), key)
}

// NewUnbondingOutput builds the unbonding output: leaves
// [timelock(unbondingTime), slashing] in the tree Branch(L0, L1).
func NewUnbondingOutput(p Parties, unbondingTime uint16) (*Output, error) {
	v, err := p.validate()
	if err != nil {
		return nil, err
	}
	if unbondingTime == 0 {
		return nil, fmt.Errorf("%w: unbonding time must be at least 1 block", ErrInvalidTimelock)
	}
	tl := timelockScript(nil, v.staker, unbondingTime)
	sl := slashingScript(nil, v.staker, v.fps, v.cov, v.quorum)
	leaves := []TapLeaf{{BaseLeafVersion, tl}, {BaseLeafVersion, sl}}
	kinds := []PathKind{TimelockPath, SlashingPath}
	return newOutput(UnbondingOutputKind, v, v.staker, unbondingTime, leaves, kinds,
		BranchNode(LeafNode(0), LeafNode(1)), nil)
}

// NewSlashingChangeOutput builds the output that returns the unslashed part
// of a stake to the staker: a single leaf timelock(unbondingTime), so the
// control block carries no merkle path.
func NewSlashingChangeOutput(staker *btcec.PublicKey, unbondingTime uint16) (*Output, error) {
	if staker == nil {
		return nil, fmt.Errorf("%w: staker key is nil", ErrInvalidKey)
	}
	if unbondingTime == 0 {
		return nil, fmt.Errorf("%w: unbonding time must be at least 1 block", ErrInvalidTimelock)
	}
	s := XOnly(staker)
	leaves := []TapLeaf{{BaseLeafVersion, timelockScript(nil, s, unbondingTime)}}
	return newOutput(SlashingChangeOutputKind, nil, s, unbondingTime, leaves,
		[]PathKind{TimelockPath}, LeafNode(0), nil)
}

func newOutput(kind OutputKind, v *parties, staker XOnlyKey, lock uint16,
	leaves []TapLeaf, kinds []PathKind, shape *TreeNode, key *outputKey) (*Output, error) {

	var hashes []chainhash.Hash
	if key != nil && len(leaves) == len(key.leaves) {
		hashes = key.leaves[:]
	}
	tree, err := newTapTree(leaves, hashes, shape)
	if err != nil {
		return nil, err
	}
	var tr *TaprootOutput
	if key != nil && key.root == tree.root {
		tr = &TaprootOutput{InternalKey: NUMSKey, Tree: tree, Tweak: key.tweak, OutputKey: key.q, OddY: key.odd}
	} else if tr, err = NewTaprootOutput(NUMSKey, tree); err != nil {
		return nil, err
	}
	o := &Output{Kind: kind, Taproot: tr, PkScript: tr.PkScript(), Timelock: lock, p: v, s: staker}
	o.Paths = make([]SpendPath, len(leaves))
	for i, k := range kinds {
		cb, err := tr.ControlBlock(i)
		if err != nil {
			return nil, err
		}
		sp := SpendPath{Kind: k, Script: leaves[i].Script, LeafHash: tree.hashes[i], ControlBlock: cb}
		if k == TimelockPath {
			sp.Timelock = lock
		}
		o.Paths[i] = sp
	}
	return o, nil
}

// Path returns the spend path of the given kind, or ErrUnknownPath.
func (o *Output) Path(k PathKind) (*SpendPath, error) {
	for i := range o.Paths {
		if o.Paths[i].Kind == k {
			return &o.Paths[i], nil
		}
	}
	return nil, fmt.Errorf("%w: %s output has no %s path", ErrUnknownPath, o.Kind, k)
}

// Address encodes the output as a bech32m address for net.
func (o *Output) Address(net *chaincfg.Params) (string, error) { return o.Taproot.Address(net) }

// TxOut returns the output carrying value satoshis.
func (o *Output) TxOut(value int64) *wire.TxOut {
	return wire.NewTxOut(value, append([]byte(nil), o.PkScript...))
}

// StakerKey is the staker's x-only key.
func (o *Output) StakerKey() XOnlyKey { return o.s }

// FinalityProviderKeys returns the finality-provider keys, ascending (nil for
// a slashing change output).
func (o *Output) FinalityProviderKeys() []XOnlyKey {
	if o.p == nil {
		return nil
	}
	return append([]XOnlyKey(nil), o.p.fps...)
}

// CovenantKeys returns the covenant keys, ascending (nil for a slashing
// change output).
func (o *Output) CovenantKeys() []XOnlyKey {
	if o.p == nil {
		return nil
	}
	return append([]XOnlyKey(nil), o.p.cov...)
}

// CovenantQuorum is the number of covenant signatures the unbonding and
// slashing paths need (0 for a slashing change output).
func (o *Output) CovenantQuorum() uint32 {
	if o.p == nil {
		return 0
	}
	return o.p.quorum
}

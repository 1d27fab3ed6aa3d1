package main

// Shared flags and helpers of the transaction commands (stake, unbond,
// slash, withdraw, sign, adaptor sign-slashing, adaptor complete-slashing,
// finalize, inspect).

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/keystore"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// opError is a failed operation (exit 1) blamed on one flag's value.
func opError(flag string, err error) error { return fmt.Errorf("--%s: %w", flag, err) }

// delegationFlags identify a stake: the params (a preset or a file, and
// the height whose version applies), the staker and finality provider
// keys and the staking time.
type delegationFlags struct {
	ps          paramsSource
	staker      string
	fps         []string
	stakingTime int64
}

func (f *delegationFlags) add(cmd *cobra.Command) {
	f.ps.add(cmd, paramsFlagUsage)
	cmd.Flags().StringVar(&f.staker, "staker-pk", "", "staker public key (hex, 32-byte x-only or 33-byte compressed)")
	cmd.Flags().StringArrayVar(&f.fps, "fp-pk", nil, "finality provider public key (repeatable)")
	cmd.Flags().Int64Var(&f.stakingTime, "staking-time", 0, "staking time lock in blocks")
	// --params is checked by paramsSource.load, whose error names the
	// preset that fits the network.
	for _, n := range []string{"staker-pk", "fp-pk", "staking-time"} {
		_ = cmd.MarkFlagRequired(n)
	}
}

// parties parses the keys and the staking time (a delegation without its
// params).
func (f *delegationFlags) parties() (psbt.Delegation, error) {
	var d psbt.Delegation
	var err error
	if d.Staker, err = parsePubKey("staker-pk", f.staker); err != nil {
		return d, err
	}
	if d.FinalityProviders, err = parsePubKeys("fp-pk", f.fps); err != nil {
		return d, err
	}
	if d.StakingTime, err = timelockFlag("staking-time", f.stakingTime); err != nil {
		return d, err
	}
	return d, nil
}

// delegation is the stake the flags describe under the params version
// --params and --btc-height select (network: chaincfg's name, for the
// error when --params is missing).
func (f *delegationFlags) delegation(network string) (psbt.Delegation, error) {
	d, err := f.parties()
	if err != nil {
		return d, err
	}
	if d.Params, err = f.ps.stakingParams(network); err != nil {
		return d, err
	}
	// Build the staking output once so key problems (duplicates, a staker
	// who is a covenant member) are reported against the flags. Each key
	// is valid on its own: keys that clash are well-formed values failing
	// together (exit 1), as in every command.
	if _, err := d.StakingOutput(); err != nil {
		return d, flagError(err)
	}
	return d, nil
}

// builderError names the flag behind an error of a psbt builder. The
// command line was well formed, so these are failed operations (exit 1).
func builderError(err error, fundingFlag string) error {
	var u usageError
	if errors.As(err, &u) {
		return err
	}
	switch {
	case errors.Is(err, params.ErrInvalidStakingValue):
		return opError("amount", err)
	case errors.Is(err, params.ErrInvalidStakingTime):
		return opError("staking-time", err)
	case errors.Is(err, psbt.ErrInvalidFeeRate):
		return opError("fee-rate", err)
	case errors.Is(err, psbt.ErrInsufficientFunds), errors.Is(err, psbt.ErrUnsupportedInput):
		return opError("utxo", err)
	case errors.Is(err, psbt.ErrMissingPrevTx):
		return opError("prev-tx", err)
	case errors.Is(err, psbt.ErrWrongInput):
		return opError(fundingFlag, err)
	case errors.Is(err, script.ErrTooManyFinalityProviders):
		return opError("fp-pk", err)
	case errors.Is(err, params.ErrInvalidParams):
		return opError("params", err)
	case errors.Is(err, script.ErrDuplicateKey), errors.Is(err, script.ErrNoFinalityProvider),
		errors.Is(err, script.ErrInvalidQuorum), errors.Is(err, script.ErrNoCovenantKeys):
		return flagError(err)
	}
	return err
}

// parseUTXO parses txid:vout:amount_sat:pkscript_hex.
func parseUTXO(s string) (psbt.UTXO, error) {
	var u psbt.UTXO
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 4 {
		return u, usagef("utxo", "%q: want txid:vout:amount_sat:pkscript_hex", s)
	}
	h, err := chainhash.NewHashFromStr(parts[0])
	if err != nil || len(parts[0]) != 64 {
		return u, usagef("utxo", "%q: txid must be 64 hex digits", s)
	}
	vout, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return u, usagef("utxo", "%q: vout %q is not a number", s, parts[1])
	}
	amt, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || amt <= 0 || amt > 21e14 {
		return u, usagef("utxo", "%q: amount %q must be a positive number of satoshis", s, parts[2])
	}
	pk, err := hex.DecodeString(parts[3])
	if err != nil || len(pk) == 0 {
		return u, usagef("utxo", "%q: pkscript must be non-empty hex", s)
	}
	u.OutPoint = wire.OutPoint{Hash: *h, Index: uint32(vout)}
	u.Value, u.PkScript = amt, pk
	return u, nil
}

// parseUTXOs parses the --utxo flags and attaches each --prev-tx to the
// coins it created.
func parseUTXOs(vals, prevHex []string) ([]psbt.UTXO, error) {
	if len(vals) == 0 {
		return nil, usagef("utxo", "at least one coin is needed")
	}
	utxos := make([]psbt.UTXO, 0, len(vals))
	for _, v := range vals {
		u, err := parseUTXO(v)
		if err != nil {
			return nil, err
		}
		for _, v := range utxos {
			if v.OutPoint == u.OutPoint {
				// Well-formed values failing together, as duplicate keys.
				return nil, opError("utxo", fmt.Errorf("coin %v given twice", u.OutPoint))
			}
		}
		utxos = append(utxos, u)
	}
	for _, h := range prevHex {
		tx, err := parseTxHex("prev-tx", h)
		if err != nil {
			return nil, err
		}
		id, used := tx.TxHash(), false
		for i := range utxos {
			if utxos[i].OutPoint.Hash == id {
				utxos[i].PrevTx, used = tx, true
			}
		}
		if !used {
			return nil, usagef("prev-tx", "transaction %s created none of the --utxo coins", id)
		}
	}
	return utxos, nil
}

// parseAddress decodes an address for the --network and returns its
// output script.
func parseAddress(flag, s string, net *chaincfg.Params) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, usagef(flag, "empty address")
	}
	addr, err := address.DecodeAddress(s, net)
	if err != nil {
		return nil, usagef(flag, "%q is not a %s address: %v", s, net.Name, err)
	}
	if !addr.IsForNet(net) {
		return nil, usagef(flag, "%q is an address of another network, not %s", s, net.Name)
	}
	pk, err := txscript.PayToAddrScript(addr)
	if err != nil {
		return nil, usagef(flag, "%q: %v", s, err)
	}
	return pk, nil
}

// parseFeeRate converts --fee-rate (sat/vB).
func parseFeeRate(v float64) (psbt.FeeRate, error) {
	r, err := psbt.FeeRateFromSatPerVB(v)
	if err != nil {
		return 0, usagef("fee-rate", "%v", err)
	}
	return r, nil
}

// fromName is the --from spelling of an output kind: its one spelling
// (script.OutputKind.String); "slashing" is accepted too, for the slashing
// change output.
func fromName(k script.OutputKind) string { return k.String() }

// addFromFlag adds --from, naming one of the allowed outputs, with their
// names as its completions.
func addFromFlag(cmd *cobra.Command, p *string, usage string, allowed ...script.OutputKind) {
	cmd.Flags().StringVar(p, "from", "", usage)
	names := make([]string, len(allowed))
	for i, k := range allowed {
		names[i] = fromName(k)
	}
	completeValues(cmd, "from", names...)
}

// parseFromKind maps --from to an output kind among the allowed ones.
func parseFromKind(s string, allowed ...script.OutputKind) (script.OutputKind, error) {
	// "slashing" stays accepted for the slashing change output: it is the
	// only output of a slashing transaction a staker can spend.
	name := s
	if name == "slashing" {
		name = script.SlashingChangeOutputKind.String()
	}
	kind, kindErr := script.ParseOutputKind(name)
	var want []string
	for _, k := range allowed {
		if kindErr == nil && kind == k {
			return k, nil
		}
		want = append(want, k.String())
	}
	list := strings.Join(want, " or ")
	if len(want) > 2 {
		list = strings.Join(want[:len(want)-1], ", ") + " or " + want[len(want)-1]
	}
	return 0, usagef("from", "unknown output %q (want %s)", s, list)
}

// fundingOf finds the delegation's output of the given kind in tx (given
// with flag) and names it as the output a transaction will spend.
func fundingOf(d psbt.Delegation, kind script.OutputKind, flag string, tx *wire.MsgTx) (psbt.Funding, error) {
	f, err := d.FundingFrom(tx, kind)
	if err != nil {
		return psbt.Funding{}, opError(flag, err)
	}
	return f, nil
}

// readPSBTs reads a repeatable --psbt and combines the packets (BIP-174
// combiner): they must be for the same unsigned transaction.
func readPSBTs(flag string, vals []string) (*btcpsbt.Packet, error) {
	if len(vals) == 0 {
		return nil, usagef(flag, "required")
	}
	var pkts []*btcpsbt.Packet
	for _, v := range vals {
		p, err := readPSBT(flag, v)
		if err != nil {
			return nil, err
		}
		if len(pkts) > 0 && p.UnsignedTx.TxHash() != pkts[0].UnsignedTx.TxHash() {
			return nil, usagef(flag, "PSBT %d is for transaction %s, the first for %s", len(pkts)+1,
				p.UnsignedTx.TxHash(), pkts[0].UnsignedTx.TxHash())
		}
		pkts = append(pkts, p)
	}
	if len(pkts) == 1 {
		return pkts[0], nil
	}
	p, err := psbt.Combine(pkts...)
	if err != nil {
		return nil, usagef(flag, "%v", err)
	}
	return p, nil
}

// signingKeyFlag loads the key of a key-file flag. The file is either a
// passphrase-encrypted keystore (btcstake key keygen|import, or eots
// keygen|import), unlocked through pf, or a plain hex key file; the
// format is told by the content. A malformed file or a missing
// passphrase is a usage error naming the flag (exit 2); a wrong
// passphrase is a failed operation (exit 1).
func signingKeyFlag(a *app, flag, path string, pf *passphraseFlags) (*btcec.PrivateKey, error) {
	k, err := keystore.LoadKeyFile(path, func() ([]byte, error) { return pf.get(a, false) })
	if err == nil {
		return k, nil
	}
	var u usageError
	switch {
	case errors.As(err, &u):
		return nil, err
	case errors.Is(err, keystore.ErrWrongPassphrase):
		return nil, opError(flag, err)
	}
	return nil, usagef(flag, "%v", err)
}

// txHex serialises a transaction (with witnesses when it has any).
func txHex(tx *wire.MsgTx) string {
	var b bytes.Buffer
	_ = tx.Serialize(&b)
	return hex.EncodeToString(b.Bytes())
}

// psbtJSON is what every command producing a PSBT prints with --json.
type psbtJSON struct {
	PSBT        string            `json:"psbt"`
	UnsignedTx  string            `json:"unsigned_tx"`
	Txid        string            `json:"txid"`
	TxidFinal   bool              `json:"txid_is_final"` // false when a legacy (P2PKH, P2SH) input's signature will change it
	Fee         int64             `json:"fee_sat"`
	VSize       int64             `json:"vsize"`
	FeeRate     float64           `json:"fee_rate_sat_per_vb"`
	Description *psbt.Description `json:"description,omitempty"`
	Signed      []signedJSON      `json:"signed,omitempty"`
	Status      *statusJSON       `json:"status,omitempty"`
	Lock        *lockJSON         `json:"lock,omitempty"` // stake: what it locks, under which params version
	OutFile     string            `json:"out_file,omitempty"`
}

// signedJSON records one signature a command added.
type signedJSON struct {
	Input int    `json:"input"`
	Role  string `json:"role"`
	Key   string `json:"public_key"` // x-only
	Kind  string `json:"kind"`       // tap_script_sig, adaptor_sig, funding
	Count int    `json:"count,omitempty"`
}

// emitPSBT writes the PSBT to --out (if given) and prints the result.
func (a *app) emitPSBT(p *btcpsbt.Packet, desc *psbt.Description, signed []signedJSON, out string) error {
	return a.emitPSBTWith(p, desc, signed, out, nil)
}

// emitPSBTWith is emitPSBT with stake's lock summary in the JSON.
func (a *app) emitPSBTWith(p *btcpsbt.Packet, desc *psbt.Description, signed []signedJSON, out string, lock *lockJSON) error {
	b64, err := psbt.Encode(p)
	if err != nil {
		return err
	}
	an, err := psbt.Analyze(p, psbt.AnalyzeOptions{})
	if err != nil {
		return err
	}
	j := psbtJSON{PSBT: b64, UnsignedTx: txHex(p.UnsignedTx), Txid: p.UnsignedTx.TxHash().String(),
		Description: desc, Signed: signed, OutFile: out, TxidFinal: an.TxidFinal, Lock: lock}
	if desc != nil {
		j.Fee, j.VSize, j.FeeRate = desc.Fee, desc.VSize, desc.FeeRate
	} else {
		if an.InputValueKnown {
			j.Fee = an.Fee
		}
		j.VSize = an.VSize
		if an.VSize > 0 {
			j.FeeRate = float64(j.Fee) / float64(an.VSize)
		}
		st := psbtStatus(an)
		j.Status = &st
	}
	if out != "" {
		if err := a.writeOutput("out", out, []byte(b64+"\n")); err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(j)
	}
	if desc != nil {
		a.printDescription(desc)
	}
	for _, s := range signed {
		switch s.Kind {
		case "adaptor_sig":
			a.printf("input %d: added %d adaptor signature(s) as covenant member %s\n", s.Input, s.Count, s.Key)
		case "funding":
			a.printf("input %d: signed the funding coin\n", s.Input)
		default:
			a.printf("input %d: signed as %s %s\n", s.Input, s.Role, s.Key)
		}
	}
	if j.Status != nil {
		for _, l := range j.Status.Lines {
			a.printf("%s\n", l)
		}
	}
	if j.TxidFinal {
		a.printf("txid   %s\n", j.Txid)
	} else {
		a.printf("txid   %s (of the unsigned tx: a P2PKH or P2SH input's signature will change it)\n", j.Txid)
	}
	if out != "" {
		a.printf("wrote the PSBT to %s\n", out)
	} else {
		a.printf("psbt   %s\n", b64)
	}
	return nil
}

func (a *app) printDescription(d *psbt.Description) {
	a.printf("%s transaction", d.Kind)
	if d.Path != "" {
		a.printf(" spending the %s", d.Path)
	}
	a.printf("\n")
	a.printf("  inputs   %d sat\n", d.InputValue)
	a.printf("  outputs  %d sat\n", d.OutputValue)
	a.printf("  fee      %d sat (%.3f sat/vB over %d vB once signed)\n", d.Fee, d.FeeRate, d.VSize)
	a.printf("  version  %d, input sequence %d", d.Version, d.Sequence)
	switch {
	case d.Kind == "staking" && d.Timelock > 0:
		a.printf("\n  staking time %d blocks: the staker alone can withdraw after that", d.Timelock)
	case d.Timelock > 0:
		a.printf(" (relative time lock of %d blocks)", d.Timelock)
	}
	a.printf("\n")
	for _, o := range d.Outputs {
		a.printf("  output %d  %-16s %d sat  %s\n", o.Index, o.Role, o.Value, o.PkScript)
	}
	for _, n := range d.Notes {
		a.printf("  note: %s\n", n)
	}
}

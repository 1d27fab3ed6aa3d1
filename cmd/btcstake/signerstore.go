package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/btcstake/btcstake/eots/signer"
	"github.com/btcstake/btcstake/keystore"
	"github.com/btcstake/btcstake/script"
	"github.com/spf13/cobra"
)

// The signing store's health commands join the "btcstake eots" group.
func init() {
	eotsSubcommands = append(eotsSubcommands, newEotsCheckCmd, newEotsRepairCmd)
}

// checkChainIDFlag checks a chain ID given on the command line before
// anything is read or written: what the signer accepts (1 to
// signer.MaxChainIDSize bytes), and printable UTF-8 without spaces, since
// the ID is part of every record's key and is printed in messages.
func checkChainIDFlag(flag, v string) error {
	if err := signer.CheckChainID([]byte(v)); err != nil {
		return usagef(flag, "must be 1 to %d bytes, got %d", signer.MaxChainIDSize, len(v))
	}
	if !utf8.ValidString(v) {
		return usagef(flag, "not valid UTF-8")
	}
	for _, r := range v {
		if unicode.IsControl(r) || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return usagef(flag, "contains the character %q (a chain ID is printable, without spaces)", r)
		}
	}
	return nil
}

// signerPubKey returns the x-only key named by exactly one of --pk and
// --key (a keystore's public key: no passphrase needed).
func signerPubKey(pkHex, keyFile string) ([32]byte, error) {
	switch {
	case pkHex != "" && keyFile == "":
		k, err := parsePubKey("pk", pkHex)
		if err != nil {
			return [32]byte{}, err
		}
		return [32]byte(script.XOnly(k)), nil
	case keyFile != "" && pkHex == "":
		pk, err := keystore.PublicKey(keyFile)
		if err != nil {
			return [32]byte{}, err
		}
		return [32]byte(script.XOnly(pk)), nil
	default:
		return [32]byte{}, usagef("pk", "give exactly one of --pk and --key")
	}
}

// storeRefusalHint adds what to run next to a refusal of the store for
// disagreeing with its high-water mark.
func storeRefusalHint(err error, db string) error {
	if errors.Is(err, signer.ErrStoreRolledBack) || errors.Is(err, signer.ErrMarkMissing) {
		return fmt.Errorf("%w (\"btcstake eots check --db %s\" shows what disagrees; do not sign until it is resolved)", err, db)
	}
	return err
}

type pairStatusJSON struct {
	ChainID        string  `json:"chain_id"`
	PublicKey      string  `json:"public_key"`
	StoreRecords   uint64  `json:"store_records"`
	StoreMaxHeight *uint64 `json:"store_max_height"`
	MarkRecords    uint64  `json:"mark_records"`
	MarkMaxHeight  *uint64 `json:"mark_max_height"`
	Floor          *uint64 `json:"floor"`
	Match          bool    `json:"match"`
}

type storeStatusJSON struct {
	DB    string           `json:"db"`
	Marks string           `json:"high_water_mark"`
	Pairs []pairStatusJSON `json:"pairs"`
	OK    bool             `json:"ok"`
	Error string           `json:"error,omitempty"`
}

func storeStatusOut(db string, st signer.Status) storeStatusJSON {
	out := storeStatusJSON{DB: db, Marks: st.Marks, Pairs: make([]pairStatusJSON, len(st.Pairs)), OK: st.Err == nil}
	if st.Err != nil {
		out.Error = st.Err.Error()
	}
	for i, p := range st.Pairs {
		j := pairStatusJSON{ChainID: p.ChainID, PublicKey: hex.EncodeToString(p.PublicKey[:]),
			StoreRecords: p.StoreRecords, MarkRecords: p.MarkRecords, Match: p.Match}
		if p.StoreRecords > 0 {
			j.StoreMaxHeight = &st.Pairs[i].StoreMaxHeight
		}
		if p.MarkRecords > 0 {
			j.MarkMaxHeight = &st.Pairs[i].MarkMaxHeight
		}
		if p.HasFloor {
			j.Floor = &st.Pairs[i].Floor
		}
		out.Pairs[i] = j
	}
	return out
}

func upTo(n uint64, h *uint64) string {
	noun := "records"
	if n == 1 {
		noun = "record"
	}
	if h == nil {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %s up to %d", n, noun, *h)
}

// printStatus prints a store's status (check, repair).
func (a *app) printStatus(s storeStatusJSON) error {
	if a.json {
		return a.printJSON(s)
	}
	a.printf("store            %s\nhigh-water mark  %s\n", s.DB, s.Marks)
	for _, p := range s.Pairs {
		verdict := "agree"
		if !p.Match {
			verdict = "DISAGREE"
		}
		floor := ""
		if p.Floor != nil {
			floor = fmt.Sprintf(", floor %d", *p.Floor)
		}
		a.printf("%s %s: store %s, mark %s%s: %s\n", p.ChainID, p.PublicKey, upTo(p.StoreRecords, p.StoreMaxHeight), upTo(p.MarkRecords, p.MarkMaxHeight), floor, verdict)
	}
	if s.OK {
		a.printf("ok: the store holds what its high-water mark says\n")
	}
	return nil
}

func newEotsCheckCmd(a *app) *cobra.Command {
	var dbFile string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Compare a signing store with its high-water mark (read-only)",
		Long: `Opens --db read-only (it must not be in use) and compares, for every chain and
key, the records the store holds with its high-water mark (the files
DB.hwm0 and DB.hwm1 that the signer keeps beside it): number of records,
highest height and a digest of them. Prints the comparison and exits 0 if the
store would open for signing, 1 (with the reason) if it would be refused.
Nothing is written. docs/signer.md describes what to do after a refusal.`,
		Example: `  btcstake eots check --db fp-records.db
  store            fp-records.db
  high-water mark  ok
  bbn-test-5 dff1...a659: store 3 records up to 12, mark 4 records up to 13: DISAGREE
  btcstake: error: signing store is behind its high-water mark: ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := signer.OpenStore(dbFile, signer.StoreOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			status := st.Status()
			st.Close()
			if err := a.printStatus(storeStatusOut(dbFile, status)); err != nil {
				return err
			}
			return status.Err
		},
	}
	cmd.Flags().StringVar(&dbFile, "db", "", "signing-record store")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func newEotsRepairCmd(a *app) *cobra.Command {
	var dbFile, chainID, pkHex, keyFile string
	var highest uint64
	var yes bool
	cmd := &cobra.Command{
		Use:   "repair",
		Short: "Accept a store that disagrees with its high-water mark, with a floor (needs --yes)",
		Long: `After the signer refused a store ("behind its high-water mark", or "high-water
mark missing or damaged") and you have found out why (docs/signer.md), rewrites
the mark of one chain and key from what the store now holds, with a floor: the
signer will never sign a height at or below --highest-signed that has no
record, because a signature there may have been lost with its record.
--highest-signed is the highest height this key may have signed on this chain
(find it on the chain, in the finality provider's logs, or in a newer backup);
it may not be below a height the store or the mark records. Run
"btcstake eots check" first; confirm with --yes. The key is given by --pk or
by the keystore --key (no passphrase needed).`,
		Example: `  btcstake eots repair --db fp-records.db --key fp.key --chain-id bbn-test-5 \
    --highest-signed 1305 --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkChainIDFlag("chain-id", chainID); err != nil {
				return err
			}
			if !cmd.Flags().Changed("highest-signed") {
				return usagef("highest-signed", "required: the highest height this key may have signed on this chain")
			}
			x, err := signerPubKey(pkHex, keyFile)
			if err != nil {
				return err
			}
			if !yes {
				return usagef("yes", "repair accepts the store as it is and relies on --highest-signed for the heights whose records are gone; run \"btcstake eots check --db %s\" first, then confirm with --yes", dbFile)
			}
			status, err := signer.Repair(dbFile, signer.RepairRequest{ChainID: []byte(chainID), PublicKey: x, HighestSigned: highest, Confirmed: true})
			if errors.Is(err, signer.ErrInvalidArgument) {
				return usagef("highest-signed", "%v", err)
			}
			if err != nil {
				return err
			}
			if !a.json {
				a.printf("repaired %s %x: floor %d\n", chainID, x, highest)
			}
			if err := a.printStatus(storeStatusOut(dbFile, status)); err != nil {
				return err
			}
			return status.Err
		},
	}
	cmd.Flags().StringVar(&dbFile, "db", "", "signing-record store")
	cmd.Flags().StringVar(&chainID, "chain-id", "", "chain ID")
	cmd.Flags().StringVar(&pkHex, "pk", "", "public key (32 or 33 bytes hex)")
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file (its public key)")
	cmd.Flags().Uint64Var(&highest, "highest-signed", 0, "the highest height this key may have signed on this chain")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the repair")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("chain-id")
	return cmd
}

package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/eots/signer"
	"github.com/btcstake/btcstake/keystore"
	"github.com/btcstake/btcstake/script"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// The slashing-protected signer's commands join the "btcstake eots" group.
func init() {
	eotsSubcommands = append(eotsSubcommands,
		newEotsKeygenCmd, newEotsImportCmd, newEotsShowCmd, newEotsExportCmd,
		newEotsSignCmd, newEotsSignBatchCmd, newEotsRecordsCmd, newEotsRollbackCmd, newEotsBackupCmd)
	// check and repair: signerstore.go
}

// passphraseEnv names the environment variable that may hold the keystore
// passphrase (for services; prefer --passphrase-file).
const passphraseEnv = "BTCSTAKE_PASSPHRASE"

// passphraseFlags are the ways to unlock a keystore: a file, the
// environment, or a terminal prompt.
type passphraseFlags struct {
	file string
}

func (p *passphraseFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.file, "passphrase-file", "", "read the keystore passphrase from this file (first line); otherwise $"+passphraseEnv+" or a prompt")
}

// get returns the passphrase. With confirm (new keystores) a prompt asks
// twice. The caller clears the result.
func (p *passphraseFlags) get(a *app, confirm bool) ([]byte, error) {
	if p.file != "" {
		b, err := os.ReadFile(p.file)
		if err != nil {
			return nil, usagef("passphrase-file", "%v", err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		pass := bytes.Clone(line)
		clear(b)
		if len(pass) == 0 {
			return nil, usagef("passphrase-file", "the file's first line is empty")
		}
		return pass, nil
	}
	if v, ok := os.LookupEnv(passphraseEnv); ok {
		if v == "" {
			return nil, usagef("passphrase-file", "$%s is set but empty", passphraseEnv)
		}
		return []byte(v), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, usagef("passphrase-file", "no passphrase: give --passphrase-file, set $%s, or run in a terminal", passphraseEnv)
	}
	fmt.Fprint(a.stderr, "keystore passphrase: ")
	pass, err := term.ReadPassword(fd)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase: %v", err)
	}
	if len(pass) == 0 {
		return nil, usagef("passphrase-file", "empty passphrase")
	}
	if confirm {
		fmt.Fprint(a.stderr, "again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(a.stderr)
		if err != nil {
			return nil, fmt.Errorf("reading the passphrase: %v", err)
		}
		same := bytes.Equal(pass, again)
		clear(again)
		if !same {
			clear(pass)
			return nil, usagef("passphrase-file", "the passphrases differ")
		}
	}
	return pass, nil
}

// unlock asks for the passphrase and decrypts the keystore keyFile. The
// caller zeroes the key.
func unlock(a *app, keyFile string, pf *passphraseFlags) (*btcec.PrivateKey, error) {
	pass, err := pf.get(a, false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	return keystore.Load(keyFile, pass)
}

// unlockEOTS is unlock for the EOTS commands, which sign with an
// eots.SecretKey (the public key computed once). The caller zeroes it.
func unlockEOTS(a *app, keyFile string, pf *passphraseFlags) (*eots.SecretKey, error) {
	k, err := unlock(a, keyFile, pf)
	if err != nil {
		return nil, err
	}
	defer k.Zero()
	return eots.NewSecretKey(k)
}

// writeKeystore writes an EOTS-typed key (keygen and import make one) to a
// keystore.
func writeKeystore(path string, sk *eots.SecretKey, pass []byte, opts keystore.Options) error {
	k := sk.PrivKey()
	defer k.Zero()
	return keystore.Write(path, k, pass, opts)
}

type keyJSON struct {
	PublicKey           string `json:"public_key"`
	PublicKeyCompressed string `json:"public_key_compressed"`
	KeyFile             string `json:"key_file"`
}

func keyInfo(compressed []byte, file string) keyJSON {
	return keyJSON{PublicKey: hex.EncodeToString(compressed[1:]), PublicKeyCompressed: hex.EncodeToString(compressed), KeyFile: file}
}

func (a *app) printKey(k keyJSON) error {
	if a.json {
		return a.printJSON(k)
	}
	a.printf("public key             %s\npublic key (33 bytes)  %s\nkeystore               %s\n", k.PublicKey, k.PublicKeyCompressed, k.KeyFile)
	return nil
}

func newEotsKeygenCmd(a *app) *cobra.Command {
	var keyFile string
	var work int
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate an EOTS key into a new passphrase-encrypted keystore",
		Long: `Generates a random EOTS secret key and writes it to --key, encrypted with a
passphrase (age, scrypt), mode 0600, atomically. Refuses to overwrite an
existing file. Prints the public key only.`,
		Example: `  btcstake eots keygen --key fp.key --passphrase-file pass.txt
  public key             3f0c...
  public key (33 bytes)  023f0c...
  keystore               fp.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if work < 10 || work > 22 {
				return usagef("scrypt-work-factor", "must be in [10, 22], got %d", work)
			}
			pass, err := pf.get(a, true)
			if err != nil {
				return err
			}
			defer clear(pass)
			sk, err := eots.GenerateSecretKey(nil)
			if err != nil {
				return err
			}
			defer sk.Zero()
			if err := writeKeystore(keyFile, sk, pass, keystore.Options{WorkFactor: work}); err != nil {
				return err
			}
			return a.printKey(keyInfo(sk.PubKey().SerializeCompressed(), keyFile))
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file to create")
	cmd.Flags().IntVar(&work, "scrypt-work-factor", keystore.DefaultWorkFactor, "scrypt log2(N) for the keystore (18 is about 1 s)")
	pf.add(cmd)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newEotsImportCmd(a *app) *cobra.Command {
	var keyFile, skFile string
	var work int
	var force bool
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import an existing EOTS secret key into a keystore",
		Long: `Reads a 32-byte secret key (64 hex characters) from --sk-file ("-" for stdin)
and writes it to --key encrypted with a passphrase, mode 0600, atomically.
Refuses to overwrite an existing keystore unless --force.`,
		Example: `  btcstake eots import --key fp.key --sk-file old-key.hex --passphrase-file pass.txt`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if work < 10 || work > 22 {
				return usagef("scrypt-work-factor", "must be in [10, 22], got %d", work)
			}
			var raw []byte
			var err error
			if skFile == "-" {
				raw, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<10))
			} else {
				raw, err = os.ReadFile(skFile)
			}
			if err != nil {
				return usagef("sk-file", "%v", err)
			}
			b, err := hex.DecodeString(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(raw)), "0x")))
			clear(raw)
			if err != nil {
				return usagef("sk-file", "not a hex secret key")
			}
			sk, err := eots.ParseSecretKey(b)
			clear(b)
			if err != nil {
				return usagef("sk-file", "%v", err)
			}
			defer sk.Zero()
			pass, err := pf.get(a, true)
			if err != nil {
				return err
			}
			defer clear(pass)
			if err := writeKeystore(keyFile, sk, pass, keystore.Options{WorkFactor: work, Overwrite: force}); err != nil {
				return err
			}
			return a.printKey(keyInfo(sk.PubKey().SerializeCompressed(), keyFile))
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file to create")
	cmd.Flags().StringVar(&skFile, "sk-file", "", `file holding the secret key in hex ("-" for stdin)`)
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing keystore file")
	cmd.Flags().IntVar(&work, "scrypt-work-factor", keystore.DefaultWorkFactor, "scrypt log2(N) for the keystore")
	pf.add(cmd)
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("sk-file")
	return cmd
}

func newEotsShowCmd(a *app) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:     "show",
		Short:   "Show a keystore's public key (no passphrase needed)",
		Example: `  btcstake eots show --key fp.key --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := keystore.PublicKey(keyFile)
			if err != nil {
				return err
			}
			return a.printKey(keyInfo(pk.SerializeCompressed(), keyFile))
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newEotsExportCmd(a *app) *cobra.Command {
	var keyFile string
	var show bool
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print a keystore's secret key (only with --show-secret)",
		Long: `Decrypts the keystore and prints the 32-byte secret key in hex. Anyone who
sees it can sign as the finality provider: it is printed only when
--show-secret is given.`,
		Example: `  btcstake eots export --key fp.key --passphrase-file pass.txt --show-secret`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !show {
				return usagef("show-secret", "export prints the secret key; pass --show-secret to confirm")
			}
			sk, err := unlockEOTS(a, keyFile, &pf)
			if err != nil {
				return err
			}
			defer sk.Zero()
			b := sk.Bytes()
			defer clear(b[:])
			out := struct {
				SecretKey string `json:"secret_key"`
				PublicKey string `json:"public_key"`
			}{hex.EncodeToString(b[:]), hex.EncodeToString(sk.PubKey().SerializeCompressed()[1:])}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("%s\n", out.SecretKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file")
	cmd.Flags().BoolVar(&show, "show-secret", false, "really print the secret key")
	pf.add(cmd)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// signerFlags are shared by sign and sign-batch.
type signerFlags struct {
	keyFile, dbFile, chainID string
	createDB                 bool
	pf                       passphraseFlags
}

func (f *signerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.keyFile, "key", "", "keystore file")
	cmd.Flags().StringVar(&f.dbFile, "db", "", "signing-record store (bbolt file)")
	cmd.Flags().StringVar(&f.chainID, "chain-id", "", "consumer chain ID")
	cmd.Flags().BoolVar(&f.createDB, "create-db", false, "create --db if it does not exist (never done silently: a lost store must not look like a new one)")
	f.pf.add(cmd)
	for _, n := range []string{"key", "db", "chain-id"} {
		_ = cmd.MarkFlagRequired(n)
	}
}

// validate checks the flags that need no file, before anything is read
// or written (a bad --chain-id must not leave a new store behind).
func (f *signerFlags) validate() error {
	return checkChainIDFlag("chain-id", f.chainID)
}

// open unlocks the key and opens (or with --create-db creates) the store;
// the caller has validated the flags and its own input first.
func (f *signerFlags) open(a *app) (*signer.Signer, *signer.Store, error) {
	if err := f.validate(); err != nil {
		return nil, nil, err
	}
	sk, err := unlockEOTS(a, f.keyFile, &f.pf)
	if err != nil {
		return nil, nil, err
	}
	defer sk.Zero()
	st, err := signer.OpenStore(f.dbFile, signer.StoreOptions{Create: f.createDB})
	if err != nil {
		if errors.Is(err, signer.ErrStoreNotFound) {
			return nil, nil, fmt.Errorf("%w (pass --create-db to start a new store)", err)
		}
		return nil, nil, storeRefusalHint(err, f.dbFile)
	}
	s, err := signer.New(st, sk)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return s, st, nil
}

type signJSON struct {
	ChainID   string `json:"chain_id"`
	Height    uint64 `json:"height"`
	PublicKey string `json:"public_key"`
	PubRand   string `json:"pub_rand"`
	Signature string `json:"signature"`
	Existing  bool   `json:"existing"`
	Error     string `json:"error,omitempty"`
}

func newEotsSignCmd(a *app) *cobra.Command {
	var f signerFlags
	var height uint64
	var msgHex string
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a message at a height, protected against double-signing",
		Long: `Signs the raw message --msg at --height on --chain-id with the key in --key,
using the height's derived randomness (the value "btcstake eots pubrand" lists).
The record (chain, key, height, message, signature, time) is committed and
synced to --db before the signature is printed. Signing the same message again
prints the stored signature; a different message at a recorded height is
refused (exit 1) and changes nothing.`,
		Example: `  btcstake eots sign --key fp.key --db fp-records.db --create-db \
    --chain-id bbn-test-5 --height 100 --passphrase-file pass.txt \
    --msg 00000000000000640101010101010101010101010101010101010101010101010101010101010101`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			if !cmd.Flags().Changed("height") {
				return usagef("height", "required")
			}
			msg, err := parseHex("msg", msgHex)
			if err != nil {
				return err
			}
			if len(msg) > signer.MaxMessageSize {
				return usagef("msg", "%d bytes (max %d)", len(msg), signer.MaxMessageSize)
			}
			s, st, err := f.open(a)
			if err != nil {
				return err
			}
			defer st.Close()
			defer s.Close()
			res, err := s.Sign([]byte(f.chainID), height, msg)
			if err != nil {
				return storeRefusalHint(err, f.dbFile)
			}
			pk := s.PublicKey()
			out := signJSON{ChainID: f.chainID, Height: height, PublicKey: hex.EncodeToString(pk[:]), PubRand: res.PubRand.String(), Signature: res.Sig.String(), Existing: res.Existing}
			if a.json {
				return a.printJSON(out)
			}
			note := ""
			if res.Existing {
				note = "  (already signed: the stored signature)"
			}
			a.printf("height     %d%s\npub_rand   %s\nsignature  %s\n", height, note, out.PubRand, out.Signature)
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().Uint64Var(&height, "height", 0, "block height")
	cmd.Flags().StringVar(&msgHex, "msg", "", "raw message to sign (hex); hashed with SHA-256 inside")
	_ = cmd.MarkFlagRequired("msg")
	return cmd
}

func newEotsSignBatchCmd(a *app) *cobra.Command {
	var f signerFlags
	var input string
	cmd := &cobra.Command{
		Use:   "sign-batch",
		Short: "Sign many heights in one durable transaction",
		Long: `Reads lines "HEIGHT MSG_HEX" from --input ("-" for stdin) and signs them all in
one store transaction (one fsync). Every line gets a result; a conflicting line
(a different message than the one recorded, or than an earlier line) is refused
and reported, the others are signed, and the command exits 1 if any line was
refused.`,
		Example: `  printf '100 0000000000000064aa\n101 0000000000000065bb\n' | \
    btcstake eots sign-batch --key fp.key --db fp-records.db --chain-id bbn-test-5 --input - --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			var r io.Reader
			if input == "-" {
				r = os.Stdin
			} else {
				fh, err := os.Open(input)
				if err != nil {
					return usagef("input", "%v", err)
				}
				defer fh.Close()
				r = fh
			}
			var reqs []signer.Request
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 0, 64<<10), 4*signer.MaxMessageSize)
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				fields := strings.Fields(line)
				if len(fields) != 2 {
					return usagef("input", "line %d: want \"HEIGHT MSG_HEX\"", n)
				}
				h, err := strconv.ParseUint(fields[0], 10, 64)
				if err != nil {
					return usagef("input", "line %d: bad height %q", n, fields[0])
				}
				msg, err := hex.DecodeString(fields[1])
				if err != nil {
					return usagef("input", "line %d: message is not hex", n)
				}
				if len(msg) > signer.MaxMessageSize {
					return usagef("input", "line %d: message is %d bytes (max %d)", n, len(msg), signer.MaxMessageSize)
				}
				reqs = append(reqs, signer.Request{Height: h, Msg: msg})
			}
			if err := sc.Err(); err != nil {
				return usagef("input", "%v", err)
			}
			if len(reqs) == 0 {
				return usagef("input", "no requests")
			}
			s, st, err := f.open(a)
			if err != nil {
				return err
			}
			defer st.Close()
			defer s.Close()
			results, batchErr := s.SignBatch([]byte(f.chainID), reqs)
			if results == nil {
				return storeRefusalHint(batchErr, f.dbFile)
			}
			pk := s.PublicKey()
			out := make([]signJSON, len(results))
			for i, res := range results {
				out[i] = signJSON{ChainID: f.chainID, Height: res.Height, PublicKey: hex.EncodeToString(pk[:]), Existing: res.Existing}
				if res.Err != nil {
					out[i].Error = res.Err.Error()
				} else {
					out[i].PubRand, out[i].Signature = res.PubRand.String(), res.Sig.String()
				}
			}
			if a.json {
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				for _, o := range out {
					switch {
					case o.Error != "":
						a.printf("%d refused: %s\n", o.Height, o.Error)
					case o.Existing:
						a.printf("%d %s %s (already signed: the stored signature)\n", o.Height, o.PubRand, o.Signature)
					default:
						a.printf("%d %s %s\n", o.Height, o.PubRand, o.Signature)
					}
				}
			}
			return batchErr
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&input, "input", "", `file of "HEIGHT MSG_HEX" lines ("-" for stdin)`)
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

type recordJSON struct {
	ChainID   string `json:"chain_id"`
	PublicKey string `json:"public_key"`
	Height    uint64 `json:"height"`
	Msg       string `json:"msg"`
	PubRand   string `json:"pub_rand"`
	Signature string `json:"signature"`
	Time      string `json:"time"`
}

func newEotsRecordsCmd(a *app) *cobra.Command {
	var dbFile, chainID, pkHex string
	cmd := &cobra.Command{
		Use:   "records",
		Short: "List the signing records in a store (an export with --json)",
		Long: `Lists what the signer signed: chain, public key, height, message, public
randomness, signature and time. --chain-id with --pk narrows the list. With
--json the output is a complete export of the records. The store is opened
read-only: it is listed even when the signer would refuse it (a warning on
stderr says so; "btcstake eots check" says why).`,
		Example: `  btcstake eots records --db fp-records.db --json > records.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var chain []byte
			var pk *[32]byte
			if chainID != "" || pkHex != "" {
				if chainID == "" || pkHex == "" {
					return usagef("chain-id", "--chain-id and --pk go together")
				}
				if err := checkChainIDFlag("chain-id", chainID); err != nil {
					return err
				}
				k, err := parsePubKey("pk", pkHex)
				if err != nil {
					return err
				}
				x := [32]byte(script.XOnly(k))
				chain, pk = []byte(chainID), &x
			}
			st, err := signer.OpenStore(dbFile, signer.StoreOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Status().Err; err != nil {
				fmt.Fprintf(a.stderr, "btcstake: warning: the signer refuses this store: %v\n", storeRefusalHint(err, dbFile))
			}
			recs, err := st.Records(chain, pk)
			if err != nil {
				return err
			}
			out := make([]recordJSON, len(recs))
			for i, r := range recs {
				out[i] = recordJSON{ChainID: r.ChainID, PublicKey: hex.EncodeToString(r.PublicKey[:]), Height: r.Height,
					Msg: hex.EncodeToString(r.Msg), PubRand: r.PubRand.String(), Signature: r.Sig.String(), Time: r.Time.Format(time.RFC3339Nano)}
			}
			if a.json {
				return a.printJSON(out)
			}
			for _, r := range out {
				a.printf("%s %s height %d msg %s sig %s at %s\n", r.ChainID, r.PublicKey, r.Height, r.Msg, r.Signature, r.Time)
			}
			if len(out) == 0 {
				a.printf("no records\n")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dbFile, "db", "", "signing-record store")
	cmd.Flags().StringVar(&chainID, "chain-id", "", "only this chain (with --pk)")
	cmd.Flags().StringVar(&pkHex, "pk", "", "only this public key (with --chain-id)")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func newEotsRollbackCmd(a *app) *cobra.Command {
	var dbFile, chainID, pkHex, keyFile string
	var above uint64
	var yes bool
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Delete signing records above a height (dangerous; needs --yes)",
		Long: `Deletes the records of one chain and key above --above, so those heights can
be signed again. If any deleted signature was published, signing a different
message at its height leaks the key: only do this after a chain rollback, and
confirm with --yes. The key is given by --pk or by the keystore --key (no
passphrase needed).`,
		Example: `  btcstake eots rollback --db fp-records.db --key fp.key --chain-id bbn-test-5 --above 1200 --yes`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("above") {
				return usagef("above", "required")
			}
			if !yes {
				return usagef("yes", "rollback deletes signing records and can lead to a double-sign; confirm with --yes")
			}
			if chainID == "" {
				return usagef("chain-id", "required")
			}
			if err := checkChainIDFlag("chain-id", chainID); err != nil {
				return err
			}
			x, err := signerPubKey(pkHex, keyFile)
			if err != nil {
				return err
			}
			st, err := signer.OpenStore(dbFile, signer.StoreOptions{})
			if err != nil {
				return storeRefusalHint(err, dbFile)
			}
			defer st.Close()
			n, err := st.Rollback([]byte(chainID), &x, above, yes)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(struct {
					Deleted int `json:"deleted"`
				}{n})
			}
			a.printf("deleted %d record(s) above height %d\n", n, above)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbFile, "db", "", "signing-record store")
	cmd.Flags().StringVar(&chainID, "chain-id", "", "chain ID")
	cmd.Flags().StringVar(&pkHex, "pk", "", "public key (32 or 33 bytes hex)")
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file (its public key)")
	cmd.Flags().Uint64Var(&above, "above", 0, "delete records with height > this")
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm the deletion")
	_ = cmd.MarkFlagRequired("db")
	return cmd
}

func newEotsBackupCmd(a *app) *cobra.Command {
	var dbFile, out string
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Write a consistent copy of a signing-record store",
		Long: `Copies --db to --out in one read transaction, mode 0600, atomically, with a
high-water mark of its own (OUT.hwm1, so that the copy opens by itself);
refuses to overwrite --out or its mark. The store is opened like any other
use, so no signer may hold it at the time (it fails with "in use" otherwise),
and a store the signer refuses is not backed up.`,
		Example: `  btcstake eots backup --db fp-records.db --out fp-records-2026-11-21.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := signer.OpenStore(dbFile, signer.StoreOptions{})
			if err != nil {
				return storeRefusalHint(err, dbFile)
			}
			defer st.Close()
			if err := st.Backup(out); err != nil {
				return err
			}
			a.printf("backed up %s to %s\n", dbFile, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&dbFile, "db", "", "signing-record store")
	cmd.Flags().StringVar(&out, "out", "", "backup file to create")
	_ = cmd.MarkFlagRequired("db")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

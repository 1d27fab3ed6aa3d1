package main

// btcstake key keygen|import|show|export: keystores for the staker,
// covenant and finality provider roles.
//
// A keystore holds one secp256k1 secret key encrypted with a passphrase
// (package keystore's age-scrypt format, the same file "btcstake eots keygen"
// writes). The key itself has no role: its role in a transaction is the slot
// its public key has in the staking leaf, which sign, adaptor sign-slashing
// and adaptor complete-slashing discover from the PSBT. So the keystore records no
// role and any keystore works with any --key flag; "btcstake key" exists so
// a staker or covenant member need not reach for the EOTS commands, and its
// help says plainly to keep one key per role.

import (
	"encoding/hex"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/keystore"
)

func init() { register(newKeyCmd) }

func newKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Encrypted keystores for staker, covenant and finality provider keys",
		Long: `key creates and reads passphrase-encrypted keystores (age with scrypt, mode
0600, written atomically): the same format as "btcstake eots keygen", so a
keystore works wherever a command takes --key (sign, adaptor sign-slashing,
adaptor complete-slashing --fp-sk-file, eots sign). The public key is stored in the
clear, so "key show" needs no passphrase; everything else asks for it through
--passphrase-file, $BTCSTAKE_PASSPHRASE or a terminal prompt.

A keystore records no role: a key's role in a transaction is the slot its
public key has in the staking script, which the signing commands find in the
PSBT. Use a separate key for every role and delegation you take part in: a
staker key that is also a covenant member's key, or a finality provider's
EOTS key reused as a staker key, ties the roles together on chain, and a
leaked EOTS key would then spend the stake too.

sign, adaptor sign-slashing and adaptor complete-slashing also accept a plain file
holding the hex secret key (mode 0600); "key import --sk-file" turns one
into a keystore.`,
		Example: `  btcstake key keygen --key staker.keystore --passphrase-file pass.txt
  btcstake key show --key staker.keystore --json | jq -r .public_key   # for --staker-pk
  btcstake sign --psbt unbond.psbt --key staker.keystore --passphrase-file pass.txt --out unbond-staker.psbt
  btcstake key import --key covenant1.keystore --sk-file covenant1.key --passphrase-file pass.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	keygen := newEotsKeygenCmd(a)
	keygen.Short = "Generate a key into a new passphrase-encrypted keystore"
	keygen.Long = `Generates a random secp256k1 secret key and writes it to --key, encrypted with
a passphrase (age, scrypt), mode 0600, atomically. Refuses to overwrite an
existing file. Prints the public key only: the 32-byte x-only form is what
--staker-pk, --fp-pk and the params' covenant keys take.`
	keygen.Example = `  btcstake key keygen --key staker.keystore --passphrase-file pass.txt
  public key             3f0c...
  public key (33 bytes)  023f0c...
  keystore               staker.keystore`

	imp := newEotsImportCmd(a)
	imp.Short = "Import a secret key (e.g. a plain hex key file) into a keystore"
	imp.Long = `Reads a 32-byte secret key (64 hex characters) from --sk-file ("-" for stdin),
for instance a plain key file used with --key so far, and writes it to --key
encrypted with a passphrase, mode 0600, atomically. Refuses to overwrite an
existing keystore unless --force. The plain file is left in place: delete it
yourself once the keystore works.`
	imp.Example = `  btcstake key import --key staker.keystore --sk-file staker.key --passphrase-file pass.txt
  shred -u staker.key`

	show := newKeyShowCmd(a)

	export := newEotsExportCmd(a)
	export.Long = `Decrypts the keystore and prints the 32-byte secret key in hex. Anyone who
sees it can sign in the key's role: it is printed only when --show-secret is
given.`
	export.Example = `  btcstake key export --key staker.keystore --passphrase-file pass.txt --show-secret`

	cmd.AddCommand(keygen, imp, show, export)
	return cmd
}

// keyShowJSON is keyJSON with the key's single-key addresses on --network,
// so a staker knows where to receive the coins it stakes.
type keyShowJSON struct {
	keyJSON
	P2WPKH         string `json:"p2wpkh_address"`
	P2WPKHPkScript string `json:"p2wpkh_pk_script"`
	P2TR           string `json:"p2tr_address"`
	P2TRPkScript   string `json:"p2tr_pk_script"`
}

func newKeyShowCmd(a *app) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show a keystore's public key and addresses (no passphrase needed)",
		Long: `Prints the public key recorded in the keystore (32-byte x-only, the form
--staker-pk and --fp-pk take, and 33-byte compressed) and the key's own
P2WPKH and P2TR (BIP-86 key path) addresses on --network: coins paid there
can fund a stake, and sign signs them with the same --key.`,
		Example: `  btcstake key show --key staker.keystore
  STAKER_PK=$(btcstake key show --key staker.keystore --json | jq -r .public_key)
  ADDR=$(btcstake key show --key staker.keystore --json | jq -r .p2wpkh_address)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			pk, err := keystore.PublicKey(keyFile)
			if err != nil {
				return usagef("key", "%v", err)
			}
			raw := pk.SerializeCompressed()
			out := keyShowJSON{keyJSON: keyInfo(raw, keyFile)}
			wpkh, err := address.NewAddressWitnessPubKeyHash(address.Hash160(raw), net)
			if err != nil {
				return err
			}
			tr, err := address.NewAddressTaproot(txscript.ComputeTaprootKeyNoScript(pk).SerializeCompressed()[1:], net)
			if err != nil {
				return err
			}
			out.P2WPKH, out.P2TR = wpkh.EncodeAddress(), tr.EncodeAddress()
			for _, x := range []struct {
				ad  address.Address
				dst *string
			}{{wpkh, &out.P2WPKHPkScript}, {tr, &out.P2TRPkScript}} {
				script, err := txscript.PayToAddrScript(x.ad)
				if err != nil {
					return err
				}
				*x.dst = hex.EncodeToString(script)
			}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("public key             %s\npublic key (33 bytes)  %s\np2wpkh address         %s\np2tr address           %s\nkeystore               %s\n",
				out.PublicKey, out.PublicKeyCompressed, out.P2WPKH, out.P2TR, out.KeyFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore file")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

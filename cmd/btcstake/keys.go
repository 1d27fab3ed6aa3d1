package main

// btcstake key keygen|import|show|export: keystores for the staker,
// covenant and finality provider roles.
//
// A keystore holds one secp256k1 secret key encrypted with a passphrase
// (eots/signer's age-scrypt format, the same file "btcstake eots keygen"
// writes). The key itself has no role: its role in a transaction is the slot
// its public key has in the staking leaf, which sign, adaptor-sign-slashing
// and complete-slashing discover from the PSBT. So the keystore records no
// role and any keystore works with any --key flag; "btcstake key" exists so
// a staker or covenant member need not reach for the EOTS commands, and its
// help says plainly to keep one key per role.

import (
	"github.com/spf13/cobra"
)

func init() { register(newKeyCmd) }

func newKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Encrypted keystores for staker, covenant and finality provider keys",
		Long: `key creates and reads passphrase-encrypted keystores (age with scrypt, mode
0600, written atomically): the same format as "btcstake eots keygen", so a
keystore works wherever a command takes --key (sign, adaptor-sign-slashing,
complete-slashing --fp-sk-file, eots sign). The public key is stored in the
clear, so "key show" needs no passphrase; everything else asks for it through
--passphrase-file, $BTCSTAKE_PASSPHRASE or a terminal prompt.

A keystore records no role: a key's role in a transaction is the slot its
public key has in the staking script, which the signing commands find in the
PSBT. Use a separate key for every role and delegation you take part in: a
staker key that is also a covenant member's key, or a finality provider's
EOTS key reused as a staker key, ties the roles together on chain, and a
leaked EOTS key would then spend the stake too.

sign, adaptor-sign-slashing and complete-slashing also accept a plain file
holding the hex secret key (mode 0600); "key import --sk-file" turns one
into a keystore.`,
		Example: `  btcstake key keygen --key staker.keystore --passphrase-file pass.txt
  btcstake key show --key staker.keystore --json | jq -r .public_key   # for --staker-pk
  btcstake sign --psbt unbond.psbt --key staker.keystore --passphrase-file pass.txt --out unbond.psbt
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

	show := newEotsShowCmd(a)
	show.Example = `  btcstake key show --key staker.keystore
  btcstake key show --key staker.keystore --json | jq -r .public_key`

	export := newEotsExportCmd(a)
	export.Long = `Decrypts the keystore and prints the 32-byte secret key in hex. Anyone who
sees it can sign in the key's role: it is printed only when --show-secret is
given.`
	export.Example = `  btcstake key export --key staker.keystore --passphrase-file pass.txt --show-secret`

	cmd.AddCommand(keygen, imp, show, export)
	return cmd
}

package main

import (
	"encoding/hex"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/spf13/cobra"
)

func init() { register(newAdaptorCmd) }

func newAdaptorCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "adaptor",
		Short: "Schnorr adaptor signatures: sign, verify, decrypt, extract; on slashing PSBTs",
		Long: `Covenant members sign slashing transactions with Schnorr adaptor signatures
encrypted under a finality provider's public key (docs/spec.md §6).
Adaptor signatures are 65 bytes (R0 || s0); the legacy 66-byte form is
accepted as input. Message hashes are 32-byte tapscript sighashes.

sign, verify, decrypt and extract work on one message hash; sign-slashing
(a covenant member signs a slashing PSBT) and complete-slashing (anyone
holding a finality provider's leaked key completes it) do the same on PSBTs.`,
		Example: `  btcstake adaptor sign --key covenant1.key --enc-key <fp pk hex> --msg-hash <hex>
  btcstake adaptor verify --pk <hex> --enc-key <hex> --msg-hash <hex> --sig <hex>
  btcstake adaptor sign-slashing --psbt slash.psbt --key covenant1.key --out slash-cov1.psbt \
    --params params/regtest-example.json --fp-pk <hex> --staking-time 144
  btcstake adaptor complete-slashing --psbt slash-cov1.psbt --fp-sk-file fp.key --json`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAdaptorSignCmd(a), newAdaptorVerifyCmd(a), newAdaptorDecryptCmd(a), newAdaptorExtractCmd(a),
		newAdaptorSignSlashingCmd(a), newCompleteSlashingCmd(a))
	return cmd
}

func parseMsgHash(flag, s string) ([]byte, error) {
	b, err := parseHex(flag, s)
	if err != nil {
		return nil, err
	}
	if len(b) != 32 {
		return nil, usagef(flag, "message hash must be 32 bytes, got %d", len(b))
	}
	return b, nil
}

func parseEncKey(flag, s string) (*adaptor.EncryptionKey, *btcec.PublicKey, error) {
	pk, err := parsePubKey(flag, s)
	if err != nil {
		return nil, nil, err
	}
	ek, err := adaptor.NewEncryptionKey(pk)
	if err != nil {
		return nil, nil, usagef(flag, "%v", err)
	}
	return ek, pk, nil
}

func parseAdaptorSig(flag, s string) (*adaptor.Signature, error) {
	return parseHexAs(flag, s, adaptor.Parse)
}

type adaptorSigJSON struct {
	AdaptorSignature string `json:"adaptor_signature"`
}

func newAdaptorSignCmd(a *app) *cobra.Command {
	var keyFile, ekHex, mHex, auxHex string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Create an adaptor signature encrypted under a finality provider key",
		Long: `Signs the 32-byte --msg-hash with the key in --key (a keystore or a plain
hex key file, mode 0600), encrypted under --enc-key (the FP
public key, lifted to even y). Fresh randomness is used unless --aux gives the
32-byte auxiliary data, which makes the output reproducible.`,
		Example: `  echo 0000000000000000000000000000000000000000000000000000000000000003 > cov.hex; chmod 600 cov.hex
  btcstake adaptor sign --key cov.hex \
    --enc-key dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659 \
    --msg-hash 31af10958c444c19b6bc71c82b07c30cd24661f75920f93975a31fab1455d050 \
    --aux 0000000000000000000000000000000000000000000000000000000000000000
  0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sk, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			defer sk.Zero()
			ek, _, err := parseEncKey("enc-key", ekHex)
			if err != nil {
				return err
			}
			m, err := parseMsgHash("msg-hash", mHex)
			if err != nil {
				return err
			}
			var sig *adaptor.Signature
			if cmd.Flags().Changed("aux") {
				ab, err := parseHex("aux", auxHex)
				if err != nil {
					return err
				}
				if len(ab) != 32 {
					return usagef("aux", "must be 32 bytes, got %d", len(ab))
				}
				sig, err = adaptor.EncSignAux(sk, ek, m, [32]byte(ab))
				if err != nil {
					return err
				}
			} else if sig, err = adaptor.EncSign(sk, ek, m); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(adaptorSigJSON{AdaptorSignature: sig.String()})
			}
			a.printf("%s\n", sig)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the signer's (covenant member's) key file: a keystore or the 32-byte key as hex, mode 0600")
	pf.add(cmd)
	refuseSecretFlag(cmd, "sk", "write the key to a file with mode 0600 and pass --key FILE")
	cmd.Flags().StringVar(&ekHex, "enc-key", "", "encryption key: the finality provider public key (32 or 33 bytes hex)")
	cmd.Flags().StringVar(&mHex, "msg-hash", "", "32-byte message hash (the slashing tx sighash), hex")
	cmd.Flags().StringVar(&auxHex, "aux", "", "32-byte auxiliary randomness, hex (default: fresh random)")
	for _, f := range []string{"key", "enc-key", "msg-hash"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newAdaptorVerifyCmd(a *app) *cobra.Command {
	var pkHex, ekHex, mHex, sigHex string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify an adaptor signature (exit 0 valid, 1 invalid)",
		Long: `Checks that --sig is an adaptor signature by --pk on --msg-hash encrypted under
--enc-key. Exits 0 when valid, 1 with a one-line reason when not.`,
		Example: `  btcstake adaptor verify \
    --pk f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9 \
    --enc-key dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659 \
    --msg-hash 31af10958c444c19b6bc71c82b07c30cd24661f75920f93975a31fab1455d050 \
    --sig 0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0
  valid`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := parsePubKey("pk", pkHex)
			if err != nil {
				return err
			}
			ek, _, err := parseEncKey("enc-key", ekHex)
			if err != nil {
				return err
			}
			m, err := parseMsgHash("msg-hash", mHex)
			if err != nil {
				return err
			}
			sig, err := parseAdaptorSig("sig", sigHex)
			if err != nil {
				return err
			}
			return a.reportVerify(adaptor.EncVerify(pk, ek, m, sig))
		},
	}
	cmd.Flags().StringVar(&pkHex, "pk", "", "signer public key (32 or 33 bytes hex)")
	cmd.Flags().StringVar(&ekHex, "enc-key", "", "encryption key: the finality provider public key (32 or 33 bytes hex)")
	cmd.Flags().StringVar(&mHex, "msg-hash", "", "32-byte message hash, hex")
	cmd.Flags().StringVar(&sigHex, "sig", "", "adaptor signature (65 bytes, or legacy 66), hex")
	for _, f := range []string{"pk", "enc-key", "msg-hash", "sig"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

type decryptJSON struct {
	Signature string `json:"signature"`
}

func newAdaptorDecryptCmd(a *app) *cobra.Command {
	var sigHex, keyFile string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "decrypt",
		Short: "Decrypt an adaptor signature into a BIP-340 signature with the FP secret key",
		Long: `Uses the finality provider's secret key (in the --key file: a keystore or a
plain hex key file, mode 0600; negated internally if its public key has odd y) to turn --sig into the 64-byte BIP-340 signature that
completes the slashing transaction.`,
		Example: `  btcstake adaptor decrypt \
    --sig 0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0 \
    --key fp.hex
  16a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79e0e3d15e727adf7ce6dec6116f6969d576fed9eaaba2613805575111a0d4c8db1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sig, err := parseAdaptorSig("sig", sigHex)
			if err != nil {
				return err
			}
			sk, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			defer sk.Zero()
			dk, err := adaptor.NewDecryptionKey(sk)
			if err != nil {
				return usagef("key", "%v", err)
			}
			defer dk.Zero()
			final, err := adaptor.Decrypt(sig, dk)
			if err != nil {
				return err
			}
			out := decryptJSON{Signature: hex.EncodeToString(final.Serialize())}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("%s\n", out.Signature)
			return nil
		},
	}
	cmd.Flags().StringVar(&sigHex, "sig", "", "adaptor signature (65 bytes, or legacy 66), hex")
	cmd.Flags().StringVar(&keyFile, "key", "", "the finality provider's key file: a keystore or the 32-byte key as hex, mode 0600")
	pf.add(cmd)
	refuseSecretFlag(cmd, "dec-key", "write the key to a file with mode 0600 and pass --key FILE")
	_ = cmd.MarkFlagRequired("sig")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

type adaptorExtractJSON struct {
	DecryptionKey string `json:"decryption_key"`
	SecretKey     string `json:"secret_key"`
}

func newAdaptorExtractCmd(a *app) *cobra.Command {
	var sigHex, finHex, ekHex string
	cmd := &cobra.Command{
		Use:   "extract",
		Short: "Recover the FP secret key from an adaptor signature and its completed signature",
		Long: `Given the adaptor signature and the 64-byte BIP-340 signature completed from
it (e.g. read from a slashing transaction's witness), prints the decryption key
and the finality provider's secret key: the actual key when --enc-key is a
33-byte compressed key, the BIP-340-normalised one when it is x-only. Exits 1
when the signature was not decrypted from this adaptor signature.`,
		Example: `  btcstake adaptor extract \
    --sig 0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0 \
    --schnorr-sig 16a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79e0e3d15e727adf7ce6dec6116f6969d576fed9eaaba2613805575111a0d4c8db1 \
    --enc-key 02dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sig, err := parseAdaptorSig("sig", sigHex)
			if err != nil {
				return err
			}
			fb, err := parseHex("schnorr-sig", finHex)
			if err != nil {
				return err
			}
			final, err := schnorr.ParseSignature(fb)
			if err != nil {
				return usagef("schnorr-sig", "not a 64-byte BIP-340 signature: %v", err)
			}
			ek, pk, err := parseEncKey("enc-key", ekHex)
			if err != nil {
				return err
			}
			dk, err := adaptor.Extract(sig, final, ek)
			if err != nil {
				return err
			}
			defer dk.Zero()
			sk, err := adaptor.RecoverSecretKey(sig, final, pk)
			if err != nil {
				return err
			}
			defer sk.Zero()
			db := dk.Bytes()
			out := adaptorExtractJSON{DecryptionKey: hex.EncodeToString(db[:]), SecretKey: hex.EncodeToString(sk.Serialize())}
			clear(db[:])
			if a.json {
				return a.printJSON(out)
			}
			a.printf("decryption key  %s\nsecret key      %s\n", out.DecryptionKey, out.SecretKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&sigHex, "sig", "", "adaptor signature (65 bytes, or legacy 66), hex")
	cmd.Flags().StringVar(&finHex, "schnorr-sig", "", "the completed 64-byte BIP-340 signature, hex")
	cmd.Flags().StringVar(&ekHex, "enc-key", "", "the finality provider public key (32 or 33 bytes hex)")
	for _, f := range []string{"sig", "schnorr-sig", "enc-key"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

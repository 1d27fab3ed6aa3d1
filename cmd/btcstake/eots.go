package main

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcstake/btcstake/eots"
	"github.com/spf13/cobra"
)

func init() { register(newEotsCmd) }

// eotsSubcommands lists constructors of "btcstake eots ..." subcommands, so
// that command files other than this one (the signer's) can add to the group.
var eotsSubcommands []func(*app) *cobra.Command

func newEotsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eots",
		Short: "Extractable one-time signatures: randomness, commitments, verify, extract",
		Long: `EOTS is how finality providers vote: each vote at a height is a BIP-340
signature with a nonce committed to in advance, so two different votes at one
height reveal the provider's secret key. Messages are raw hex; the SHA-256
happens inside, as in Babylon.`,
		Example: `  btcstake eots pubrand --sk <hex> --chain-id bbn-test-5 --start-height 100 --count 4
  btcstake eots verify --pk <hex> --pub-rand <hex> --msg <hex> --sig <hex>`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newEotsPubrandCmd(a), newEotsVerifyCmd(a), newEotsExtractCmd(a))
	for _, ctor := range eotsSubcommands {
		cmd.AddCommand(ctor(a))
	}
	return cmd
}

func parsePubRandFlag(flag, s string) (eots.PublicRand, error) {
	return parseHexAs(flag, s, eots.ParsePublicRand)
}

func parseEotsSigFlag(flag, s string) (eots.Signature, error) {
	return parseHexAs(flag, s, eots.ParseSignature)
}

type proofJSON struct {
	Total    uint64   `json:"total"`
	Index    uint64   `json:"index"`
	LeafHash string   `json:"leaf_hash"`
	Aunts    []string `json:"aunts"`
}

type pubRandJSON struct {
	Height  uint64    `json:"height"`
	PubRand string    `json:"pub_rand"`
	Proof   proofJSON `json:"proof"`
}

type pubrandOutJSON struct {
	PublicKey       string        `json:"public_key"`
	ChainID         string        `json:"chain_id"`
	StartHeight     uint64        `json:"start_height"`
	Count           uint64        `json:"count"`
	Commitment      string        `json:"commitment"`
	CommitSignature string        `json:"commit_signature"`
	SigningContext  string        `json:"signing_context,omitempty"`
	PubRand         []pubRandJSON `json:"pub_rand"`
}

func newEotsPubrandCmd(a *app) *cobra.Command {
	var keyFile, chainID, ctxAddr string
	var start, count uint64
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "pubrand",
		Short: "Public randomness per height, its Merkle commitment and every proof",
		Long: `Derives the public randomness of a finality provider key for --count heights
from --start-height on chain --chain-id (HMAC-SHA256 per height, docs/spec.md
section 7), and prints the RFC-6962 Merkle root over it (the commitment), the
BIP-340 signature over sha256(BE64(start) || BE64(count) || root) (prefixed
with Babylon v3's signing context when --context-address is given), and the
inclusion proof of every value. The secret key is never printed.`,
		Example: `  # the key in a plain hex file (mode 0600), or in a keystore (eots keygen|import)
  btcstake eots pubrand --key fp.hex --chain-id bbn-test-5 --start-height 100 --count 4
  btcstake eots pubrand --key fp.key --passphrase-file pass.txt \
    --chain-id bbn-test-5 --start-height 100 --count 4
  # machine-readable, with proofs as lists of hex aunts: add --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			sk, err := eots.NewSecretKey(k)
			k.Zero()
			if err != nil {
				return usagef("key", "%v", err)
			}
			defer sk.Zero()
			if chainID == "" {
				return usagef("chain-id", "empty value")
			}
			if count == 0 || count > eots.MaxRandList {
				return usagef("count", "must be in [1, %d], got %d", eots.MaxRandList, count)
			}
			if count-1 > ^uint64(0)-start {
				return usagef("count", "height range overflows")
			}
			list, err := eots.PublicRandList(sk, []byte(chainID), start, count, 1)
			if err != nil {
				return err
			}
			root, proofs := eots.CommitProofs(list)
			sctx := ""
			if ctxAddr != "" {
				sctx = eots.SigningContext(eots.ContextRandCommit, chainID, ctxAddr)
			}
			csig, err := eots.SignCommitWithContext(sk, sctx, start, count, root)
			if err != nil {
				return err
			}
			x := sk.XOnly()
			out := pubrandOutJSON{
				PublicKey: hex.EncodeToString(x[:]), ChainID: chainID, StartHeight: start, Count: count,
				Commitment: hex.EncodeToString(root[:]), CommitSignature: hex.EncodeToString(csig[:]), SigningContext: sctx,
				PubRand: make([]pubRandJSON, len(list)),
			}
			for i := range list {
				p := proofs[i]
				pj := proofJSON{Total: p.Total, Index: p.Index, LeafHash: hex.EncodeToString(p.LeafHash[:]), Aunts: make([]string, len(p.Aunts))}
				for j := range p.Aunts {
					pj.Aunts[j] = hex.EncodeToString(p.Aunts[j][:])
				}
				out.PubRand[i] = pubRandJSON{Height: start + uint64(i), PubRand: list[i].String(), Proof: pj}
			}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("public key        %s\n", out.PublicKey)
			a.printf("chain id          %s\n", chainID)
			a.printf("heights           %d..%d (%d values)\n", start, start+count-1, count)
			a.printf("commitment        %s\n", out.Commitment)
			if sctx != "" {
				a.printf("signing context   %s\n", sctx)
			}
			a.printf("commit signature  %s\n\n", out.CommitSignature)
			for _, r := range out.PubRand {
				a.printf("height %d\n  pub_rand  %s\n  proof     index %d of %d, leaf %s\n", r.Height, r.PubRand, r.Proof.Index, r.Proof.Total, r.Proof.LeafHash)
				for _, au := range r.Proof.Aunts {
					a.printf("            aunt %s\n", au)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the finality provider's key file: a keystore (eots keygen|import) or the 32-byte key as hex, mode 0600")
	refuseSecretFlag(cmd, "sk", "write the key to a file with mode 0600, or into a keystore (btcstake eots import), and pass --key FILE")
	pf.add(cmd)
	cmd.Flags().StringVar(&chainID, "chain-id", "", "consumer chain ID (e.g. bbn-test-5)")
	cmd.Flags().StringVar(&ctxAddr, "context-address", "", "sign the commitment with Babylon v3's signing context for this chain and verifier address (the finality module or contract); default: no context, as in docs/spec.md")
	cmd.Flags().Uint64Var(&start, "start-height", 0, "first block height")
	cmd.Flags().Uint64Var(&count, "count", 0, "number of heights")
	for _, f := range []string{"chain-id", "start-height", "count"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

type verifyJSON struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
}

// reportVerify prints a verification verdict ("valid", or JSON with the
// reason) and returns verr, so an invalid signature exits 1 with a one-line
// reason.
func (a *app) reportVerify(verr error) error {
	if a.json {
		out := verifyJSON{Valid: verr == nil}
		if verr != nil {
			out.Reason = verr.Error()
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else if verr == nil {
		a.printf("valid\n")
	}
	return verr
}

func newEotsVerifyCmd(a *app) *cobra.Command {
	var pkHex, rHex, msgHex, sigHex string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify an EOTS signature (exit 0 valid, 1 invalid)",
		Long: `Checks that --sig (the 32-byte s) is an EOTS signature over the raw message
--msg by --pk with public randomness --pub-rand, i.e. that pub_rand || sig is a
BIP-340 signature over sha256(msg). Exits 0 when valid, 1 with a one-line
reason when not, 2 when an input is malformed.`,
		Example: `  # a vote at height 100 (BE64(100) || appHash) with the randomness that
  # "btcstake eots pubrand --chain-id bbn-test-5 --start-height 100" lists:
  btcstake eots verify \
    --pk dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659 \
    --pub-rand 09e70540627b4945c7b7268d36ea371512448d490113b234e9f141a841975f37 \
    --msg 00000000000000640101010101010101010101010101010101010101010101010101010101010101 \
    --sig 75e54e3199428fb4407f8e061d2a2c4efed82ec058f3323b06179c9b22646e71
  valid`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := parsePubKey("pk", pkHex)
			if err != nil {
				return err
			}
			r, err := parsePubRandFlag("pub-rand", rHex)
			if err != nil {
				return err
			}
			msg, err := parseHex("msg", msgHex)
			if err != nil {
				return err
			}
			sig, err := parseEotsSigFlag("sig", sigHex)
			if err != nil {
				return err
			}
			return a.reportVerify(eots.Verify(pk, r, msg, sig))
		},
	}
	cmd.Flags().StringVar(&pkHex, "pk", "", "finality provider public key (32 bytes x-only or 33 compressed, hex)")
	cmd.Flags().StringVar(&rHex, "pub-rand", "", "public randomness (32 bytes hex)")
	cmd.Flags().StringVar(&msgHex, "msg", "", "the raw message (hex); hashed with SHA-256 inside")
	cmd.Flags().StringVar(&sigHex, "sig", "", "EOTS signature s (32 bytes hex)")
	for _, f := range []string{"pk", "pub-rand", "msg", "sig"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

type extractJSON struct {
	SecretKey           string `json:"secret_key"`
	PublicKey           string `json:"public_key"` // x-only, as everywhere
	PublicKeyCompressed string `json:"public_key_compressed"`
}

func newEotsExtractCmd(a *app) *cobra.Command {
	var pkHex, rHex, r2Hex, m1Hex, s1Hex, m2Hex, s2Hex string
	cmd := &cobra.Command{
		Use:   "extract",
		Short: "Recover a secret key from two signatures with the same randomness",
		Long: `Given two EOTS signatures by --pk over different messages made with the same
public randomness, prints the signer's secret key: the actual key when --pk is
a 33-byte compressed key, the BIP-340-normalised key (for the even-y point)
when it is 32-byte x-only. When the inputs cannot leak a key (the same message,
a signature made with other randomness, an invalid signature) it says so and
exits 1.`,
		Example: `  # two votes at height 100 for different app hashes, same randomness:
  btcstake eots extract \
    --pk 02dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659 \
    --pub-rand 09e70540627b4945c7b7268d36ea371512448d490113b234e9f141a841975f37 \
    --msg1 00000000000000640101010101010101010101010101010101010101010101010101010101010101 \
    --sig1 75e54e3199428fb4407f8e061d2a2c4efed82ec058f3323b06179c9b22646e71 \
    --msg2 00000000000000640202020202020202020202020202020202020202020202020202020202020202 \
    --sig2 c619fc81c1866edf2efb918a6f023e79dc70787ff962bc18ca52fa9fcd0977d2
  secret key  b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef
  public key  02dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := parsePubKey("pk", pkHex)
			if err != nil {
				return err
			}
			r, err := parsePubRandFlag("pub-rand", rHex)
			if err != nil {
				return err
			}
			m1, err := parseHex("msg1", m1Hex)
			if err != nil {
				return err
			}
			s1, err := parseEotsSigFlag("sig1", s1Hex)
			if err != nil {
				return err
			}
			m2, err := parseHex("msg2", m2Hex)
			if err != nil {
				return err
			}
			s2, err := parseEotsSigFlag("sig2", s2Hex)
			if err != nil {
				return err
			}
			if r2Hex != "" {
				r2, err := parsePubRandFlag("pub-rand2", r2Hex)
				if err != nil {
					return err
				}
				if r2 != r {
					return fmt.Errorf("no key can be extracted: %w: the two signatures use different public randomness", eots.ErrNotExtractable)
				}
			}
			sk, err := eots.Extract(pk, r, m1, s1, m2, s2)
			if err != nil {
				if errors.Is(err, eots.ErrNotExtractable) {
					return fmt.Errorf("no key can be extracted: %w", err)
				}
				return err
			}
			defer sk.Zero()
			b := sk.Bytes()
			pub := sk.PubKey().SerializeCompressed()
			out := extractJSON{SecretKey: hex.EncodeToString(b[:]), PublicKey: hex.EncodeToString(pub[1:]),
				PublicKeyCompressed: hex.EncodeToString(pub)}
			clear(b[:])
			if a.json {
				return a.printJSON(out)
			}
			a.printf("secret key  %s\npublic key  %s\n", out.SecretKey, out.PublicKeyCompressed)
			return nil
		},
	}
	cmd.Flags().StringVar(&pkHex, "pk", "", "signer public key (32 bytes x-only or 33 compressed, hex)")
	cmd.Flags().StringVar(&rHex, "pub-rand", "", "the public randomness both signatures used (32 bytes hex)")
	cmd.Flags().StringVar(&r2Hex, "pub-rand2", "", "the second signature's public randomness, if known (must equal --pub-rand)")
	cmd.Flags().StringVar(&m1Hex, "msg1", "", "first raw message (hex)")
	cmd.Flags().StringVar(&s1Hex, "sig1", "", "first signature (32 bytes hex)")
	cmd.Flags().StringVar(&m2Hex, "msg2", "", "second raw message (hex)")
	cmd.Flags().StringVar(&s2Hex, "sig2", "", "second signature (32 bytes hex)")
	for _, f := range []string{"pk", "pub-rand", "msg1", "sig1", "msg2", "sig2"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

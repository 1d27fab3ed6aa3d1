package main

// btcstake pop create|verify: the proof of possession of the staker key
// by a Babylon account (package pop; docs/spec.md §9).

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/pop"
)

func init() { register(newPopCmd) }

func newPopCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pop",
		Short: "Proof of possession: the staker key signs the Babylon address (create, verify)",
		Long: `A proof of possession (PoP) shows Babylon that the Babylon account
registering a delegation holds the staker's Bitcoin key: the staker key signs
the account's address. 'pop create' makes one, 'pop verify' checks one as
Babylon does. The result is the hex of Babylon's ProofOfPossessionBTC message,
what 'babylond tx btcstaking create-btc-delegation' takes as pop_hex and what
'btcstake register --pop' reads.`,
		Example: `  btcstake pop create --key staker.key --babylon-address bbn1... > pop.hex
  btcstake pop verify --pop pop.hex --staker-pk <hex> --babylon-address bbn1...`,
	}
	cmd.AddCommand(newPopCreateCmd(a), newPopVerifyCmd(a))
	return cmd
}

// popJSON is what pop create prints with --json: the proof's parts (package
// pop's rendering) with the key and the account it binds.
type popJSON struct {
	pop.JSON
	StakerPK       string `json:"staker_pk"` // x-only
	BabylonAddress string `json:"babylon_address"`
}

// popVerifyJSON is what pop verify prints with --json.
type popVerifyJSON struct {
	Valid  bool   `json:"valid"`
	Reason string `json:"reason,omitempty"`
	pop.JSON
}

// popKindFlags are --kind and --bip322-address-type, shared by pop create
// and register (which makes a proof with --key when --pop is not given).
type popKindFlags struct {
	kind, addrType string
}

func (f *popKindFlags) add(cmd *cobra.Command, kindFlag string) {
	cmd.Flags().StringVar(&f.kind, kindFlag, "bip340", "proof kind: bip340 (a Schnorr signature), bip322 (a BIP-322 signature by the key's address) or ecdsa (a Bitcoin signed message)")
	cmd.Flags().StringVar(&f.addrType, "bip322-address-type", "p2tr", "with bip322: the Bitcoin address that signs, p2tr (BIP-86 key path) or p2wpkh")
	completeValues(cmd, kindFlag, "bip340", "bip322", "ecdsa")
	completeValues(cmd, "bip322-address-type", "p2tr", "p2wpkh")
}

// options parses the flags into the kind and pop.Create's options (net is
// the --network's chain parameters, for a BIP-322 address).
func (f *popKindFlags) options(cmd *cobra.Command, kindFlag string, a *app) (pop.Kind, []pop.Option, error) {
	kind, err := pop.ParseKind(strings.TrimSpace(f.kind))
	if err != nil {
		return 0, nil, usagef(kindFlag, "unknown kind %q (want bip340, bip322 or ecdsa)", f.kind)
	}
	var t pop.AddressType
	switch strings.ToLower(strings.TrimSpace(f.addrType)) {
	case "p2tr":
		t = pop.P2TR
	case "p2wpkh":
		t = pop.P2WPKH
	default:
		return 0, nil, usagef("bip322-address-type", "unknown address type %q (want p2tr or p2wpkh)", f.addrType)
	}
	if kind != pop.BIP322 {
		if cmd.Flags().Changed("bip322-address-type") {
			return 0, nil, usagef("bip322-address-type", "only with --%s bip322", kindFlag)
		}
		return kind, nil, nil
	}
	net, err := a.params()
	if err != nil {
		return 0, nil, err
	}
	return kind, []pop.Option{pop.WithBIP322(net, t)}, nil
}

// checkBabylonAddress parses --babylon-address: a malformed address is a
// usage error naming the flag.
func checkBabylonAddress(flag, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", usagef(flag, "required: the staker's Babylon account (bbn1...)")
	}
	if _, err := pop.ParseBabylonAddress(s); err != nil {
		return "", usagef(flag, "%v", err)
	}
	return s, nil
}

// readPoP reads a --pop value: the hex of a ProofOfPossessionBTC, a file
// holding it (PATH, @PATH) or - for standard input. A value that is not a
// proof is a usage error.
func readPoP(flag, v string) (*pop.Proof, error) {
	data, _, err := readInput(flag, "a hex proof of possession", v, isHexText)
	if err != nil {
		return nil, err
	}
	text := strings.TrimPrefix(strings.TrimSpace(string(data)), "0x")
	p, err := pop.ParseHex(text)
	if err != nil {
		return nil, usagef(flag, "%v", err)
	}
	return p, nil
}

func newPopCreateCmd(a *app) *cobra.Command {
	var keyFile, addr string
	var kf popKindFlags
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Make the proof of possession of the staker key for a Babylon account",
		Long: `Signs the Babylon account address with the staker key from --key (a
keystore or a plain hex key file) and prints the proof as pop_hex, the hex of
Babylon's ProofOfPossessionBTC. --kind picks the signature Babylon accepts:

  bip340  a BIP-340 Schnorr signature over SHA256 of the address's 20 bytes
  bip322  a BIP-322 simple signature over the address text, by the staker
          key's P2TR (BIP-86) or P2WPKH address on --network
          (--bip322-address-type)
  ecdsa   a Bitcoin signed-message signature over the address text

With --json the parts are printed too (the kind, the signature, for bip322
the signing address and witness).`,
		Example: `  btcstake pop create --key staker.key --babylon-address bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424
  btcstake pop create --network mainnet --key staker.key --babylon-address bbn1... \
      --kind bip322 --bip322-address-type p2wpkh --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := checkBabylonAddress("babylon-address", addr)
			if err != nil {
				return err
			}
			kind, opts, err := kf.options(cmd, "kind", a)
			if err != nil {
				return err
			}
			sk, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			p, err := pop.Create(kind, sk, addr, opts...)
			if err != nil {
				return fmt.Errorf("creating the proof of possession: %w", err)
			}
			pk := hex.EncodeToString(schnorr.SerializePubKey(sk.PubKey()))
			if a.json {
				return a.printJSON(popJSON{JSON: p.JSON(), StakerPK: pk, BabylonAddress: addr})
			}
			a.printf("%s\n", p.Hex())
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the staker's key: a keystore (btcstake key keygen|import) or a file holding the key in hex")
	cmd.Flags().StringVar(&addr, "babylon-address", "", "the Babylon account (bbn1...) that registers the delegation")
	kf.add(cmd, "kind")
	pf.add(cmd)
	refuseSecretFlag(cmd, "sk", "write the key to a file with mode 0600, or into a keystore (btcstake key import), and pass --key FILE")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("babylon-address")
	return cmd
}

func newPopVerifyCmd(a *app) *cobra.Command {
	var popArg, pkArg, addr string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check a proof of possession as Babylon does (exit 0 valid, 1 invalid)",
		Long: `Checks that --pop (pop_hex: the hex, a file holding it, or - for standard
input) proves possession of --staker-pk by the Babylon account
--babylon-address, as Babylon v4 does. A BIP-322 proof's address is read for
--network. Exits 0 when valid, 1 with a one-line reason when not (a proof
signed over the late-2024 message form, which Babylon no longer accepts, says
so), 2 when an input is malformed.`,
		Example: `  btcstake pop verify --pop pop.hex --staker-pk 79f71003589158b2579345540b08bbc74974c49dd5e0782e31d0de674540d513 \
      --babylon-address bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424 --network mainnet
  btcstake pop create --key staker.key --babylon-address bbn1... | btcstake pop verify --pop - --staker-pk <hex> --babylon-address bbn1...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pk, err := parsePubKey("staker-pk", pkArg)
			if err != nil {
				return err
			}
			addr, err := checkBabylonAddress("babylon-address", addr)
			if err != nil {
				return err
			}
			p, err := readPoP("pop", popArg)
			if err != nil {
				return err
			}
			net, err := a.params()
			if err != nil {
				return err
			}
			verr := p.Verify(pk, addr, net)
			if errors.Is(verr, pop.ErrOption) {
				return usagef("pop", "%v", verr)
			}
			if verr != nil {
				verr = fmt.Errorf("invalid proof of possession: %w", verr)
			}
			if a.json {
				out := popVerifyJSON{Valid: verr == nil, JSON: p.JSON()}
				if verr != nil {
					out.Reason = verr.Error()
				}
				if err := a.printJSON(out); err != nil {
					return err
				}
				return verr
			}
			if verr == nil {
				a.printf("valid %s proof of possession of %s by %s\n", p.Kind(), hex.EncodeToString(schnorr.SerializePubKey(pk)), addr)
			}
			return verr
		},
	}
	cmd.Flags().StringVar(&popArg, "pop", "", "the proof: pop_hex, a file holding it (PATH, @PATH) or - for stdin")
	cmd.Flags().StringVar(&pkArg, "staker-pk", "", "staker public key (hex, 32-byte x-only or 33-byte compressed)")
	cmd.Flags().StringVar(&addr, "babylon-address", "", "the Babylon account (bbn1...) the proof names")
	for _, n := range []string{"pop", "staker-pk", "babylon-address"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

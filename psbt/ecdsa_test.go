package psbt

import "github.com/btcsuite/btcd/btcec/v2/ecdsa"

func ecdsaParse(der []byte) (*ecdsa.Signature, error) { return ecdsa.ParseDERSignature(der) }

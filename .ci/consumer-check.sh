#!/usr/bin/env bash
# Consumers on older btcd must build (issue 10, item 5). btcd v0.26 moved
# wire, txscript and btcutil out of the btcd root module, so a program still
# on btcd v0.24/v0.25 (lnd, btcwallet, Babylon's Go code) stops compiling the
# moment anything in its module graph requires the root module at v0.26.
# This script proves btcstake forces no such thing:
#   1. btcstake's own module graph does not contain the btcd root module;
#   2. a throwaway module requiring btcd v0.24.2, importing its
#      github.com/btcsuite/btcd/wire and calling btcstake's builders, builds
#      and runs, and keeps btcd at v0.24.2.
# It needs the Go module proxy (go mod tidy of the throwaway module).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export GOWORK=off

echo "== the btcd root module is not in btcstake's module graph"
if go list -m all | grep -q '^github.com/btcsuite/btcd '; then
	echo "go list -m all lists github.com/btcsuite/btcd:"
	go mod why -m github.com/btcsuite/btcd || true
	exit 1
fi

echo "== a module on btcd v0.24.2 builds against btcstake"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
goversion=$(awk '$1 == "go" { print $2; exit }' go.mod)
cat > "$tmp/go.mod" <<MOD
module example.com/oldbtcd

go $goversion

require (
	github.com/btcsuite/btcd v0.24.2
	github.com/btcstake/btcstake v0.0.0
)

replace github.com/btcstake/btcstake => $root
MOD
cat > "$tmp/main.go" <<'GO'
// A consumer still on btcd v0.24.2: its wire package (the root module's,
// v1) beside btcstake's builders (on the btcd v2 module set).
package main

import (
	"fmt"
	"os"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire"
	wirev2 "github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// stakingTx is a transaction paying 100000 sat to pkScript, built with
// btcstake's own (v2) wire package through psbt's types.
func stakingTx(pkScript []byte) *wirev2.MsgTx {
	tx := wirev2.NewMsgTx(2)
	tx.AddTxIn(&wirev2.TxIn{})
	tx.AddTxOut(wirev2.NewTxOut(100_000, pkScript))
	return tx
}

func main() {
	key := func() *btcec.PublicKey {
		k, err := btcec.NewPrivateKey()
		if err != nil {
			panic(err)
		}
		return k.PubKey()
	}
	out, err := script.NewStakingOutput(script.Parties{Staker: key(), FinalityProviders: []*btcec.PublicKey{key()},
		Covenant: []*btcec.PublicKey{key(), key(), key()}, CovenantQuorum: 2}, 144)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tx := wire.NewMsgTx(2) // btcd v0.24.2's wire
	tx.AddTxOut(wire.NewTxOut(100_000, out.PkScript))
	// psbt (whose validators once imported the root module's blockchain
	// and mempool packages) builds an unbonding transaction.
	d := psbt.Delegation{Params: params.RegtestExample(), Staker: key(), FinalityProviders: []*btcec.PublicKey{key()}, StakingTime: 144}
	st, err := d.StakingOutput()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx(st.PkScript), Index: 0}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	url, _ := chain.NormalizeURL("127.0.0.1:8332")
	fmt.Printf("staking output %x in a v0.24.2 wire tx of %d bytes; node %s\n", out.PkScript, tx.SerializeSize(), url)
}
GO
(
	cd "$tmp"
	go mod tidy
	go build -o oldbtcd .
	./oldbtcd
	v=$(go list -m -f '{{.Version}}' github.com/btcsuite/btcd)
	if [ "$v" != v0.24.2 ]; then
		echo "the consumer's btcd was raised to $v"; exit 1
	fi
)
echo "consumer check passed"

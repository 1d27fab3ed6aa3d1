package main

// What `status` and `watch` share about the watcher's store (the --db
// file): how its errors read, and where status keeps its cache.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/watch"
)

// storeError says in plain words why the store at path cannot be used.
// flag names the flag that chose the file ("db"); an empty flag means
// status's own cache file. network is the --network the file was opened
// for.
func storeError(flag, path, network string, err error) error {
	where := "the watcher store " + path
	if flag != "" {
		where = "--" + flag + ": " + path
	}
	// A --db file that is not a store of this network is a bad command
	// line, as a bad --params file is (exit 2); one in use is not.
	bad := func(e error) error {
		if flag != "" {
			return usageError{e}
		}
		return e
	}
	switch {
	case errors.Is(err, watch.ErrStoreInUse):
		return fmt.Errorf("%s is in use by another process (a running 'btcstake watch'?): stop it first, or ask its --listen address (/api/stakes): %w", where, err)
	case errors.Is(err, watch.ErrWrongNetwork):
		return bad(fmt.Errorf("%s belongs to another network than --network %s: %w", where, network, err))
	case errors.Is(err, watch.ErrStore):
		return bad(fmt.Errorf("%s cannot be used: %w", where, err))
	}
	return fmt.Errorf("%s: %w", where, err)
}

// statusDirEnv names the directory status keeps its stores in, instead
// of the default below.
const statusDirEnv = "BTCSTAKE_STATUS_DIR"

// statusCacheDir is where status keeps one watcher store per staking
// transaction of a network: $BTCSTAKE_STATUS_DIR/<network>, else
// $BTCSTAKE_CACHE_DIR/status/<network> (the directory the regtest harness
// caches its btcd build in), else <user cache dir>/btcstake/status/<network>
// (~/.cache/btcstake/status/regtest on Linux). The empty string when none
// is known (no $HOME).
func statusCacheDir(network string) string {
	if d := os.Getenv(statusDirEnv); d != "" {
		return filepath.Join(d, network)
	}
	if d := os.Getenv(regtest.EnvCacheDir); d != "" {
		return filepath.Join(d, "status", network)
	}
	d, err := os.UserCacheDir()
	if err != nil || d == "" {
		return ""
	}
	return filepath.Join(d, "btcstake", "status", network)
}

// statusCacheFile is the cache store of one staking transaction. A
// staking transaction pays exactly one staking output, so its txid names
// the stake.
func statusCacheFile(dir string, txid chainhash.Hash) string {
	return filepath.Join(dir, txid.String()+".db")
}

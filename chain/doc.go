// Package chain is a typed client for a Bitcoin node's JSON-RPC (btcd or
// bitcoind): transaction and block lookups, the tip, broadcasting with
// typed rejections, testmempoolaccept, the search for the transaction that
// spends an output, and waiting for confirmations. It is what the CLI's
// node commands and the regtest harness talk to a node through.
//
//	c, err := chain.New(chain.Config{URL: "127.0.0.1:8332", User: u, Pass: p})
//	if err := c.CheckNetwork(ctx, &chaincfg.MainNetParams); err != nil { ... } // ErrWrongChain
//	txid, err := c.Broadcast(ctx, tx)
//	switch {
//	case errors.Is(err, chain.ErrSequenceLock): // a CSV lock has not matured
//	case errors.Is(err, chain.ErrScriptFailure): // a signature is missing or wrong
//	}
//	n, err := c.WaitConfirmations(ctx, txid, 6, chain.WaitOptions{})
//
// Errors carry one kind each (errors.Is): a node that cannot be reached is
// ErrUnreachable, refused credentials ErrAuth, a context that ends or a
// call that outlasts Config.CallTimeout ErrTimeout, an unknown
// transaction or block ErrNotFound, and a refused transaction a
// *RejectError matching ErrRejected and the reason's kind, classified from
// btcd's and Bitcoin Core's reject texts and codes (ClassifyReject).
//
// Lookups work without a transaction index where the protocol allows:
// Locate follows a transaction the caller holds through its unspent
// outputs, TransactionInBlock takes a block hint, and FindSpend reads the
// mempool and blocks rather than an index. DefaultRPCPort, CookiePath and
// ReadCookie find a local bitcoind without configuration.
package chain

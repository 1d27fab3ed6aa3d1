// Package chain is a typed client for a Bitcoin node's JSON-RPC (btcd or
// bitcoind): the check that a node follows the chain meant, what the node
// is (Info), transaction and block lookups, the tip, broadcasting with
// typed rejections, testmempoolaccept, the search for the transaction that
// spends an output, and waiting for confirmations. It is what the CLI's
// node commands and the regtest harness talk to a node through.
//
//	c, err := chain.New(chain.Config{URL: "127.0.0.1:8332", User: u, Pass: p})
//	// name and genesis block (and a signet's challenge): ErrWrongChain
//	if err := c.CheckNetwork(ctx, &chaincfg.MainNetParams); err != nil { ... }
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
// transaction or block ErrNotFound, a node of another chain ErrWrongChain
// (one that cannot be shown to follow the chain meant, such as a signet
// node that hides its challenge, ErrUnconfirmedChain), and a refused
// transaction a
// *RejectError matching ErrRejected and the reason's kind, classified from
// btcd's and Bitcoin Core's reject texts and codes (ClassifyReject).
//
// A node's answers are checked against what was asked before they are
// used, so a buggy, confused or lying node cannot make the client act on
// another transaction, block, height or spend: a transaction must hash to
// the id asked for; a block's header must hash to the hash asked for, and
// its transactions (and their witnesses) to that header's Merkle root and
// witness commitment; a transaction said to be confirmed must be among its
// block's committed transaction ids, and that block must be the node's
// main-chain block at the height it gives; a block fetched by height must
// be placed at that height; a broadcast or testmempoolaccept answer must
// name the transaction sent, a gettxout answer must match the output the
// caller holds, and a named spender must spend the output. An answer that
// fails is ErrBadReply. A node can still hide what it knows (answer "not
// found"); only a node of your own settles that.
//
// Nothing needs a transaction index (TxIndex says whether a node keeps
// one): FindTransaction finds a transaction by id in the mempool, the
// index, or bounded past blocks (TxSearch: down from the tip, or up from
// a known height, with progress); WaitConfirmations then follows each new
// block, through reorganisations; Locate follows a transaction the caller
// holds through its unspent outputs, TransactionInBlock takes a block
// hint, and FindSpend reads the mempool and blocks. DefaultRPCPort,
// CookiePath and ReadCookie find a local bitcoind without configuration.
package chain

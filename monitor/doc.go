// Package monitor follows stakes on chain. Follow walks a delegation's
// outputs through the transactions that spend them (staking, then
// unbonding, then the slashing change output), recognising each output by
// its script and each spend by the leaf its witness reveals, never by
// output index, and reports the stake's state, its history and the spend
// paths of the output it sits in now.
//
// It talks to a node through package chain (any Node will do, which keeps
// the state machine testable without one).
package monitor

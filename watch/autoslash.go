package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/script"
)

// Auto-slash rules (Config.AutoSlash):
//
//  1. A finality provider's key is known once recovered from a slashing
//     witness of a watched delegation (in a block) or given with
//     AddFinalityProviderKey. Known keys are kept in the store and are not
//     forgotten when the block that revealed one leaves the chain: the key
//     leaked all the same.
//  2. For every watched delegation of a provider whose key is known, in
//     state staked (its staking output unspent) or unbonding (its
//     unbonding output unspent), the watcher completes the pre-signed
//     slashing transaction of that output with the key and broadcasts it.
//     A delegation whose staking transaction is not yet confirmed waits
//     until it is.
//  3. Each (delegation, output) is handled once, across restarts: the
//     outcome (the txid broadcast, or why it was refused) is stored
//     before the event is delivered, outside the journal (a broadcast
//     cannot be undone by a reorganisation). A node that cannot be
//     reached is retried later; a node that refuses the transaction is an
//     auto_slash_refused event with its reason, as is an entry without the
//     slashing transaction or the covenant adaptor signatures it needs
//     (Missing names the members).
//  4. Delegations added later for a provider whose key is known are
//     slashed the same way.

type slashJob struct {
	id   string
	kind script.OutputKind
	sk   *btcec.PrivateKey
	c    *watched
}

// autoSlash slashes the delegations rule 2 names, when something changed
// since the last look (a key learned, a delegation added or moved).
func (w *Watcher) autoSlash(ctx context.Context) error {
	w.mu.Lock()
	if !w.cfg.AutoSlash || !w.slashDue || len(w.keys) == 0 {
		w.mu.Unlock()
		return nil
	}
	w.slashDue = false
	var jobs []slashJob
	err := w.view(func(tx *bolt.Tx) error {
		for x, sk := range w.keys {
			c := tx.Bucket(bucketFPIndex).Cursor()
			for k, _ := c.Seek(x[:]); k != nil && bytes.HasPrefix(k, x[:]); k, _ = c.Next() {
				id := string(k[32:])
				if w.waitingBackfill(id) {
					continue // looked at once up to date
				}
				st, err := stateIn(tx, id)
				if err != nil {
					return err
				}
				var kind script.OutputKind
				switch st.State {
				case StateStaked:
					kind = script.StakingOutputKind
				case StateUnbonding:
					if st.Live == "" {
						continue
					}
					kind = script.UnbondingOutputKind
				default:
					continue
				}
				if tx.Bucket(bucketAutoSlash).Get(autoSlashKey(id, byte(kind))) != nil {
					continue
				}
				e, err := w.entryIn(tx, id)
				if err != nil {
					return err
				}
				jobs = append(jobs, slashJob{id: id, kind: kind, sk: sk, c: e})
			}
		}
		return nil
	})
	w.mu.Unlock()
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if err := w.slashOne(ctx, j); err != nil {
			return err
		}
	}
	return w.deliver()
}

func (w *Watcher) slashOne(ctx context.Context, j slashJob) error {
	x := script.XOnly(j.sk.PubKey())
	ev := Event{Delegation: j.id, FinalityProvider: hexKey(x), Output: j.kind.String()}
	var rec autoSlashRecord
	stx, err := completeSlashing(j.c.e, j.kind, j.sk)
	if err != nil {
		ev.Kind = EventAutoSlashRefused
		rec.Reason = fmt.Sprintf("cannot complete the slashing transaction of the %s output: %v", j.kind, err)
		var mm *MissingAdaptorSigsError
		if errors.As(err, &mm) {
			rec.Missing = append([]string(nil), mm.Missing...)
		}
	} else {
		txid, err := w.cfg.Node.Broadcast(ctx, stx)
		switch {
		case err == nil:
		case errors.Is(err, chain.ErrAlreadyKnown):
			txid, err = stx.TxHash(), nil
		case errors.Is(err, chain.ErrRejected):
			ev.Kind = EventAutoSlashRefused
			ev.Txid = stx.TxHash().String()
			rec.Reason = fmt.Sprintf("the node refused slashing transaction %s: %v", stx.TxHash(), err)
		default:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Not reached or not answered: try again later.
			w.log.Warn("broadcasting a slashing transaction failed; will retry", "delegation", j.id, "err", err)
			if o := w.cfg.Observer; o != nil {
				o.NodeError(err)
			}
			w.mu.Lock()
			w.slashDue = true
			w.mu.Unlock()
			return nil
		}
		if err == nil {
			ev.Kind, ev.Txid = EventAutoSlashBroadcast, txid.String()
			rec.Txid = txid.String()
			w.log.Warn("auto-slash: slashing transaction broadcast", "delegation", j.id, "output", j.kind, "txid", txid)
		}
	}
	ev.Reason, ev.Missing = rec.Reason, rec.Missing
	raw, _ := json.Marshal(rec)
	w.mu.Lock()
	defer w.mu.Unlock()
	ev.Height = w.cursorH
	return w.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAutoSlash).Put(autoSlashKey(j.id, byte(j.kind)), raw); err != nil {
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
		_, err := w.storeEvent(tx, &ev)
		return err
	})
}

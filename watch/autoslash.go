package watch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"
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
//  3. Each (delegation, output) is broadcast at most once, across
//     restarts: the outcome (the txid broadcast, or why it was refused)
//     is stored before the event is delivered, outside the journal (a
//     broadcast cannot be undone by a reorganisation). A node that cannot
//     be reached is retried later; a node that refuses the transaction is
//     an auto_slash_refused event with its reason, final, except a refusal
//     for missing inputs while the watcher is behind the node's tip (the
//     output may have been spent in a block it has not read yet): that is
//     tried again, and only final once the watcher has caught up.
//  4. An entry without the slashing transaction or the covenant adaptor
//     signatures it needs is an auto_slash_refused event too (Missing
//     names the members). It is tried again, once, each time something
//     new may complete it: Add merges in a richer slashing PSBT of that
//     output, or the key of another of its providers becomes known. Each
//     such refusal is an event with its own id.
//  5. Delegations added later for a provider whose key is known are
//     slashed the same way. Of several known keys of one delegation's
//     providers, the first (by x-only key) that completes the
//     transaction is used.

type slashJob struct {
	id   string
	kind script.OutputKind
	keys []*btcec.PrivateKey // known keys of its providers, by x-only key
	c    *watched
	prev autoSlashRecord // the refusal tried again (zero: first attempt)
}

// retryAutoSlash marks an Incomplete refusal of (id, kind) to be tried
// again (something new may complete it). Callers hold w.mu.
func (w *Watcher) retryAutoSlash(tx *bolt.Tx, id string, kind script.OutputKind) error {
	b := tx.Bucket(bucketAutoSlash)
	k := autoSlashKey(id, byte(kind))
	raw := b.Get(k)
	if raw == nil {
		return nil
	}
	rec, err := decodeAutoSlash(raw)
	if err != nil {
		return err
	}
	if !rec.Incomplete || rec.Retry {
		return nil
	}
	rec.Retry = true
	v, _ := json.Marshal(rec)
	if err := b.Put(k, v); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	w.slashDue = true
	w.nudge()
	return nil
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
	var jobs []*slashJob
	byOutput := map[string]*slashJob{}
	xs := make([]script.XOnlyKey, 0, len(w.keys))
	for x := range w.keys {
		xs = append(xs, x)
	}
	sort.Slice(xs, func(i, j int) bool { return bytes.Compare(xs[i][:], xs[j][:]) < 0 })
	err := w.view(func(tx *bolt.Tx) error {
		for _, x := range xs {
			sk := w.keys[x]
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
				ok := string(autoSlashKey(id, byte(kind)))
				if j := byOutput[ok]; j != nil {
					j.keys = append(j.keys, sk) // another provider's key
					continue
				}
				var prev autoSlashRecord
				if raw := tx.Bucket(bucketAutoSlash).Get([]byte(ok)); raw != nil {
					if prev, err = decodeAutoSlash(raw); err != nil {
						return err
					}
					if !prev.Incomplete || !prev.Retry {
						continue // handled
					}
				}
				e, err := w.entryIn(tx, id)
				if err != nil {
					return err
				}
				j := &slashJob{id: id, kind: kind, keys: []*btcec.PrivateKey{sk}, c: e, prev: prev}
				byOutput[ok] = j
				jobs = append(jobs, j)
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

func (w *Watcher) slashOne(ctx context.Context, j *slashJob) error {
	// The first key that completes the transaction; when none does, the
	// refusal names the first key's provider and what it lacked.
	var stx *wire.MsgTx
	var sk *btcec.PrivateKey
	var err error
	for i, k := range j.keys {
		tx, kerr := completeSlashing(j.c.e, j.kind, k)
		if kerr == nil {
			stx, sk, err = tx, k, nil
			break
		}
		if i == 0 {
			sk, err = k, kerr
		}
	}
	x := script.XOnly(sk.PubKey())
	ev := Event{Delegation: j.id, FinalityProvider: hexKey(x), Output: j.kind.String()}
	var rec autoSlashRecord
	if err != nil {
		ev.Kind = EventAutoSlashRefused
		rec.Reason = fmt.Sprintf("cannot complete the slashing transaction of the %s output: %v", j.kind, err)
		rec.Incomplete = true
		rec.Refusals = j.prev.Refusals + 1
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
		case errors.Is(err, chain.ErrMissingInputs) && w.behindNode(ctx):
			// The output may have been spent in a block the watcher has
			// not read yet (it slashes from its own view of the chain,
			// not the node's tip): not final. Once it reads that block
			// the stake moves on and this job goes away; if not, it is
			// tried again after the next commit, and a refusal at the
			// tip is final as below.
			w.log.Info("auto-slash: the node does not have the output yet or any more; will retry once caught up", "delegation", j.id, "output", j.kind)
			w.mu.Lock()
			w.slashDue = true
			w.mu.Unlock()
			return nil
		case errors.Is(err, chain.ErrRejected):
			ev.Kind = EventAutoSlashRefused
			ev.Txid = stx.TxHash().String()
			rec.Reason = fmt.Sprintf("the node refused slashing transaction %s: %v", stx.TxHash(), err)
			rec.Refusals = j.prev.Refusals + 1
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
	if n := j.prev.Refusals; n > 0 {
		// A second attempt at the same cursor would otherwise have the
		// first refusal's id.
		ev.ID = attemptID(eventID(&ev), n+1)
	}
	return w.update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAutoSlash).Put(autoSlashKey(j.id, byte(j.kind)), raw); err != nil {
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
		_, err := w.storeEvent(tx, &ev)
		return err
	})
}

// attemptID is the id of the n-th (n > 1) auto-slash attempt at an output:
// the first 16 bytes of sha256(id || BE32(n)), in hex.
func attemptID(id string, n int) string {
	h := sha256.New()
	h.Write([]byte(id))
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// behindNode reports whether the node's tip is past the last block the
// watcher processed (or a backfill is due), asking the node; a node that
// does not answer counts as ahead, so the caller tries again rather than
// taking a refusal as final.
func (w *Watcher) behindNode(ctx context.Context) bool {
	if p := w.Progress(); p.BackfillEntries > 0 {
		return true
	}
	tip, err := w.cfg.Node.Height(ctx)
	if err != nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return tip > w.cursorH
}

package signer

import (
	"errors"

	"github.com/btcstake/btcstake/eots"
)

// Error kinds; every error from this package wraps one of them. Errors never
// contain secret material.
var (
	// ErrDoubleSign: a different message is already recorded at this
	// (chain, key, height). Nothing was signed or written.
	ErrDoubleSign = errors.New("refusing to double-sign")
	// ErrStoreInUse: another process (or another Store in this process) holds
	// the store's lock.
	ErrStoreInUse = errors.New("signing store in use")
	// ErrStoreCorrupt: the store file is truncated, garbage, not a signer
	// store, or a record fails its checksum. The signer refuses to sign.
	ErrStoreCorrupt = errors.New("signing store corrupt or unreadable")
	// ErrStoreFailed: a write to the store failed; the signer refuses to sign
	// until it is reopened, because the durable state is not known.
	ErrStoreFailed = errors.New("signing store failed")
	// ErrStoreNotFound: the store file does not exist (and creation was not
	// requested).
	ErrStoreNotFound = errors.New("signing store not found")
	// ErrStoreRolledBack: the store does not hold exactly the records its
	// high-water mark says it holds (records missing or different: a lost or
	// stale disk write, an old backup put in its place, a replaced or deleted
	// file). The signer refuses to sign; docs/signer.md describes the
	// recovery (eots check, eots repair).
	ErrStoreRolledBack = errors.New("signing store is behind its high-water mark")
	// ErrMarkMissing: the store has records but its high-water mark files
	// (PATH.hwm0, PATH.hwm1) are missing or none of them is intact, so what
	// the store should hold is unknown. The signer refuses to sign.
	ErrMarkMissing = errors.New("signing store's high-water mark missing or damaged")
	// ErrBelowFloor: a request at or below the floor an operator set with
	// Repair, at a height the store holds no record for: a signature there
	// may have been lost, so nothing is signed at that height.
	ErrBelowFloor = errors.New("refusing to sign at or below the repaired high-water floor")
	// ErrExists: refusing to overwrite an existing file (Backup).
	ErrExists = errors.New("file already exists")
	// ErrNotConfirmed: a destructive operation (rollback) was not confirmed.
	ErrNotConfirmed = errors.New("not confirmed")
	// ErrSigningFault: a signature failed its own BIP-340 verification (a
	// fault in the computation) and was withheld; nothing was recorded and
	// the store stays usable. It is eots.ErrSigningFault, so errors.Is
	// matches either name.
	ErrSigningFault = eots.ErrSigningFault
	// ErrInvalidArgument: an empty chain ID, an oversized message, a closed
	// signer, and the like.
	ErrInvalidArgument = errors.New("invalid argument")
)

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

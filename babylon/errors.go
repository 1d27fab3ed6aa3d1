package babylon

import "errors"

// Error kinds. Every error of FetchParamsVersions and FetchParams wraps one
// of these, or a kind of package params when the response has the right
// shape but values the protocol refuses.
var (
	// ErrInvalidURL: the base URL is not an http or https URL with a host
	// (or carries credentials, query or fragment).
	ErrInvalidURL = errors.New("invalid Babylon REST URL")
	// ErrUnreachable: no answer: the connection failed (refused, no such
	// host, TLS) or the node did not answer within the timeout.
	ErrUnreachable = errors.New("Babylon REST endpoint unreachable")
	// ErrHTTP: the server answered with a status other than 2xx.
	ErrHTTP = errors.New("Babylon REST endpoint answered with an HTTP error")
	// ErrBadResponse: a 2xx answer that is not the response asked for:
	// not JSON, JSON of another shape, a body larger than the limit, or
	// pagination that does not end within the page limit.
	ErrBadResponse = errors.New("bad response from Babylon REST endpoint")
	// ErrInconsistent: two answers of the node disagree: the params it
	// says are in force are not its latest version.
	ErrInconsistent = errors.New("Babylon REST answers disagree")
)

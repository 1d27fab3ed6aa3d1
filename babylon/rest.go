package babylon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/btcstake/btcstake/params"
)

// The REST paths of Babylon's x/btcstaking queries
// (proto/babylon/btcstaking/v1/query.proto).
const (
	// ParamsVersionsPath answers QueryParamsVersionsResponse: every
	// version, paginated.
	ParamsVersionsPath = "/babylon/btcstaking/v1/params_versions"
	// ParamsPath answers QueryParamsResponse: the params of the latest
	// version, without its number.
	ParamsPath = "/babylon/btcstaking/v1/params"
)

// Bounds of a fetch.
const (
	// DefaultTimeout bounds a whole fetch (every request and page) when
	// Options.Timeout is zero.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxPages bounds the pages of params_versions followed when
	// Options.MaxPages is zero.
	DefaultMaxPages = 10
	// PageLimit is the page size asked for (pagination.limit): Babylon
	// has a handful of versions, so one page is the rule.
	PageLimit = 1000
	// MaxBodySize bounds each response body and the document assembled
	// from several pages: the largest params document package params
	// reads.
	MaxBodySize = params.MaxFileSize
	// maxErrorBody bounds what is read of an error response.
	maxErrorBody = 4096
)

// Options tune a fetch; the zero value is fine.
type Options struct {
	// Timeout bounds the whole fetch; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxPages bounds the pages of params_versions followed; zero means
	// DefaultMaxPages.
	MaxPages int
	// Client sends the requests; nil means a client of this package's
	// own (http.DefaultTransport, redirects followed as net/http does).
	Client *http.Client
	// CheckCurrent also asks for the params in force (ParamsPath) and
	// requires them to equal the latest version of the list
	// (ErrInconsistent otherwise).
	CheckCurrent bool
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{}
}

// NormalizeBaseURL checks a Babylon REST base URL and returns it without a
// trailing slash: http or https, a host, an optional path prefix (a
// gateway's "/api", say), and no credentials, query or fragment.
func NormalizeBaseURL(base string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	switch {
	case strings.Contains(base, "@") && (err != nil || u.User != nil):
		// Never echo what may be a password.
		return "", fmt.Errorf("%w: the URL carries credentials; Babylon's REST endpoints need none", ErrInvalidURL)
	case err != nil:
		return "", fmt.Errorf("%w: %.80q does not parse", ErrInvalidURL, base)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("%w: %.80q: want an http:// or https:// URL", ErrInvalidURL, base)
	case u.Host == "":
		return "", fmt.Errorf("%w: %.80q has no host", ErrInvalidURL, base)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("%w: %.80q: give the base URL without a query or fragment", ErrInvalidURL, base)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	// An endpoint given where the base belongs would be asked for twice
	// over ("/babylon/btcstaking/v1/params/babylon/btcstaking/v1/..."), a
	// plain 404: say so instead.
	if i := strings.Index(u.Path, "/babylon/"); i >= 0 {
		return "", fmt.Errorf("%w: %.80q names an endpoint; give the node's REST base URL (here %q)", ErrInvalidURL, base, u.Scheme+"://"+u.Host+u.Path[:i])
	}
	return u.String(), nil
}

// FetchParamsVersions asks the Babylon node at baseURL for every params
// version (GET {base}/babylon/btcstaking/v1/params_versions, pages of
// PageLimit, following pagination.next_key up to Options.MaxPages pages)
// and reads the answer as params.ParseVersions does (docs/spec.md §8.2,
// format 3): the list must start at version 0 and have no gap.
//
// It returns the versions and the document to save: the response body
// itself when one page held every version, otherwise one response of the
// same shape holding the versions of every page. params.LoadVersions reads
// either back to the same value.
func FetchParamsVersions(ctx context.Context, baseURL string, opts Options) (*params.Versions, []byte, error) {
	base, err := NormalizeBaseURL(baseURL)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	f := fetcher{client: opts.client(), timeout: opts.timeout()}
	maxPages := opts.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}

	// Step 1: every page, each checked for the shape of
	// QueryParamsVersionsResponse.
	var items []json.RawMessage
	var first []byte
	seen := map[string]bool{}
	key := ""
	pages := 0
	for {
		if pages == maxPages {
			return nil, nil, fmt.Errorf("%w: %s: more than %d pages of %d versions", ErrBadResponse, base+ParamsVersionsPath, maxPages, PageLimit)
		}
		q := url.Values{"pagination.limit": {fmt.Sprint(PageLimit)}}
		if key != "" {
			q.Set("pagination.key", key)
		}
		body, err := f.get(ctx, base+ParamsVersionsPath+"?"+q.Encode())
		if err != nil {
			return nil, nil, err
		}
		pages++
		pg, err := decodeVersionsPage(body)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", base+ParamsVersionsPath, err)
		}
		if pages == 1 {
			first = body
		}
		items = append(items, pg.items...)
		if pg.nextKey == "" {
			break
		}
		if seen[pg.nextKey] {
			return nil, nil, fmt.Errorf("%w: %s: pagination.next_key %.40q repeats", ErrBadResponse, base+ParamsVersionsPath, pg.nextKey)
		}
		seen[pg.nextKey] = true
		key = pg.nextKey
	}

	// Step 2: one document holding every version.
	doc := first
	if pages > 1 {
		if doc, err = mergedVersions(items); err != nil {
			return nil, nil, err
		}
	}
	if len(doc) > MaxBodySize {
		return nil, nil, fmt.Errorf("%w: %d versions take more than %d bytes", ErrBadResponse, len(items), MaxBodySize)
	}

	// Step 3: the protocol's rules, each version and the sequence.
	vs, err := params.ParseVersions(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", base+ParamsVersionsPath, err)
	}

	// Step 4: optionally, the params in force must be the latest version.
	if opts.CheckCurrent {
		cur, _, err := fetchParams(ctx, f, base)
		if err != nil {
			return nil, nil, err
		}
		latest := vs.Latest()
		latestOnly, err := params.NewVersions(latest)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: the latest version: %v", ErrBadResponse, err)
		}
		if diffs := Compare(latestOnly, cur, CompareOptions{IgnoreNumbers: true}); len(diffs) > 0 {
			var fs []string
			for _, d := range diffs {
				fs = append(fs, d.describeField("params_versions", "params"))
			}
			return nil, nil, fmt.Errorf("%w: the params in force (%s) are not the latest version %d of %s: %s", ErrInconsistent,
				base+ParamsPath, latest.Number(), base+ParamsVersionsPath, strings.Join(fs, "; "))
		}
	}
	return vs, doc, nil
}

// FetchParams asks the Babylon node at baseURL for the params in force
// (GET {base}/babylon/btcstaking/v1/params): one version, without its
// number, applying from its btc_activation_height. It returns the version
// and the response body to save.
func FetchParams(ctx context.Context, baseURL string, opts Options) (*params.Versions, []byte, error) {
	base, err := NormalizeBaseURL(baseURL)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()
	return fetchParams(ctx, fetcher{client: opts.client(), timeout: opts.timeout()}, base)
}

func fetchParams(ctx context.Context, f fetcher, base string) (*params.Versions, []byte, error) {
	body, err := f.get(ctx, base+ParamsPath)
	if err != nil {
		return nil, nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, nil, fmt.Errorf("%w: %s: not a JSON object", ErrBadResponse, base+ParamsPath)
	}
	if first(top["params"]) != '{' {
		return nil, nil, fmt.Errorf("%w: %s: no \"params\" object", ErrBadResponse, base+ParamsPath)
	}
	vs, err := params.ParseVersions(body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", base+ParamsPath, err)
	}
	return vs, body, nil
}

// versionsPage is one page of QueryParamsVersionsResponse.
type versionsPage struct {
	items   []json.RawMessage
	nextKey string
}

// decodeVersionsPage checks the shape of one page: an object whose
// "params" is a list of {"version": n, "params": {...}} objects, with an
// optional "pagination" object whose "next_key" is a string or null. The
// values themselves are params.ParseVersions' to judge.
func decodeVersionsPage(body []byte) (versionsPage, error) {
	var pg versionsPage
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return pg, fmt.Errorf("%w: not a JSON object", ErrBadResponse)
	}
	raw, ok := top["params"]
	if !ok || first(raw) != '[' {
		return pg, fmt.Errorf("%w: no \"params\" list (not a params_versions response)", ErrBadResponse)
	}
	if err := json.Unmarshal(raw, &pg.items); err != nil {
		return pg, fmt.Errorf("%w: params: %v", ErrBadResponse, err)
	}
	for i, it := range pg.items {
		var sp map[string]json.RawMessage
		if err := json.Unmarshal(it, &sp); err != nil || sp == nil {
			return pg, fmt.Errorf("%w: params[%d] is not an object", ErrBadResponse, i)
		}
		if _, ok := sp["version"]; !ok || first(sp["params"]) != '{' {
			return pg, fmt.Errorf("%w: params[%d] is not {\"version\": n, \"params\": {...}}", ErrBadResponse, i)
		}
	}
	if p, ok := top["pagination"]; ok && first(p) != 'n' {
		var pag struct {
			NextKey *string `json:"next_key"`
		}
		if first(p) != '{' || json.Unmarshal(p, &pag) != nil {
			return pg, fmt.Errorf("%w: pagination is not {\"next_key\": ...}", ErrBadResponse)
		}
		if pag.NextKey != nil {
			pg.nextKey = *pag.NextKey
		}
	}
	return pg, nil
}

// mergedVersions is a params_versions response holding items, with the
// pagination of a last page.
func mergedVersions(items []json.RawMessage) ([]byte, error) {
	doc := struct {
		Params     []json.RawMessage `json:"params"`
		Pagination struct {
			NextKey *string `json:"next_key"`
			Total   string  `json:"total"`
		} `json:"pagination"`
	}{Params: items}
	doc.Pagination.Total = fmt.Sprint(len(items))
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	return b, nil
}

// first is the first byte of a JSON value other than white space (0 for
// none).
func first(raw json.RawMessage) byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

// fetcher sends the GET requests of one fetch.
type fetcher struct {
	client  *http.Client
	timeout time.Duration
}

// get fetches u and returns its body (at most MaxBodySize bytes) when the
// status is 2xx.
func (f fetcher) get(ctx context.Context, u string) ([]byte, error) {
	shown := strings.SplitN(u, "?", 2)[0]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, fmt.Errorf("%w: GET %s: no answer within %s", ErrUnreachable, shown, f.timeout)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: GET %s: %v", ErrUnreachable, shown, ctx.Err())
		}
		return nil, fmt.Errorf("%w: GET %s: %v", ErrUnreachable, shown, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, fmt.Errorf("%w: GET %s: %s%s", ErrHTTP, shown, resp.Status, errorText(b))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			return nil, fmt.Errorf("%w: GET %s: the answer did not end within %s", ErrUnreachable, shown, f.timeout)
		}
		return nil, fmt.Errorf("%w: GET %s: reading the answer: %v", ErrUnreachable, shown, err)
	}
	if len(b) > MaxBodySize {
		return nil, fmt.Errorf("%w: GET %s: the answer is larger than %d bytes", ErrBadResponse, shown, MaxBodySize)
	}
	return b, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// unwrapURLError drops net/http's "Get \"URL\": " prefix, which the
// caller's message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorText is what an error body says, on one line: the "message" of a
// gRPC-gateway error ({"code": n, "message": "...", "details": []}), else
// the start of the body when it is printable text.
func errorText(b []byte) string {
	var ge struct {
		Message string `json:"message"`
	}
	s := ""
	if json.Unmarshal(b, &ge) == nil && ge.Message != "" {
		s = ge.Message
	} else {
		s = string(b)
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ""
		}
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "..."
	}
	return ": " + s
}

package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// Webhook defaults.
const (
	// DefaultWebhookTimeout bounds one request, answer included.
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultResponseLimit is how many bytes of an answer are read.
	DefaultResponseLimit = 64 << 10
	// webhookUserAgent is the User-Agent of every request.
	webhookUserAgent = "btcstake-watch"
)

// WebhookConfig configures a Webhook sink.
type WebhookConfig struct {
	// URL is the endpoint, http or https. Credentials in it (user:pass@)
	// are sent but never logged.
	URL string
	// Timeout bounds one request (0: DefaultWebhookTimeout).
	Timeout time.Duration
	// ResponseLimit is how many bytes of an answer are read (0:
	// DefaultResponseLimit); the rest is not read.
	ResponseLimit int64
	// Transport sends the requests (nil: http.DefaultTransport).
	Transport http.RoundTripper
	// Name is the sink's name (empty: "webhook").
	Name string
}

// Webhook POSTs each event's JSON to a URL (see the package
// documentation for the headers and what counts as delivered).
type Webhook struct {
	url      *url.URL
	client   *http.Client
	timeout  time.Duration
	limit    int64
	name     string
	redacted string
}

// NewWebhook checks cfg and returns the sink.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Error quotes the URL, which may hold credentials.
		return nil, fmt.Errorf("%w: webhook URL does not parse", ErrInvalidConfig)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: webhook URL %s: scheme must be http or https", ErrInvalidConfig, u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: webhook URL %s has no host", ErrInvalidConfig, u.Redacted())
	}
	if cfg.Timeout < 0 || cfg.ResponseLimit < 0 {
		return nil, fmt.Errorf("%w: webhook: negative timeout or response limit", ErrInvalidConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	if cfg.ResponseLimit == 0 {
		cfg.ResponseLimit = DefaultResponseLimit
	}
	if cfg.Name == "" {
		cfg.Name = "webhook"
	}
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport: cfg.Transport,
		// A redirect is answered to the watcher as a permanent failure:
		// events go to the configured URL or nowhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Webhook{url: u, client: client, timeout: cfg.Timeout, limit: cfg.ResponseLimit, name: cfg.Name, redacted: u.Redacted()}, nil
}

// Name is the sink's name.
func (w *Webhook) Name() string { return w.name }

// Deliver makes one POST of e. A 2xx answer is a delivery; 408, 429,
// 5xx, a timeout or a network error wraps ErrDeliveryFailed; any other
// answer wraps ErrPermanent.
func (w *Webhook) Deliver(ctx context.Context, e watch.Event) error {
	line, err := Line(e)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	body := line[:len(line)-1]
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: webhook %s: %w", ErrPermanent, w.redacted, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set("Idempotency-Key", e.ID)
	req.Header.Set("X-Btcstake-Event-Id", e.ID)
	req.Header.Set("X-Btcstake-Event-Kind", string(e.Kind))
	resp, err := w.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL, credentials and all: report the
		// cause under the redacted URL instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%w: webhook %s: %w", ErrDeliveryFailed, w.redacted, err)
	}
	// Read a bounded part of the answer so that a short one leaves the
	// connection reusable. The status decides: an answer body that fails
	// or runs out of time after a 2xx status is still a delivery.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, w.limit))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("%w: webhook %s answered %s", ErrDeliveryFailed, w.redacted, resp.Status)
	default:
		return fmt.Errorf("%w: webhook %s answered %s", ErrPermanent, w.redacted, resp.Status)
	}
}

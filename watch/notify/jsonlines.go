package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/btcstake/btcstake/watch"
)

// JSONLines writes each event as one line of compact JSON (the Event's
// JSON encoding followed by "\n") to a writer, typically os.Stdout. Each
// line is handed to the writer in a single Write call, and calls from
// several goroutines do not interleave. It is also a Sink named
// "stdout", for a caller that wants stdout delivery to resume from a
// cursor like the others.
type JSONLines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLines returns a JSONLines writing to w.
func NewJSONLines(w io.Writer) (*JSONLines, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: JSON lines writer: nil writer", ErrInvalidConfig)
	}
	return &JSONLines{w: w}, nil
}

// Line is the bytes Write writes for e: its JSON and a newline.
func Line(e watch.Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return append(b, '\n'), nil
}

// Write writes e as one line.
func (j *JSONLines) Write(e watch.Event) error {
	line, err := Line(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("%w: write event %s: %w", ErrDeliveryFailed, e.ID, err)
	}
	return nil
}

// Name is "stdout".
func (j *JSONLines) Name() string { return "stdout" }

// Deliver writes e (the Sink form of Write; ctx is not consulted, a write
// to a pipe nobody reads blocks until it is read).
func (j *JSONLines) Deliver(_ context.Context, e watch.Event) error { return j.Write(e) }

package adstest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"
)

// NackNext makes the client reject the next response of typeURL with msg,
// as Envoy rejects a resource it cannot apply.
func (c *Client) NackNext(typeURL, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nackNext[typeURL] = msg
	delete(c.nackMore, typeURL)
}

// NackNextN rejects the next n responses of typeURL with msg (a resource
// Envoy keeps rejecting, whatever else the response holds).
func (c *Client) NackNextN(typeURL, msg string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n <= 0 {
		return
	}
	c.nackNext[typeURL] = msg
	c.nackMore[typeURL] = n - 1
}

// Mark returns the current length of the response log, to look at later
// responses only (Since).
func (c *Client) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// Since returns the responses received after mark m.
func (c *Client) Since(m int) []Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.log[min(m, len(c.log)):])
}

// Record drops the response log so far: Recorded then returns what came
// after. (A long-running simulated client calls it before each change, so
// its log stays short.)
func (c *Client) Record() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = nil
}

// Recorded returns the responses since Record (or Dial).
func (c *Client) Recorded() []Response { return c.Since(0) }

// Resources returns the accepted resources of one type, decoded (empty
// with NamesOnly).
func (c *Client) Resources(typeURL string) (map[string]proto.Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]proto.Message{}
	for n, e := range c.state[typeURL] {
		if e.res == nil {
			continue
		}
		m, err := e.res.UnmarshalNew()
		if err != nil {
			return nil, fmt.Errorf("unmarshal %s: %w", n, err)
		}
		out[n] = m
	}
	return out, nil
}

// Versions returns the accepted resources of one type: name → version.
func (c *Client) Versions(typeURL string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.state[typeURL]))
	for n, e := range c.state[typeURL] {
		out[n] = e.version
	}
	return out
}

// Counts returns how many resources of each type the client holds.
func (c *Client) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for t, m := range c.state {
		out[t] = len(m)
	}
	return out
}

// Subscriptions returns the EDS or RDS names the client asked for.
func (c *Client) Subscriptions(typeURL string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.subs[typeURL])
}

// NACKs is how many responses the client rejected.
func (c *Client) NACKs() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nacks
}

// DecodeErrors are the resources the client could not decode (each one
// NACKed its response).
func (c *Client) DecodeErrors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.decodeErr)
}

// Done is closed when the stream has ended (Err says why).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is the stream's error once it ended (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Complete is closed once the client holds a full configuration: clusters,
// listeners, and every endpoint set and route configuration they name.
func (c *Client) Complete() <-chan struct{} { return c.complete }

// TimeToComplete is from Dial to a full configuration (0 before).
func (c *Client) TimeToComplete() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.completed.IsZero() {
		return 0
	}
	return c.completed.Sub(c.started)
}

// WaitUntil checks cond after every response (and every 20ms) until it
// holds, the stream ends, or ctx ends.
func (c *Client) WaitUntil(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if err := c.Err(); err != nil {
			return fmt.Errorf("stream ended: %w", err)
		}
		select {
		case <-c.changed:
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("not within the bound: %w", ctx.Err())
		}
	}
	return nil
}

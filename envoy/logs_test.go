package envoy

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestParseEnvoyLine(t *testing.T) {
	tests := []struct {
		line   string
		level  slog.Level
		logger string
		msg    string
		ok     bool
	}{
		{"[info][main] starting main dispatch loop", slog.LevelInfo, "main", "starting main dispatch loop", true},
		{"[warning][config] stream closed", slog.LevelWarn, "config", "stream closed", true},
		{"[critical][assert] boom", slog.LevelError, "assert", "boom", true},
		{"[debug][upstream] x", slog.LevelDebug, "upstream", "x", true},
		{"[error] no logger", slog.LevelError, "", "no logger", true},
		{"  continuation of a dump", 0, "", "", false},
		{"[notalevel][x] y", 0, "", "", false},
	}
	for _, tc := range tests {
		level, logger, msg, ok := parseEnvoyLine(tc.line)
		if ok != tc.ok || (ok && (level != tc.level || logger != tc.logger || msg != tc.msg)) {
			t.Errorf("parseEnvoyLine(%q) = %v %q %q %v", tc.line, level, logger, msg, ok)
		}
	}
}

func TestLineForwarder(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newLineForwarder(log, "envoy-test")
	// Lines split across writes, a continuation line, and a tail without newline.
	for _, chunk := range []string{"[warning][config] par", "tial\n[info][main] two\n  more of two\n", "[error][main] last"} {
		if _, err := f.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	f.flush()
	out := buf.String()
	for _, want := range []string{
		`level=WARN msg="envoy-test: partial" logger=config`,
		`level=INFO msg="envoy-test: two" logger=main`,
		`level=INFO msg="envoy-test:   more of two"`,
		`level=ERROR msg="envoy-test: last" logger=main`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if got := f.last(); len(got) != 4 || got[3] != "[error][main] last" {
		t.Errorf("last() = %q", got)
	}
}

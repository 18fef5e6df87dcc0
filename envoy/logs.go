package envoy

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// tailLines is how many recent log lines an error message quotes.
const tailLines = 8

// maxLine bounds one buffered log line; Envoy's longest lines (config
// dumps at debug level) are cut rather than held without limit.
const maxLine = 64 << 10

// lineForwarder is the io.Writer behind Envoy's stdout and stderr. It
// splits the stream into lines, parses the "[level][logger] message"
// prefix that Runner asks for (--log-format), and logs each line to slog
// at the matching level. It keeps the last few lines for error messages.
type lineForwarder struct {
	log    *slog.Logger
	prefix string

	mu      sync.Mutex
	partial []byte
	recent  []string
	level   slog.Level // of the previous line: continuation lines inherit it
}

func newLineForwarder(log *slog.Logger, prefix string) *lineForwarder {
	return &lineForwarder{log: log, prefix: prefix, level: slog.LevelInfo}
}

// Write is safe for concurrent use (stdout and stderr share a forwarder).
func (f *lineForwarder) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			f.partial = append(f.partial, b...)
			if len(f.partial) > maxLine {
				f.emit(string(f.partial))
				f.partial = f.partial[:0]
			}
			break
		}
		f.partial = append(f.partial, b[:i]...)
		f.emit(string(f.partial))
		f.partial = f.partial[:0]
		b = b[i+1:]
	}
	return n, nil
}

// flush emits a final line that had no newline.
func (f *lineForwarder) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.partial) > 0 {
		f.emit(string(f.partial))
		f.partial = f.partial[:0]
	}
}

// last returns the most recent lines, oldest first.
func (f *lineForwarder) last() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.recent...)
}

func (f *lineForwarder) emit(line string) {
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return
	}
	f.recent = append(f.recent, line)
	if len(f.recent) > tailLines {
		f.recent = f.recent[len(f.recent)-tailLines:]
	}
	level, logger, msg, ok := parseEnvoyLine(line)
	if ok {
		f.level = level
	} else {
		level, msg = f.level, line
	}
	attrs := []slog.Attr{}
	if logger != "" {
		attrs = append(attrs, slog.String("logger", logger))
	}
	f.log.LogAttrs(context.Background(), level, f.prefix+": "+msg, attrs...)
}

// parseEnvoyLine splits "[warning][config] text" into its parts.
func parseEnvoyLine(line string) (level slog.Level, logger, msg string, ok bool) {
	lvl, rest, ok := cutBracket(line)
	if !ok {
		return 0, "", "", false
	}
	switch lvl {
	case "trace", "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warning", "warn":
		level = slog.LevelWarn
	case "error", "critical":
		level = slog.LevelError
	default:
		return 0, "", "", false
	}
	logger, msg, ok = cutBracket(rest)
	if !ok {
		return level, "", strings.TrimSpace(rest), true
	}
	return level, logger, strings.TrimSpace(msg), true
}

// cutBracket splits "[x]rest" into x and rest.
func cutBracket(s string) (inside, rest string, ok bool) {
	if !strings.HasPrefix(s, "[") {
		return "", "", false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", "", false
	}
	return s[1:end], s[end+1:], true
}

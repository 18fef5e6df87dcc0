package load

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(s)
	want := Summary{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond,
		Max: 100 * time.Millisecond, Mean: 50500 * time.Microsecond}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
	if s[0] != 100*time.Millisecond {
		t.Error("Summarize sorted its input in place")
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("Summarize(nil) is not zero")
	}
	one := Summarize([]time.Duration{time.Second})
	if one.P50 != time.Second || one.P99 != time.Second || one.Max != time.Second {
		t.Errorf("one sample: %+v", one)
	}
}

func TestFormatCounts(t *testing.T) {
	got := FormatCounts(map[int]int{503: 2, 404: 1}, func(k int) string { return map[int]string{503: "503", 404: "404"}[k] })
	if got != "404×1, 503×2" {
		t.Errorf("FormatCounts = %q", got)
	}
}

func TestErrorClass(t *testing.T) {
	for in, want := range map[string]string{
		`Get "http://127.0.0.1:1/x": dial tcp 127.0.0.1:1: connect: connection refused`: "connection refused",
		"EOF": "EOF",
	} {
		if got := errorClass(in); got != want {
			t.Errorf("errorClass(%q) = %q, want %q", in, got, want)
		}
	}
}

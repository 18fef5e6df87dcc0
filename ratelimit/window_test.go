package ratelimit

import (
	"testing"
	"time"
)

func TestWindowStart(t *testing.T) {
	// 2026-03-15 13:47:29.750 in UTC+2 = 11:47:29.750 UTC: windows are UTC.
	at := time.Date(2026, 3, 15, 13, 47, 29, 750e6, time.FixedZone("x", 2*3600))
	want := map[Window]string{
		Second: "2026-03-15T11:47:29Z",
		Minute: "2026-03-15T11:47:00Z",
		Hour:   "2026-03-15T11:00:00Z",
		Day:    "2026-03-15T00:00:00Z",
		Month:  "2026-03-01T00:00:00Z",
		Year:   "2026-01-01T00:00:00Z",
	}
	for w, s := range want {
		if got := w.Start(at).Format(time.RFC3339Nano); got != s {
			t.Errorf("%s start = %s, want %s", w.Name(), got, s)
		}
	}
}

func TestWindowReset(t *testing.T) {
	at := time.Date(2026, 3, 15, 11, 47, 29, 750e6, time.UTC)
	want := map[Window]int64{
		Second: 1,                   // max(1, 1-0)
		Minute: 60 - 29,             // whole seconds elapsed
		Hour:   3600 - (47*60 + 29), //
		Day:    86400 - (11*3600 + 47*60 + 29),
		Month:  2592000 - (14*86400 + 11*3600 + 47*60 + 29),
		Year:   31536000 - ((31+28+14)*86400 + 11*3600 + 47*60 + 29),
	}
	for w, n := range want {
		if got := w.Reset(at); got != n {
			t.Errorf("%s reset = %d, want %d", w.Name(), got, n)
		}
	}
	// Kong's 30-day month: on the 31st the window is "over" and Reset floors at 1.
	late := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	if got := Month.Reset(late); got != 1 {
		t.Errorf("month reset on Jan 31st = %d, want 1", got)
	}
	if Minute.Title() != "Minute" || Year.Title() != "Year" {
		t.Errorf("titles: %s %s", Minute.Title(), Year.Title())
	}
}

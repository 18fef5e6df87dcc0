package ratelimit

import "time"

// Window is one of Kong's fixed rate-limiting windows.
type Window int

// Kong's windows, shortest first (the order of headers and of the tie-break).
const (
	Second Window = iota
	Minute
	Hour
	Day
	Month
	Year
)

// Windows lists every window, shortest first.
var Windows = []Window{Second, Minute, Hour, Day, Month, Year}

var windowNames = [...]string{"second", "minute", "hour", "day", "month", "year"}

// Kong's window lengths in seconds (kong/plugins/rate-limiting/expiration.lua):
// a month is 30 days and a year 365 days whatever the calendar says; they set
// the counters' expiry and RateLimit-Reset.
var windowSeconds = [...]int64{1, 60, 3600, 86400, 2592000, 31536000}

// Name is Kong's lower-case name ("minute").
func (w Window) Name() string { return windowNames[w] }

// Title is the name as Kong's headers spell it ("Minute").
func (w Window) Title() string { n := windowNames[w]; return string(n[0]-'a'+'A') + n[1:] }

// Seconds is Kong's length of the window.
func (w Window) Seconds() int64 { return windowSeconds[w] }

// Start is the beginning of the calendar window holding t, in UTC
// (kong/tools/timestamp.lua get_timestamps): minutes start at hh:mm:00, days
// at 00:00, months on the 1st, years on January 1st.
func (w Window) Start(t time.Time) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	switch w {
	case Second:
		return t.Truncate(time.Second)
	case Minute:
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, time.UTC)
	case Hour:
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, time.UTC)
	case Day:
		return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case Month:
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	default:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
}

// Reset is Kong's RateLimit-Reset for the window holding t:
// max(1, length − whole seconds elapsed in the window).
func (w Window) Reset(t time.Time) int64 {
	elapsed := int64(t.Sub(w.Start(t)) / time.Second)
	return max(1, w.Seconds()-elapsed)
}

package load

import (
	"slices"
	"time"
)

// Summary is a percentile summary of a set of samples.
type Summary struct {
	N                  int
	P50, P90, P99, Max time.Duration
	Mean               time.Duration
}

// Summarize returns nearest-rank percentiles of samples.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Summary{
		N: len(s), P50: rank(s, 50), P90: rank(s, 90), P99: rank(s, 99), Max: s[len(s)-1],
		Mean: sum / time.Duration(len(s)),
	}
}

// rank is the nearest-rank percentile of sorted s.
func rank(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

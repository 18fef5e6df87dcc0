// Package load drives HTTP load with vegeta (github.com/tsenart/vegeta, used
// as a library): a constant request rate for background and steady loads,
// or as many requests as a fixed number of keep-alive connections can carry
// for throughput runs. Every attack is bounded in time, and the results are
// counted by status, connection error and answering backend.
package load

package raftstore

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkDurableWrite measures committed (fsynced, and in the 3-node case
// replicated to a quorum) writes through Store.Apply, with 8 concurrent
// writers as an Admin API under load would have. It reports writes/s and the
// p50/p99 latency of one write.
func BenchmarkDurableWrite(b *testing.B) {
	for _, size := range []int{1, 3} {
		b.Run(map[int]string{1: "single-node", 3: "three-nodes"}[size], func(b *testing.B) {
			nodes := benchCluster(b, size)
			leader := nodes[0]
			for _, n := range nodes {
				if n.node.IsLeader() {
					leader = n
				}
			}
			const writers = 8
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := w; i < b.N; i += writers {
						start := time.Now()
						if _, err := leader.st.Apply(upstream(i + 1)); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(start)
					}
				}(w)
			}
			wg.Wait()
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func benchCluster(b *testing.B, size int) []*testNode {
	b.Helper()
	raftAddr := ""
	if size > 1 {
		raftAddr = "127.0.0.1:0"
	}
	first := startNode(b, "n1", b.TempDir(), raftAddr, "127.0.0.1:0", nil)
	if err := first.node.WaitReady(ctx(b, 10*time.Second)); err != nil {
		b.Fatal(err)
	}
	nodes := []*testNode{first}
	for i := 2; i <= size; i++ {
		n := startNode(b, fmt.Sprintf("n%d", i), b.TempDir(), raftAddr, "127.0.0.1:0", []string{first.adminAddr})
		if err := n.node.WaitReady(ctx(b, 20*time.Second)); err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	return nodes
}

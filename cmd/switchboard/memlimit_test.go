package main

import "testing"

func TestMemoryLimitFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, defaultMemoryLimit},
		{100 << 20, defaultMemoryLimit}, // 125 MiB < the default
		{400 << 20, 500 << 20},
	} {
		if got := memoryLimitFor(c.live); got != c.want {
			t.Errorf("memoryLimitFor(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

package main

import "testing"

func TestMemoryLimitFor(t *testing.T) {
	for _, c := range []struct {
		live, overhead uint64
		wantMiB        int64
	}{
		{0, 0, defaultMemoryLimit >> 20},
		{100 << 20, 20 << 20, defaultMemoryLimit >> 20}, // (110+20)/0.97 = 134 MiB < the default
		// 10,000 routes with 100 clients: the heap may grow ~10% before a
		// collection, on top of the runtime's own ~27 MiB.
		{128 << 20, 27 << 20, 172}, // (140.8+27)/0.97 = 172.99
		{400 << 20, 40 << 20, 494}, // (440+40)/0.97 = 494.8
	} {
		if got := memoryLimitFor(c.live, c.overhead) >> 20; got != c.wantMiB {
			t.Errorf("memoryLimitFor(%d MiB, %d MiB) = %d MiB, want %d MiB", c.live>>20, c.overhead>>20, got, c.wantMiB)
		}
	}
}

func TestOverheadOf(t *testing.T) {
	if got := overheadOf(200, 20, 130, 10); got != 40 {
		t.Errorf("overheadOf = %d, want 40", got)
	}
	if got := overheadOf(100, 20, 90, 10); got != 0 {
		t.Errorf("overheadOf with more accounted than mapped = %d, want 0", got)
	}
}

func TestNextLimit(t *testing.T) {
	const m = 1 << 20
	for _, c := range []struct {
		cur    int64
		recent []int64
		want   int64
		move   bool
	}{
		{160 * m, []int64{170 * m}, 160 * m, false},                   // short once: wait
		{160 * m, []int64{170 * m, 250 * m, 175 * m}, 170 * m, true},  // short three times: the least
		{160 * m, []int64{150 * m, 250 * m, 175 * m}, 150 * m, false}, // not short every time
		{250 * m, []int64{175 * m}, 175 * m, true},                    // a tenth too high: down at once
		{180 * m, []int64{170 * m, 170 * m, 170 * m}, 180 * m, false}, // within a tenth: stay
	} {
		got, move := nextLimit(c.cur, c.recent)
		if move != c.move || (move && got != c.want) {
			t.Errorf("nextLimit(%d, %v) = %d %v, want %d %v", c.cur/m, c.recent, got/m, move, c.want/m, c.move)
		}
	}
}

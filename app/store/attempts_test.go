package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"moat/app/dbtest"
	"moat/app/store"
)

// Attempts arriving at the same moment, as on several app servers, each count from the others'
// number: forty at once on one key are counted 1 to 40, none twice.
func TestAttemptsCountAtomically(t *testing.T) {
	d := dbtest.New(t, 8)
	attempts := store.NewAttempts(d.Pool)
	now := time.Now()
	var mu sync.Mutex
	var seen []int
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			n, _, err := attempts.Count(context.Background(), "email:burst", time.Minute, now)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			seen = append(seen, n)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(seen)
	for i, n := range seen {
		if n != i+1 {
			t.Fatalf("counts %v, want 1 to 40 once each", seen)
		}
	}
}

// The window slides: the window before counts by how much of it still overlaps, a window with
// nothing in the one before counts afresh, and keys whose windows have both passed are swept.
func TestAttemptsSlide(t *testing.T) {
	d := dbtest.New(t, 1)
	attempts := store.NewAttempts(d.Pool)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	count := func(key string, at time.Duration) (int, time.Duration) {
		t.Helper()
		n, reset, err := attempts.Count(ctx, key, time.Minute, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return n, reset
	}
	for i, at := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second} {
		if n, reset := count("ip:a", at); n != i+1 || reset != time.Minute-at {
			t.Fatalf("attempt %d: %d, window ends in %v", i+1, n, reset)
		}
	}
	count("ip:gone", 0)
	// 90 s on: the next window is half over, so the four before count as two, plus this one.
	if n, reset := count("ip:a", 90*time.Second); n != 3 || reset != 30*time.Second {
		t.Fatalf("half a window on: %d, window ends in %v; want 3, 30s", n, reset)
	}
	// Four minutes on, both windows are over: one attempt, and ip:gone's row is swept.
	if n, _ := count("ip:a", 4*time.Minute); n != 1 {
		t.Fatalf("after two quiet windows: %d, want 1", n)
	}
	var left []string
	rows, err := d.Superuser(t).Query(ctx, "SELECT k FROM attempt_counts ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		left = append(left, k)
	}
	if !slices.Equal(left, []string{"ip:a"}) {
		t.Fatalf("rows left %v, want only ip:a", left)
	}
}

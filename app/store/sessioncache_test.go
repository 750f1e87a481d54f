package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/gofiber/fiber/v2/middleware/session"

	"moat/app/store"
)

// countingStorage is an in-memory storage that counts reads and writes.
type countingStorage struct {
	data          map[string][]byte
	reads, writes int
}

func (c *countingStorage) Get(k string) ([]byte, error) { c.reads++; return c.data[k], nil }
func (c *countingStorage) Set(k string, v []byte, _ time.Duration) error {
	c.writes++
	c.data[strings.Clone(k)] = append([]byte(nil), v...) // as a database keeps a copy
	return nil
}
func (c *countingStorage) Delete(k string) error { delete(c.data, k); return nil }
func (c *countingStorage) Reset() error          { c.data = map[string][]byte{}; return nil }
func (c *countingStorage) Close() error          { return nil }

func TestSessionCache(t *testing.T) {
	under := &countingStorage{data: map[string][]byte{"k": []byte("v1")}}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := store.NewSessionCache(under, time.Hour, time.Hour, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if v, _ := c.Get("k"); string(v) != "v1" {
			t.Fatalf("got %q", v)
		}
	}
	if under.reads != 1 {
		t.Fatalf("%d reads for three Gets, want 1", under.reads)
	}
	now = now.Add(time.Hour) // a read goes stale after ttl
	if c.Get("k"); under.reads != 2 {
		t.Fatalf("%d reads after the ttl, want 2", under.reads)
	}
	c.Set("k", []byte("v2"), time.Minute)
	c.Set("k", []byte("v2"), time.Minute)
	if under.writes != 1 {
		t.Fatalf("%d writes for one change saved twice, want 1", under.writes)
	}
	c.Set("k", []byte("v3"), time.Minute)
	if under.writes != 2 {
		t.Fatal("a changed session was not written")
	}
	c.Delete("k")
	if v, _ := c.Get("k"); v != nil {
		t.Fatalf("a deleted session reads %q", v)
	}
	var _ = session.Config{Storage: c} // it is a fiber.Storage
}

// A key that is a view of a buffer the caller reuses (as Fiber's cookie values are) is copied
// as it is kept: once the buffer holds another session's id, that id must not find the first
// session's data. Before the copy, this is how a request right after signing in came to present
// the previous sign-in's session.
func TestSessionCacheKeepsItsOwnKeys(t *testing.T) {
	under := &countingStorage{data: map[string][]byte{"session-aaaa": []byte("first"), "session-bbbb": []byte("second")}}
	c := store.NewSessionCache(under, time.Hour, time.Hour, time.Now)
	buf := []byte("session-aaaa")
	view := unsafe.String(&buf[0], len(buf)) // what fiber's c.Cookies returns: the request's bytes
	if v, _ := c.Get(view); string(v) != "first" {
		t.Fatalf("got %q", v)
	}
	if err := c.Set(view, []byte("first, saved"), time.Hour); err != nil {
		t.Fatal(err)
	}
	copy(buf, "session-bbbb") // the next request reuses the buffer
	// Enough other sessions that the map grows and rehashes its keys.
	for i := range 5000 {
		c.Set(fmt.Sprintf("other-%d", i), []byte("x"), time.Hour) //nolint:errcheck // in memory
	}
	if v, _ := c.Get("session-bbbb"); string(v) != "second" {
		t.Fatalf("session-bbbb reads %q, another session's data", v)
	}
	if v, _ := c.Get("session-aaaa"); string(v) != "first, saved" {
		t.Fatalf("session-aaaa reads %q", v)
	}
}

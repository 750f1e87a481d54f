package store

import (
	"bytes"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// SessionCache keeps recently read server-side sessions in memory in front of their storage, so
// that one request reads its session from PostgreSQL once (Fiber's session and CSRF middleware
// each read it again), and so that a request that saves its session unchanged writes nothing
// unless the stored expiry needs refreshing.
//
// It is safe across app servers because it is never the authority: every request checks its
// session against user_sessions and users in the database (Sessions.Validate), so a session
// ended on another server is refused on this one at once, whatever the cache holds.
//
// Keys are copied as they are kept: a caller's key may be a view of a request's buffer (a
// cookie's value, in Fiber), which the next request overwrites, and a key that changes under a
// map would find one session's data under another's id.
//
// It also keeps CSRF tokens, whose rows never change: a GET's token check then reads and writes
// nothing. A token retired on another server stays good here for at most ttl.
type SessionCache struct {
	next    fiber.Storage
	ttl     time.Duration // how long a read stays fresh
	refresh time.Duration // how stale the stored expiry may get before an unchanged save writes
	now     func() time.Time

	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	val     []byte
	readAt  time.Time
	wroteAt time.Time // zero: not written by this server
}

// maxCached bounds memory: past it the cache starts over.
const maxCached = 100_000

// NewSessionCache wraps next, telling time with now.
func NewSessionCache(next fiber.Storage, ttl, refresh time.Duration, now func() time.Time) *SessionCache {
	return &SessionCache{next: next, ttl: ttl, refresh: refresh, now: now, entries: map[string]cached{}}
}

// Get returns the session stored under key.
func (s *SessionCache) Get(key string) ([]byte, error) {
	now := s.now()
	s.mu.Lock()
	e, ok := s.entries[key]
	s.mu.Unlock()
	if ok && now.Sub(e.readAt) < s.ttl {
		return e.val, nil
	}
	val, err := s.next.Get(key)
	if err != nil || val == nil {
		s.forget(key)
		return val, err
	}
	s.mu.Lock()
	if len(s.entries) >= maxCached {
		s.entries = map[string]cached{}
	}
	e = s.entries[key]
	s.entries[strings.Clone(key)] = cached{val: val, readAt: now, wroteAt: e.wroteAt}
	s.mu.Unlock()
	return val, nil
}

// Set stores val under key, skipping the write when this server wrote the same value recently.
func (s *SessionCache) Set(key string, val []byte, exp time.Duration) error {
	now := s.now()
	s.mu.Lock()
	e, ok := s.entries[key]
	s.mu.Unlock()
	if ok && !e.wroteAt.IsZero() && now.Sub(e.wroteAt) < s.refresh && bytes.Equal(e.val, val) {
		return nil
	}
	if err := s.next.Set(key, val, exp); err != nil {
		s.forget(key)
		return err
	}
	s.mu.Lock()
	s.entries[strings.Clone(key)] = cached{val: bytes.Clone(val), readAt: now, wroteAt: now}
	s.mu.Unlock()
	return nil
}

// Delete removes the session stored under key.
func (s *SessionCache) Delete(key string) error {
	s.forget(key)
	return s.next.Delete(key)
}

// Reset removes every session.
func (s *SessionCache) Reset() error {
	s.mu.Lock()
	s.entries = map[string]cached{}
	s.mu.Unlock()
	return s.next.Reset()
}

// Close closes the storage beneath.
func (s *SessionCache) Close() error { return s.next.Close() }

func (s *SessionCache) forget(key string) {
	s.mu.Lock()
	delete(s.entries, key)
	s.mu.Unlock()
}

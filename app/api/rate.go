package api

import (
	"sync"
	"time"
)

// leases are the requests this server may still make for each token in the token's current
// minute, leased from PostgreSQL (api_token_use) a chunk at a time: the database keeps one count
// for every server, so a token's limit holds however many serve it, and most requests only read
// there. A lease left unspent when its minute ends is lost, so with several servers a token may
// be held back up to a chunk per server early; it is never let past its limit.
type leases struct {
	mu sync.Mutex
	m  map[string]*lease // by the token's hash
}

type lease struct {
	left  int
	until time.Time // the end of the minute it was leased in
}

// chunk is how many requests one lease asks for: a fiftieth of the limit, so a busy token
// writes to the database about fifty times a minute, whatever its rate.
func chunk(limit int) int { return max(1, limit/50) }

// take spends one request of hash's lease at now, and says whether there was one; when there was
// not, the request must ask for a new lease.
func (l *leases) take(hash string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.m[hash]
	if got == nil || got.left == 0 || !now.Before(got.until) {
		return false
	}
	got.left--
	return true
}

// left is what remains of hash's lease at now.
func (l *leases) left(hash string, now time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if got := l.m[hash]; got != nil && now.Before(got.until) {
		return got.left
	}
	return 0
}

// grant records a new lease of n requests for hash until until, one of which the asking request
// spends. A server forgets the leases of minutes gone by as it grants new ones.
func (l *leases) grant(hash string, n int, until, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*lease{}
	}
	if len(l.m) > 10000 {
		for h, got := range l.m {
			if !now.Before(got.until) {
				delete(l.m, h)
			}
		}
	}
	l.m[hash] = &lease{left: max(n-1, 0), until: until}
}

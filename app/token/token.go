// Package token makes the random secrets Moat hands out (links it emails) and says how every
// secret a request carries (those tokens, session ids, CSRF tokens) is stored: as its SHA-256,
// so that whoever reads the database holds nothing that opens anything.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// New returns a fresh random token: 32 bytes, URL-safe base64.
func New() string {
	b := make([]byte, 32)
	rand.Read(b) //nolint:errcheck // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how a secret is stored and looked up: its SHA-256, in lower-case hex. The secrets are
// random and long, so a fast hash suffices.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

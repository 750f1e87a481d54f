// Package token makes the random secrets Moat hands out (links it emails, API tokens) and says how every
// secret a request carries (those tokens, session ids, CSRF tokens) is stored: as its SHA-256,
// so that whoever reads the database holds nothing that opens anything.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"math/big"
	"strings"
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

// APIPrefix starts every API token, so that secret scanners can find a leaked one.
const APIPrefix = "moat_"

const (
	base62    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	apiRandom = 30 // base62 characters of randomness: 178 bits
	apiCheck  = 6  // base62 characters of CRC-32 over the random part
	// APILength is how long an API token is.
	APILength = len(APIPrefix) + apiRandom + apiCheck
)

// NewAPI returns a fresh API token: moat_, 30 random base62 characters and a 6-character
// checksum of them, the shape GitHub gives its tokens.
func NewAPI() string {
	var b strings.Builder
	b.WriteString(APIPrefix)
	random := make([]byte, apiRandom)
	for i := range random {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(base62))))
		if err != nil {
			panic(err) // crypto/rand never fails on Linux
		}
		random[i] = base62[n.Int64()]
	}
	b.Write(random)
	b.WriteString(checksum(random))
	return b.String()
}

// ValidAPI reports whether s has an API token's shape and checksum: a mistyped or truncated
// token is refused without a database read.
func ValidAPI(s string) bool {
	random, ok := strings.CutPrefix(s, APIPrefix)
	if !ok || len(s) != APILength {
		return false
	}
	for i := 0; i < len(random); i++ {
		if strings.IndexByte(base62, random[i]) < 0 {
			return false
		}
	}
	return checksum([]byte(random[:apiRandom])) == random[apiRandom:]
}

// checksum is the CRC-32 of random in base62, padded to apiCheck characters.
func checksum(random []byte) string {
	n := crc32.ChecksumIEEE(random)
	out := []byte(strings.Repeat("0", apiCheck))
	for i := apiCheck - 1; i >= 0 && n > 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

package store

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/gofiber/fiber/v2"
)

// SecretKey is how a cookie's secret value (a session id, a CSRF token) is stored: the hex
// SHA-256 of it. Whoever reads the database gets keys that open nothing; a request that
// carries the value finds its row. The values are random and long, so a fast hash suffices.
func SecretKey(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// HashedKeys is a fiber.Storage that stores each key as its SecretKey: Fiber's session and CSRF
// middleware use the cookie value itself as the key.
func HashedKeys(next fiber.Storage) fiber.Storage { return hashedKeys{next} }

type hashedKeys struct{ fiber.Storage }

func (h hashedKeys) Get(key string) ([]byte, error) { return h.Storage.Get(SecretKey(key)) }

func (h hashedKeys) Set(key string, val []byte, exp time.Duration) error {
	return h.Storage.Set(SecretKey(key), val, exp)
}

func (h hashedKeys) Delete(key string) error { return h.Storage.Delete(SecretKey(key)) }

package store

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"moat/app/tenant"
	"moat/app/token"
)

// HashedKeys is a fiber.Storage that stores each key as its token.Hash: Fiber's session and
// CSRF middleware use the cookie value itself as the key.
func HashedKeys(next fiber.Storage) fiber.Storage { return hashedKeys{next} }

type hashedKeys struct{ fiber.Storage }

func (h hashedKeys) Get(key string) ([]byte, error) { return h.Storage.Get(token.Hash(key)) }

func (h hashedKeys) Set(key string, val []byte, exp time.Duration) error {
	return h.Storage.Set(token.Hash(key), val, exp)
}

func (h hashedKeys) Delete(key string) error { return h.Storage.Delete(token.Hash(key)) }

// Patient is a fiber.Storage that waits for the database while it restarts (tenant.Retry):
// reading a session or a CSRF token is then slow for a moment, not a failed request.
func Patient(next fiber.Storage) fiber.Storage { return patient{next} }

type patient struct{ fiber.Storage }

func (p patient) Get(key string) (val []byte, err error) {
	err = tenant.Retry(context.Background(), func() error {
		val, err = p.Storage.Get(key)
		return err
	})
	return val, err
}

func (p patient) Set(key string, val []byte, exp time.Duration) error {
	return tenant.Retry(context.Background(), func() error { return p.Storage.Set(key, val, exp) })
}

func (p patient) Delete(key string) error {
	return tenant.Retry(context.Background(), func() error { return p.Storage.Delete(key) })
}

package mail

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sender delivers the outbox over SMTP. Several app servers may run one each: a message is
// locked while it is sent, and skipped by the others. A sent message keeps its recipient and
// subject, for the record, and loses its body, which may hold a link's token.
type Sender struct {
	Pool  *pgxpool.Pool
	SMTP  *url.URL // smtp://user:password@host:port; STARTTLS is used when the server offers it
	From  string
	Every time.Duration
	Log   *slog.Logger
}

// Run sends what is queued, then again every s.Every, until ctx ends.
func (s *Sender) Run(ctx context.Context) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		if n, err := s.SendQueued(ctx); err != nil {
			s.Log.Error("sending mail", "sent", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendQueued sends up to a batch of the oldest unsent messages and says how many it sent. A
// message that fails stays queued, and the batch stops there.
func (s *Sender) SendQueued(ctx context.Context) (int, error) {
	sent := 0
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, recipient, subject, body FROM outbox WHERE sent_at IS NULL
			ORDER BY created_at LIMIT 20 FOR UPDATE SKIP LOCKED`)
		if err != nil {
			return err
		}
		type queued struct {
			id string
			m  Message
		}
		batch, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queued, error) {
			var q queued
			return q, r.Scan(&q.id, &q.m.To, &q.m.Subject, &q.m.Body)
		})
		if err != nil {
			return err
		}
		for _, q := range batch {
			if err := s.send(q.m); err != nil {
				return fmt.Errorf("to %s: %w", q.m.To, err)
			}
			if _, err := tx.Exec(ctx, "UPDATE outbox SET sent_at = now(), body = '' WHERE id = $1", q.id); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

func (s *Sender) send(m Message) error {
	host := s.SMTP.Hostname()
	var auth smtp.Auth
	if u := s.SMTP.User; u != nil {
		pw, _ := u.Password()
		auth = smtp.PlainAuth("", u.Username(), pw, host)
	}
	port := s.SMTP.Port()
	if port == "" {
		port = "25"
	}
	msg := "From: " + s.From + "\r\nTo: " + m.To + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", m.Subject) +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
		strings.ReplaceAll(m.Body, "\n", "\r\n")
	from := s.From
	if addr, err := mailAddress(s.From); err == nil {
		from = addr
	}
	return smtp.SendMail(net.JoinHostPort(host, port), auth, from, []string{m.To}, []byte(msg))
}

func mailAddress(s string) (string, error) {
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j], nil
	}
	if strings.Contains(s, "@") {
		return strings.TrimSpace(s), nil
	}
	return "", fmt.Errorf("no address in %q", s)
}

// Package mail is the email Moat sends: links that prove an address (sign-up, invitations,
// password resets). A message is queued in the outbox table in the same transaction as the
// change that causes it, so a request does the same database work whoever the recipient is,
// and a Sender delivers it afterwards. In development nothing is sent: the outbox page shows it.
package mail

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"
)

// Message is one email, in plain text.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Queue adds m to the outbox as part of tx's transaction.
func Queue(tx *gorm.DB, m Message) error {
	if err := tx.Exec("INSERT INTO outbox (recipient, subject, body) VALUES (?, ?, ?)", m.To, m.Subject, m.Body).Error; err != nil {
		return fmt.Errorf("queue mail: %w", err)
	}
	return nil
}

// Links builds the messages, with links under Base (the site's public address).
type Links struct{ Base string }

func (l Links) link(path, token string) string { return l.Base + path + url.PathEscape(token) }

// SignUp asks the address's owner to confirm a new organization.
func (l Links) SignUp(to, organization, token string) Message {
	return Message{To: to, Subject: "Confirm your new organization on Moat", Body: fmt.Sprintf(`Hello,

someone, probably you, asked to create the organization "%s" on Moat with this address.
To create it, open this link within a day:

%s

If you did not ask for this, ignore this message: nothing is created without the link.
`, organization, l.link("/signup/confirm/", token))}
}

// Invitation asks the address's owner to join an organization.
func (l Links) Invitation(to, organization, inviter, token string) Message {
	return Message{To: to, Subject: fmt.Sprintf("%s invites you to %s on Moat", inviter, organization), Body: fmt.Sprintf(`Hello,

%s invites you to join "%s" on Moat. To accept, open this link within a week:

%s

If you do not know what this is about, ignore this message.
`, inviter, organization, l.link("/invitations/", token))}
}

// PasswordReset lets the address's owner choose a new password. It is sent for any address
// asked for, known to Moat or not; the link itself says which.
func (l Links) PasswordReset(to, token string) Message {
	return Message{To: to, Subject: "Choose a new Moat password", Body: fmt.Sprintf(`Hello,

someone, probably you, asked to reset the Moat password of this address. To choose a new
password, open this link within an hour:

%s

If you did not ask for this, ignore this message: your password stays as it is.
`, l.link("/password/reset/", token))}
}

// Queued is a message in the outbox.
type Queued struct {
	Message
	ID     string
	At     time.Time
	SentAt *time.Time
}

// Recent returns the newest n messages of the outbox, for the development outbox page.
func Recent(ctx context.Context, pool *pgxpool.Pool, n int) ([]Queued, error) {
	rows, err := pool.Query(ctx, "SELECT id::text, recipient, subject, body, created_at, sent_at FROM outbox ORDER BY created_at DESC, id LIMIT $1", n)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Queued, error) {
		var q Queued
		return q, r.Scan(&q.ID, &q.To, &q.Subject, &q.Body, &q.At, &q.SentAt)
	})
}

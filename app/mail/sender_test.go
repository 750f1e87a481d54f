package mail_test

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"moat/app/dbtest"
	"moat/app/mail"
)

// smtpServer is a minimal SMTP server: it accepts every message, or refuses every recipient.
type smtpServer struct {
	ln     net.Listener
	refuse bool
	mu     sync.Mutex
	got    []string // each message's DATA
}

func newSMTPServer(t *testing.T, refuse bool) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, refuse: refuse}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(line string) { conn.Write([]byte(line + "\r\n")) } //nolint:errcheck
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			if s.refuse {
				say("550 no such mailbox")
			} else {
				say("250 ok")
			}
		case cmd == "DATA":
			say("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil || l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			s.mu.Lock()
			s.got = append(s.got, data.String())
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func TestSenderDeliversAndClearsTheOutbox(t *testing.T) {
	d := dbtest.New(t, 0)
	ctx := context.Background()
	links := mail.Links{Base: "https://moat.example"}
	queue := func(m mail.Message) {
		if err := d.Gorm.Transaction(func(tx *gorm.DB) error { return mail.Queue(tx, m) }); err != nil {
			t.Fatal(err)
		}
	}
	queue(links.PasswordReset("ada@example.net", "tok-123"))
	queue(links.SignUp("bob@example.net", "Initech «Ltd»", "tok-456"))

	refusing := newSMTPServer(t, true)
	s := &mail.Sender{Pool: d.Pool, SMTP: &url.URL{Scheme: "smtp", Host: refusing.ln.Addr().String()}, From: "Moat <no-reply@moat.example>",
		Every: time.Second}
	if n, err := s.SendQueued(ctx); err == nil || n != 0 {
		t.Fatalf("a refusing server: sent %d, err %v", n, err)
	}
	var unsent int
	d.Pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND body <> ''").Scan(&unsent)
	if unsent != 2 {
		t.Fatalf("%d messages still queued after a refusal, want 2", unsent)
	}

	server := newSMTPServer(t, false)
	s.SMTP = &url.URL{Scheme: "smtp", Host: server.ln.Addr().String()}
	if n, err := s.SendQueued(ctx); err != nil || n != 2 {
		t.Fatalf("sent %d: %v", n, err)
	}
	if len(server.got) != 2 || !strings.Contains(server.got[0], "To: ada@example.net") ||
		!strings.Contains(server.got[0], "https://moat.example/password/reset/tok-123") || !strings.Contains(server.got[1], "Subject: Confirm your new organization") {
		t.Fatalf("the server got %q", server.got)
	}
	var left, bodies int
	d.Pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE sent_at IS NULL), count(*) FILTER (WHERE body <> '') FROM outbox").Scan(&left, &bodies)
	if left != 0 || bodies != 0 {
		t.Fatalf("after sending: %d unsent, %d bodies kept (the tokens)", left, bodies)
	}
	if n, err := s.SendQueued(ctx); err != nil || n != 0 {
		t.Fatalf("a second pass sent %d: %v", n, err)
	}
}

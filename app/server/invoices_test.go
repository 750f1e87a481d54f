package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// An invoice from draft to paid through the forms a browser without JavaScript posts: the line
// buttons, a refused line, finalization with its number and stored PDF, a partial payment, an
// overpayment refused, and the rest paid.
func TestInvoiceFromDraftToPaid(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	c := e.client()
	c.signIn(a.Email, password)
	customer := c.createCustomer("Grace Hopper")

	// The editor's lines, without the empty row JavaScript copies from its <template>.
	lines := func(body string) int {
		body, _, _ = strings.Cut(body, `<template id="line-template">`)
		return strings.Count(body, `name="line_description"`)
	}
	res, body := c.do("POST", "/invoices", c.invoiceForm(customer, "op", "add"))
	if res.StatusCode != fiber.StatusOK || lines(body) != 3 {
		t.Fatalf("add a line: %d, %d lines", res.StatusCode, lines(body))
	}
	res, body = c.do("POST", "/invoices", c.invoiceForm(customer, "op", "remove-1"))
	if res.StatusCode != fiber.StatusOK || lines(body) != 1 || !strings.Contains(body, "Books") {
		t.Fatalf("remove line 1: %d, %d lines", res.StatusCode, lines(body))
	}
	res, body = c.do("POST", "/invoices", c.form("customer_id", customer, "currency", "EUR", "payment_terms", "30", "exchange_rate", "1",
		"line_description", "Consulting", "line_quantity", "two", "line_unit_price", "100", "line_tax_rate", "20"))
	if res.StatusCode != fiber.StatusUnprocessableEntity || !strings.Contains(body, `value="two"`) || !strings.Contains(body, "error-line_quantity") {
		t.Fatalf("a bad quantity: %d\n%s", res.StatusCode, body)
	}

	res, _ = c.do("POST", "/invoices", c.invoiceForm(customer))
	id := strings.TrimPrefix(res.Header.Get("Location"), "/invoices/")
	res, body = c.do("GET", "/invoices/"+id, "")
	// 2 × 100.00 at 20 % and 19.99 at 7 %: net 219.99, tax 40.00 + 1.40.
	for _, want := range []string{"Draft", "219.99", "40.00", "1.40", "261.39"} {
		if !strings.Contains(body, want) {
			t.Fatalf("draft page lacks %q", want)
		}
	}
	if res, _ := c.do("GET", "/invoices/"+id+"/pdf", ""); res.StatusCode != fiber.StatusNotFound {
		t.Fatalf("a draft's PDF: %d", res.StatusCode)
	}
	res, body = c.do("POST", "/invoices/"+id+"/finalize", c.form())
	if res.StatusCode != fiber.StatusOK || !strings.Contains(body, "Finalize this invoice?") {
		t.Fatalf("finalize without confirming asks first: %d", res.StatusCode)
	}
	if res, _ = c.do("POST", "/invoices/"+id+"/finalize", c.form("confirm", "yes")); res.StatusCode != fiber.StatusSeeOther {
		t.Fatalf("finalize: %d", res.StatusCode)
	}
	_, body = c.do("GET", "/invoices/"+id, "")
	number := regexp.MustCompile(`INV-\d{4}-0001`).FindString(body)
	if number == "" || !strings.Contains(body, "Open") {
		t.Fatalf("the issued invoice shows no number INV-yyyy-0001 or is not open:\n%s", body)
	}

	// The PDF was rendered at finalization and its SHA-256 is in the trail.
	res, pdf := c.do("GET", "/invoices/"+id+"/pdf", "")
	if res.StatusCode != fiber.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("pdf: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sum := sha256.Sum256([]byte(pdf))
	var recorded string
	if err := e.db.Superuser(t).QueryRow(context.Background(), `SELECT details->>'sha256' FROM audit_events
		WHERE tenant_id = $1 AND action = 'invoice.document' AND entity_id = $2`, a.Tenant.UUID(), id).Scan(&recorded); err != nil {
		t.Fatalf("the document's audit row: %v", err)
	}
	if recorded != hex.EncodeToString(sum[:]) {
		t.Fatalf("the trail's sha256 %s is not the PDF's", recorded)
	}
	if res, again := c.do("GET", "/invoices/"+id+"/pdf", ""); res.StatusCode != fiber.StatusOK || again != pdf {
		t.Fatal("the PDF changed between two downloads")
	}

	pay := func(amount string) (int, string) {
		res, body := c.do("POST", "/invoices/"+id+"/payments", c.form("amount", amount, "paid_on", "2026-12-01", "method", "bank transfer", "reference", "R1"))
		return res.StatusCode, body
	}
	if status, _ := pay("100.00"); status != fiber.StatusSeeOther {
		t.Fatalf("a partial payment: %d", status)
	}
	_, body = c.do("GET", "/invoices/"+id, "")
	if !strings.Contains(body, "161.39") || strings.Contains(body, ">Paid</span>") {
		t.Fatal("after 100.00 paid, 161.39 is not owed")
	}
	if status, body := pay("161.40"); status != fiber.StatusUnprocessableEntity || !strings.Contains(body, "161.39") {
		t.Fatalf("an overpayment: %d", status)
	}
	if status, _ := pay("161.39"); status != fiber.StatusSeeOther {
		t.Fatalf("the rest: %d", status)
	}
	_, body = c.do("GET", "/invoices/"+id, "")
	if !regexp.MustCompile(`data-testid="invoice-status"[^>]*>\s*Paid`).MatchString(body) {
		t.Fatal("paid in full, the invoice is not paid")
	}
	// The kept PDF is the invoice as issued: payments made since do not change it.
	if _, again := c.do("GET", "/invoices/"+id+"/pdf", ""); again != pdf {
		t.Fatal("the PDF changed after payments")
	}
	_, body = c.do("GET", "/customers/"+customer, "")
	if !strings.Contains(body, number) {
		t.Fatal("the customer page does not list the invoice")
	}
}

// Credit and re-issue makes a credit note for the whole invoice and opens a corrected copy as a
// draft; corrections are for owners and admins, and a member is answered as if nothing were there.
func TestCreditAndReissue(t *testing.T) {
	e := newEnv(t)
	a := e.signUp("acme")
	owner := e.client()
	owner.signIn(a.Email, password)
	id := owner.issuedInvoice()

	memberEmail := "member-" + suffix() + "@acme.test"
	e.addMember(a, memberEmail)
	member := e.client()
	member.signIn(memberEmail, password)
	_, body := member.do("GET", "/invoices/"+id, "")
	if strings.Contains(body, "/credit") || strings.Contains(body, "/void") {
		t.Fatal("a member is offered corrections")
	}
	for _, action := range []string{"credit", "void", "uncollectible"} {
		if res, _ := member.do("POST", "/invoices/"+id+"/"+action, member.form("confirm", "yes")); res.StatusCode != fiber.StatusNotFound {
			t.Fatalf("a member's %s: %d, want 404", action, res.StatusCode)
		}
	}

	res, _ := owner.do("POST", "/invoices/"+id+"/credit", owner.form("confirm", "yes", "reissue", "1"))
	loc := res.Header.Get("Location")
	if res.StatusCode != fiber.StatusSeeOther || !strings.HasSuffix(loc, "/edit") || loc == "/invoices/"+id+"/edit" {
		t.Fatalf("credit and re-issue: %d %q", res.StatusCode, loc)
	}
	_, body = owner.do("GET", loc, "")
	if !strings.Contains(body, "Consulting") || !strings.Contains(body, "Books") {
		t.Fatal("the re-issued draft does not copy the lines")
	}
	_, body = owner.do("GET", "/invoices/"+id, "")
	note := regexp.MustCompile(`CN-\d{4}-0001`).FindString(body)
	if note == "" || !strings.Contains(body, `data-testid="credit-note"`) {
		t.Fatalf("the original does not link its credit note:\n%s", body)
	}
	if res, _ := owner.do("POST", "/invoices/"+id+"/credit", owner.form("confirm", "yes")); res.StatusCode != fiber.StatusUnprocessableEntity {
		t.Fatalf("crediting twice: %d, want 422", res.StatusCode)
	}
}

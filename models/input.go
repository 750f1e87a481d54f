package models

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"golang.org/x/text/unicode/norm"
)

// CustomerInput is what a person may set on a customer. It has no tenant and no id: those
// never come from a request. Emails and phones are parallel lists of values and their types,
// as a form with repeated rows sends them.
type CustomerInput struct {
	Kind            CustomerKind `form:"kind" json:"kind" validate:"oneof=company person"`
	Number          string       `form:"number" json:"number" validate:"max=30,text"`
	Name            string       `form:"name" json:"name" validate:"required,max=200,text"`
	Company         string       `form:"company" json:"company" validate:"max=200,text"`
	Emails          []string     `form:"email" json:"email" validate:"max=10,dive,max=254,email"`
	EmailTypes      []string     `form:"email_type" json:"email_type" validate:"dive,oneof=work personal billing other"`
	Phones          []string     `form:"phone" json:"phone" validate:"max=10,dive,max=50,phone"`
	PhoneTypes      []string     `form:"phone_type" json:"phone_type" validate:"dive,oneof=work mobile home fax other"`
	Website         string       `form:"website" json:"website" validate:"omitempty,max=300,weburl"`
	TaxID           string       `form:"tax_id" json:"tax_id" validate:"max=50,text"`
	BillingAddress  string       `form:"billing_address" json:"billing_address" validate:"max=1000,multiline"`
	ShippingAddress string       `form:"shipping_address" json:"shipping_address" validate:"max=1000,multiline"`
	Currency        string       `form:"currency" json:"currency" validate:"iso4217"`
	PaymentTerms    string       `form:"payment_terms" json:"payment_terms" validate:"days"`
	TagIDs          []string     `form:"tag" json:"tag" validate:"max=50"`
	// A first note for the timeline, on create only (the contract's notes field).
	Notes string `form:"notes" json:"notes" validate:"max=5000,multiline"`
}

// Currencies offered first in the form; any ISO 4217 code is accepted.
var Currencies = []string{"EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "CAD", "AUD", "JPY"}

// Normalize trims surrounding space, puts text in Unicode NFC (so "é" typed as one character
// or as e and an accent is stored, and found, the same way), drops empty email and phone rows,
// and fills the defaults: a company, paying in EUR at 30 days.
func (in *CustomerInput) Normalize() {
	nfc := func(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }
	in.Kind = CustomerKind(strings.TrimSpace(string(in.Kind)))
	if in.Kind == "" {
		in.Kind = KindCompany
	}
	in.Number = nfc(in.Number)
	in.Name = nfc(in.Name)
	in.Company = nfc(in.Company)
	in.Emails, in.EmailTypes = rows(in.Emails, in.EmailTypes, func(s string) string { return strings.ToLower(nfc(s)) })
	in.Phones, in.PhoneTypes = rows(in.Phones, in.PhoneTypes, strings.TrimSpace)
	in.Website = strings.TrimSpace(in.Website)
	if in.Website != "" && !strings.Contains(in.Website, "://") {
		in.Website = "https://" + in.Website
	}
	// Tax ids are compared for duplicates: keep letters and digits only, upper-cased.
	in.TaxID = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		if unicode.IsSpace(r) || strings.ContainsRune(".-/", r) {
			return -1
		}
		return r
	}, nfc(in.TaxID))
	in.Notes = nfc(in.Notes)
	in.BillingAddress = nfc(in.BillingAddress)
	in.ShippingAddress = nfc(in.ShippingAddress)
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	in.PaymentTerms = strings.TrimSpace(in.PaymentTerms)
	if in.PaymentTerms == "" {
		in.PaymentTerms = "30"
	}
}

// rows keeps the non-empty values, cleaned, with their types; a missing type is "work".
func rows(values, types []string, clean func(string) string) ([]string, []string) {
	var vs, ts []string
	for i, v := range values {
		if v = clean(v); v == "" {
			continue
		}
		t := "work"
		if i < len(types) && strings.TrimSpace(types[i]) != "" {
			t = strings.TrimSpace(types[i])
		}
		vs, ts = append(vs, v), append(ts, t)
	}
	return vs, ts
}

// Validate normalizes the input and returns a *ValidationError naming each bad field, or nil.
func (in *CustomerInput) Validate() error {
	in.Normalize()
	return validateStruct(in)
}

// Days is the payment terms as a number; call it after Validate.
func (in *CustomerInput) Days() int {
	n, _ := strconv.Atoi(in.PaymentTerms)
	return n
}

// EmailContacts pairs each email with its type.
func (in *CustomerInput) EmailContacts() Contacts { return contacts(in.Emails, in.EmailTypes) }

// PhoneContacts pairs each phone number with its type.
func (in *CustomerInput) PhoneContacts() Contacts { return contacts(in.Phones, in.PhoneTypes) }

func contacts(values, types []string) Contacts {
	out := make(Contacts, len(values))
	for i, v := range values {
		out[i] = Contact{Type: types[i], Value: v}
	}
	return out
}

// InputOf is the form filled with c, for editing it.
func InputOf(c Customer) CustomerInput {
	in := CustomerInput{
		Kind: c.Kind, Number: c.Number, Name: c.Name, Company: c.Company, Website: c.Website, TaxID: c.TaxID,
		BillingAddress: c.BillingAddress, ShippingAddress: c.ShippingAddress, Currency: c.Currency,
		PaymentTerms: strconv.Itoa(c.PaymentTerms),
	}
	for _, e := range c.Emails {
		in.Emails, in.EmailTypes = append(in.Emails, e.Value), append(in.EmailTypes, e.Type)
	}
	for _, p := range c.Phones {
		in.Phones, in.PhoneTypes = append(in.Phones, p.Value), append(in.PhoneTypes, p.Type)
	}
	for _, t := range c.Tags {
		in.TagIDs = append(in.TagIDs, t.ID.String())
	}
	return in
}

// SignUpInput is the sign-up form.
type SignUpInput struct {
	Organization string `form:"organization" validate:"required,max=200,text"`
	Name         string `form:"name" validate:"required,max=200,text"`
	Email        string `form:"email" validate:"required,max=254,email"`
	Password     string `form:"password" validate:"min=12,max=1024,password"`
}

// Validate trims the text fields and lower-cases the email, and returns a *ValidationError
// naming each bad field, or nil. The password is kept exactly as typed.
func (in *SignUpInput) Validate() error {
	in.Organization = strings.TrimSpace(in.Organization)
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	return validateStruct(in)
}

// InviteInput is the team form's "invite a person".
type InviteInput struct {
	Name  string `form:"name" validate:"required,max=200,text"`
	Email string `form:"email" validate:"required,max=254,email"`
	Role  Role   `form:"role" validate:"required,oneof=owner admin member"`
}

// Validate trims the text fields and returns a *ValidationError naming each bad field, or nil.
func (in *InviteInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	return validateStruct(in)
}

// NewPasswordInput is a password chosen twice: when accepting an invitation without an
// account yet, or resetting a forgotten one.
type NewPasswordInput struct {
	New     string `form:"new_password" validate:"min=12,max=1024,password"`
	Confirm string `form:"confirm_password" validate:"eqfield=New"`
}

// Validate returns a *ValidationError naming each bad field, or nil.
func (in *NewPasswordInput) Validate() error { return validateStruct(in) }

// EmailInput is a form asking for an email alone (a forgotten password).
type EmailInput struct {
	Email string `form:"email" validate:"required,max=254,email"`
}

// Validate trims and lower-cases the email and returns a *ValidationError, or nil.
func (in *EmailInput) Validate() error {
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	return validateStruct(in)
}

// PasswordChangeInput is the change-password form.
type PasswordChangeInput struct {
	Current string `form:"current_password" validate:"required,max=1024"`
	New     string `form:"new_password" validate:"min=12,max=1024,password"`
	Confirm string `form:"confirm_password" validate:"eqfield=New"`
}

// Validate returns a *ValidationError naming each bad field, or nil.
func (in *PasswordChangeInput) Validate() error { return validateStruct(in) }

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their form names, which is what the views show errors under.
	v.RegisterTagNameFunc(func(f reflect.StructField) string { return f.Tag.Get("form") })
	// PostgreSQL refuses NUL bytes and invalid UTF-8 in text: catch them here as input
	// errors rather than as database errors.
	must(v.RegisterValidation("text", func(fl validator.FieldLevel) bool {
		return cleanText(fl.Field().String(), false)
	}))
	must(v.RegisterValidation("multiline", func(fl validator.FieldLevel) bool {
		return cleanText(fl.Field().String(), true)
	}))
	must(v.RegisterValidation("days", func(fl validator.FieldLevel) bool {
		n, err := strconv.Atoi(fl.Field().String())
		return err == nil && n >= 0 && n <= 365
	}))
	must(v.RegisterValidation("weburl", func(fl validator.FieldLevel) bool {
		u, err := url.Parse(fl.Field().String())
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.Contains(u.Host, ".") && cleanText(u.String(), false)
	}))
	must(v.RegisterValidation("password", func(fl validator.FieldLevel) bool {
		return !CommonPassword(fl.Field().String())
	}))
	must(v.RegisterValidation("phone", func(fl validator.FieldLevel) bool {
		digits := 0
		for _, r := range fl.Field().String() {
			switch {
			case r >= '0' && r <= '9':
				digits++
			case strings.ContainsRune(" +-().", r):
			default:
				return false
			}
		}
		return digits >= 3
	}))
	return v
}

func cleanText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

var messages = map[string]string{
	"required":  "This field is required.",
	"email":     "Enter a valid email address.",
	"phone":     "Enter a phone number: digits, spaces and + - ( ) only.",
	"text":      "Remove the control characters from this field.",
	"multiline": "Remove the control characters from this field.",
	"password":  "This password is one of the most common: choose another.",
	"oneof":     "Choose one of the offered values.",
	"eqfield":   "The two passwords differ.",
	"days":      "Enter a number of days from 0 to 365.",
	"weburl":    "Enter a web address, such as example.com.",
	"iso4217":   "Enter a three-letter currency code, such as EUR.",
}

func validateStruct(s any) error {
	err := validate.Struct(s)
	if err == nil {
		return nil
	}
	errs, ok := err.(validator.ValidationErrors)
	if !ok {
		return err
	}
	fields := make(map[string]string, len(errs))
	for _, fe := range errs {
		if _, seen := fields[fe.Field()]; seen {
			continue
		}
		msg, ok := messages[fe.Tag()]
		switch {
		case ok:
		case fe.Tag() == "max" && fe.Kind() == reflect.Slice:
			msg = "Add at most " + fe.Param() + "."
		case fe.Tag() == "max":
			msg = "Use at most " + fe.Param() + " characters."
		case fe.Tag() == "min":
			msg = "Use at least " + fe.Param() + " characters."
		default:
			msg = "This value is not valid."
		}
		fields[fe.Field()] = msg
	}
	return &ValidationError{Fields: fields}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// TagColors are the colours a tag may have (the schema's check says the same).
var TagColors = []string{"slate", "red", "amber", "green", "teal", "blue", "violet", "pink"}

// TagInput is the new-tag form.
type TagInput struct {
	Name  string `form:"name" validate:"required,max=50,text"`
	Color string `form:"color" validate:"oneof=slate red amber green teal blue violet pink"`
}

// Validate trims and normalizes the name and returns a *ValidationError naming each bad field,
// or nil.
func (in *TagInput) Validate() error {
	in.Name = norm.NFC.String(strings.TrimSpace(in.Name))
	return validateStruct(in)
}

// NoteInput is a note added to a customer's timeline.
type NoteInput struct {
	Body string `form:"body" validate:"required,max=5000,multiline"`
}

// Validate trims and normalizes the note and returns a *ValidationError, or nil.
func (in *NoteInput) Validate() error {
	in.Body = norm.NFC.String(strings.TrimSpace(in.Body))
	return validateStruct(in)
}

package models

import (
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"golang.org/x/text/unicode/norm"
)

// CustomerInput is what a person may set on a customer. It has no tenant and no id: those
// never come from a request.
type CustomerInput struct {
	Name    string `form:"name" json:"name" validate:"required,max=200,text"`
	Email   string `form:"email" json:"email" validate:"omitempty,max=254,email"`
	Phone   string `form:"phone" json:"phone" validate:"omitempty,max=50,phone"`
	Company string `form:"company" json:"company" validate:"max=200,text"`
	Notes   string `form:"notes" json:"notes" validate:"max=5000,multiline"`
}

// Normalize trims surrounding space from every field and puts the text in Unicode NFC, so that
// "é" typed as one character or as e and an accent is stored, and found, the same way.
func (in *CustomerInput) Normalize() {
	in.Name = norm.NFC.String(strings.TrimSpace(in.Name))
	in.Email = norm.NFC.String(strings.TrimSpace(in.Email))
	in.Phone = strings.TrimSpace(in.Phone)
	in.Company = norm.NFC.String(strings.TrimSpace(in.Company))
	in.Notes = norm.NFC.String(strings.TrimSpace(in.Notes))
}

// Validate normalizes the input and returns a *ValidationError naming each bad field, or nil.
func (in *CustomerInput) Validate() error {
	in.Normalize()
	return validateStruct(in)
}

// SignUpInput is the sign-up form.
type SignUpInput struct {
	Organization string `form:"organization" validate:"required,max=200,text"`
	Name         string `form:"name" validate:"required,max=200,text"`
	Email        string `form:"email" validate:"required,max=254,email"`
	Password     string `form:"password" validate:"min=12,max=1024,password"`
}

// Validate trims the text fields and returns a *ValidationError naming each bad field, or nil.
// The password is kept exactly as typed.
func (in *SignUpInput) Validate() error {
	in.Organization = strings.TrimSpace(in.Organization)
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.TrimSpace(in.Email)
	return validateStruct(in)
}

// NewUserInput is the team form's "add a person".
type NewUserInput struct {
	Name     string `form:"name" validate:"required,max=200,text"`
	Email    string `form:"email" validate:"required,max=254,email"`
	Role     Role   `form:"role" validate:"required,oneof=owner admin member"`
	Password string `form:"password" validate:"min=12,max=1024,password"`
}

// Validate trims the text fields and returns a *ValidationError naming each bad field, or nil.
func (in *NewUserInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
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

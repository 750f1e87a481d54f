package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Role is a person's role inside their tenant.
type Role string

// The roles, from most to least privileged.
const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Roles lists the roles, most privileged first.
var Roles = []Role{RoleOwner, RoleAdmin, RoleMember}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RoleMember }

// ManagesTeam reports whether r may see and manage the team and the audit trail.
func (r Role) ManagesTeam() bool { return r == RoleOwner || r == RoleAdmin }

// Tenant is an organization. Its id is the tenant every other row belongs to.
type Tenant struct {
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Name      string
	CreatedAt time.Time
}

// User is a person's membership of one tenant: their name and role there. The person signs in
// with their account (email and password), which may belong to other tenants too; no tenant
// sees the account itself, or the other memberships.
type User struct {
	TenantID      uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID            uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	AccountID     uuid.UUID `gorm:"type:uuid"`
	Email         string    // the account's, lower-cased
	Name          string
	Role          Role
	DeactivatedAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Invitation asks a person, by email, to join a tenant with a role. The emailed link (whose
// token only the invitee holds; the table keeps its SHA-256) accepts it.
type Invitation struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	TokenHash  string    `json:"-"`
	Email      string
	Name       string
	Role       Role
	InvitedBy  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
}

// Active reports whether the person may sign in.
func (u User) Active() bool { return u.DeactivatedAt == nil }

// UserSession is one signed-in session of a person: what they see on their account page, and
// what a role change or deactivation ends.
type UserSession struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey"`
	UserID     uuid.UUID `gorm:"type:uuid"`
	SessionKey string    `json:"-"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string `gorm:"column:ip"`
	UserAgent  string
}

// CustomerKind says whether a customer is a company or a person.
type CustomerKind string

// The kinds of customer.
const (
	KindCompany CustomerKind = "company"
	KindPerson  CustomerKind = "person"
)

// Customer is a tenant's customer.
type Customer struct {
	TenantID        uuid.UUID    `gorm:"type:uuid;primaryKey"`
	ID              uuid.UUID    `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Kind            CustomerKind `gorm:"default:company"`
	Number          string       `gorm:"default:null"` // unique in the tenant; left out, the database assigns the next
	Name            string
	Email           string   // the first of Emails, kept for the list and its sort
	Phone           string   // the first of Phones
	Emails          Contacts `gorm:"type:jsonb"`
	Phones          Contacts `gorm:"type:jsonb"`
	Company         string
	Website         string
	TaxID           string
	BillingAddress  string
	ShippingAddress string
	Currency        string     `gorm:"default:EUR"`
	PaymentTerms    int        // days
	CreatedBy       *uuid.UUID `gorm:"type:uuid"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	DeletedAt       *time.Time // in the trash since; nil when not
	DeletedBy       *uuid.UUID `gorm:"type:uuid"`
	ErasedAt        *time.Time // its personal data erased on request; nil when not
	ErasedBy        *uuid.UUID `gorm:"type:uuid"`
	// DuplicatesChecked is set once its look-alikes are kept (store.keepDuplicates); written by
	// a create, never by an edit's Updates.
	DuplicatesChecked bool  `gorm:"<-:create"`
	Tags              []Tag `gorm:"-"` // loaded by the store where a page shows them
}

// Contact is one typed email address or phone number.
type Contact struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Contacts are a customer's emails or phones, stored as a JSON array (never null).
type Contacts []Contact

// Value implements driver.Valuer.
func (cs Contacts) Value() (driver.Value, error) {
	if cs == nil {
		return "[]", nil
	}
	raw, err := json.Marshal([]Contact(cs))
	return string(raw), err
}

// Scan implements sql.Scanner.
func (cs *Contacts) Scan(v any) error {
	switch raw := v.(type) {
	case string:
		return json.Unmarshal([]byte(raw), cs)
	case []byte:
		return json.Unmarshal(raw, cs)
	case nil:
		*cs = nil
		return nil
	}
	return fmt.Errorf("contacts: cannot scan %T", v)
}

// Tag is a tenant's coloured label for customers.
type Tag struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Name      string
	Color     string
	CreatedAt time.Time
}

// CustomerTag puts a tag on a customer.
type CustomerTag struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	CustomerID uuid.UUID `gorm:"type:uuid;primaryKey"`
	TagID      uuid.UUID `gorm:"type:uuid;primaryKey"`
}

// CustomerDuplicate says customer OtherID looks like CustomerID, and why; pairs are kept both
// ways round (store.keepDuplicates).
type CustomerDuplicate struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	CustomerID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	OtherID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	SameEmail   bool
	SameTaxID   bool
	SimilarName bool
	Score       float32
}

// CustomerNote is one note in a customer's timeline.
type CustomerNote struct {
	TenantID   uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	CustomerID uuid.UUID `gorm:"type:uuid"`
	Body       string
	CreatedBy  *uuid.UUID `gorm:"type:uuid"`
	CreatedAt  time.Time
}

// UserSettings are one person's remembered choices.
type UserSettings struct {
	TenantID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	UserID          uuid.UUID `gorm:"type:uuid;primaryKey"`
	CustomerColumns []string  `gorm:"serializer:json"`
}

// Outcome says how an audited operation ended.
type Outcome string

// Outcomes: allowed and done; denied (not found, foreign, or not permitted: the trail does not
// say which); rejected as invalid input.
const (
	OutcomeAllowed  Outcome = "allowed"
	OutcomeDenied   Outcome = "denied"
	OutcomeRejected Outcome = "rejected"
)

// AuditEvent is one row of a tenant's append-only audit trail.
type AuditEvent struct {
	TenantID   uuid.UUID  `gorm:"type:uuid;primaryKey"`
	ID         uuid.UUID  `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	OccurredAt time.Time  `gorm:"default:clock_timestamp()"`
	UserID     *uuid.UUID `gorm:"type:uuid"`
	Action     string
	Entity     string
	EntityID   string
	Outcome    Outcome
	RequestID  string
	IP         string `gorm:"column:ip"`
	UserAgent  string
	Details    []byte  `gorm:"type:jsonb"`
	APIToken   *string `gorm:"column:api_token"` // the API token the request came with, by name and prefix
}

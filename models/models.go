package models

import (
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

// User is a person who signs in to one tenant.
type User struct {
	TenantID           uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID                 uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Email              string
	Name               string
	PasswordHash       string
	Role               Role
	MustChangePassword bool
	DeactivatedAt      *time.Time
	PasswordChangedAt  time.Time `gorm:"default:now()"`
	CreatedAt          time.Time
	UpdatedAt          time.Time
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

// Customer is a tenant's customer.
type Customer struct {
	TenantID  uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID        uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Name      string
	Email     string
	Phone     string
	Company   string
	Notes     string
	CreatedBy *uuid.UUID `gorm:"type:uuid"`
	CreatedAt time.Time
	UpdatedAt time.Time
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
	Details    []byte `gorm:"type:jsonb"`
}

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

// Tenant is an organization. Its id is the tenant every other row belongs to.
type Tenant struct {
	ID        uuid.UUID `gorm:"type:uuid;primaryKey"`
	Name      string
	CreatedAt time.Time
}

// User is a person who signs in to one tenant.
type User struct {
	TenantID     uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID           uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Email        string
	Name         string
	PasswordHash string
	Role         Role
	CreatedAt    time.Time
	UpdatedAt    time.Time
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

package models

import (
	"time"

	"github.com/google/uuid"
)

// Export is a ZIP of everything an organization holds, built in the background for the owner
// who asked for it, who alone may download it until it expires.
type Export struct {
	TenantID    uuid.UUID `gorm:"type:uuid;primaryKey"`
	ID          uuid.UUID `gorm:"type:uuid;primaryKey;default:gen_random_uuid()"`
	Status      string
	RequestedBy uuid.UUID `gorm:"type:uuid"`
	CreatedAt   time.Time
	RowsTotal   int64
	RowsDone    int64
	Size        int64
	SHA256      string `gorm:"column:sha256"`
	ReadyAt     *time.Time
	ExpiresAt   *time.Time
	Failure     string
}

// The statuses of an export.
const (
	ExportQueued   = "queued"
	ExportBuilding = "building"
	ExportReady    = "ready"
	ExportExpired  = "expired"
	ExportFailed   = "failed"
)

// Running reports whether e is waiting to be built or being built.
func (e Export) Running() bool { return e.Status == ExportQueued || e.Status == ExportBuilding }

// Percent is how far the build has come, from 0 to 100.
func (e Export) Percent() int {
	if e.RowsTotal == 0 {
		return 0
	}
	return int(min(100, e.RowsDone*100/e.RowsTotal))
}

// ExportChunk is a part of an export's ZIP.
type ExportChunk struct {
	TenantID uuid.UUID `gorm:"type:uuid;primaryKey"`
	ExportID uuid.UUID `gorm:"type:uuid;primaryKey"`
	Seq      int       `gorm:"primaryKey"`
	Data     []byte
}

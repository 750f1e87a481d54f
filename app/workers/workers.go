// Package workers lists every background job's worker, for the servers and tests that work
// the queue.
package workers

import (
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"moat/app/closing"
	"moat/app/exports"
	"moat/app/imports"
	"moat/app/store"
)

// All returns the workers of every job, over the stores on db, and the jobs that run on a
// schedule.
func All(db *gorm.DB) (*river.Workers, []*river.PeriodicJob) {
	w := river.NewWorkers()
	imports.Register(w, store.NewImports(db))
	exports.Register(w, store.NewExports(db))
	sweep := closing.Register(w, store.NewOrganization(db))
	return w, []*river.PeriodicJob{sweep}
}

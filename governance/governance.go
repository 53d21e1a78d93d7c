// Package governance makes the staff side of a transfer checkable: the
// confidentiality agreement every staff member accepts before seeing
// customer data, training per role, periodic access reviews, the access
// report auditors read, and the public information-protection report.
package governance

import (
	"time"

	"github.com/handoverhq/handover/database"
)

// Service reads and writes governance records.
type Service struct {
	db  *database.DB
	cfg Config
}

// Config holds the periods the rules run on.
type Config struct {
	// AgreementPeriod is how long an acceptance lasts before the staff
	// member must accept again (default 12 months).
	AgreementPeriod time.Duration
	// ReviewEvery is how often an access review is due (default 90 days).
	ReviewEvery time.Duration
	// Location is the business time zone for "unusual hours".
	Location *time.Location
}

// New returns a Service on db, filling in defaults.
func New(db *database.DB, cfg Config) *Service {
	if cfg.AgreementPeriod <= 0 {
		cfg.AgreementPeriod = 365 * 24 * time.Hour
	}
	if cfg.ReviewEvery <= 0 {
		cfg.ReviewEvery = 90 * 24 * time.Hour
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600)
		}
		cfg.Location = loc
	}
	return &Service{db: db, cfg: cfg}
}

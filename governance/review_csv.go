package governance

import (
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// WriteReviewCSV writes a review's accounts as CSV for auditors'
// spreadsheets. Every text cell is escaped: an email such as
// "=1+2@example.com" is an address to Handover but a formula to a
// spreadsheet.
func WriteReviewCSV(w io.Writer, r *Review) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"staff_id", "email", "role", "last_sign_in", "reveals", "exports", "decision", "decided_by", "flagged"})
	for _, it := range r.Items {
		last := ""
		if it.LastSignIn != nil {
			last = it.LastSignIn.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{csvSafe(it.StaffID), csvSafe(it.Email), csvSafe(it.Role), last, fmt.Sprint(it.Reveals), fmt.Sprint(it.Exports),
			csvSafe(it.Decision), csvSafe(it.DecidedBy), fmt.Sprint(it.Flagged)})
	}
	cw.Flush()
	return cw.Error()
}

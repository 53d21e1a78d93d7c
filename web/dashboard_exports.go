package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/staff"
)

// registerExportPages: admins count (dry run) and write the buyer's
// encrypted package, and download the evidence of past exports.
func (s *Server) registerExportPages() {
	s.pageRoute(http.MethodGet, "/export", s.handleExportPage, staff.ExportTransfers)
	s.pageRoute(http.MethodPost, "/export/dry-run", s.handleExportDryRunPage, staff.ExportTransfers)
	s.pageRoute(http.MethodPost, "/export", s.handleExportDownloadPage, staff.ExportTransfers)
	s.pageRoute(http.MethodGet, "/export/evidence", s.handleExportEvidence, staff.ExportTransfers)
}

// exportForm is the export form's values, kept when shown again.
type exportForm struct {
	Rule      string
	Purposes  []string
	Recipient string
}

// exportRecord is one past export as the audit log recorded it.
type exportRecord struct {
	At            time.Time
	Actor         string
	ExportID      string `json:"export"`
	Customers     int    `json:"customers"`
	ConsentEvents int    `json:"consent_events"`
	Files         int    `json:"files"`
	SHA256        string `json:"package_sha256"`
}

type exportView struct {
	Transfers []*customers.Transfer
	Transfer  *customers.Transfer
	Form      exportForm
	Counts    *lifecycle.Counts
	// Omitted are the customers the rule leaves out; LeftFields the
	// customer fields the transfer does not hand over.
	Omitted, Erased int
	LeftFields      []string
	Past            []exportRecord
	Names           map[string]string
	Error           string
}

func (s *Server) exportPage(c echo.Context, status int, transferID string, v exportView) error {
	var err error
	if v.Transfers, v.Transfer, err = s.pickTransfer(c, transferID); err != nil {
		return err
	}
	if v.Transfer != nil {
		for _, f := range customers.DataCategories {
			if !slices.Contains(v.Transfer.DataCategories, f) {
				v.LeftFields = append(v.LeftFields, f)
			}
		}
		if v.Past, err = s.pastExports(c, v.Transfer.ID); err != nil {
			return err
		}
	}
	if v.Form.Rule == "" {
		v.Form.Rule = lifecycle.RuleAll
	}
	if v.Names, err = s.actorNames(c); err != nil {
		return err
	}
	return s.render(c, status, "export", &page{Title: "export.title", Nav: "compliance", Data: v})
}

// pastExports reads the transfer's completed exports from the audit log.
func (s *Server) pastExports(c echo.Context, transferID string) ([]exportRecord, error) {
	entries, err := audit.Find(c.Request().Context(), s.db, audit.Filter{Action: "transfer.export", ObjectType: "transfer", ObjectID: transferID, Limit: 1000})
	if err != nil {
		return nil, err
	}
	out := []exportRecord{}
	for i := len(entries) - 1; i >= 0; i-- {
		r := exportRecord{At: entries[i].At, Actor: entries[i].Actor}
		_ = json.Unmarshal([]byte(entries[i].Detail), &r)
		out = append(out, r)
	}
	return out, nil
}

func (s *Server) handleExportPage(c echo.Context) error {
	return s.exportPage(c, http.StatusOK, c.QueryParam("transfer"), exportView{})
}

func readExportForm(c echo.Context) exportForm {
	form, _ := c.FormParams()
	return exportForm{Rule: c.FormValue("rule"), Purposes: form["purposes"], Recipient: c.FormValue("recipient")}
}

// handleExportDryRunPage counts, writing nothing, the customers the rule
// hands over and those it leaves out.
func (s *Server) handleExportDryRunPage(c echo.Context) error {
	transfer, f := c.FormValue("transfer_id"), readExportForm(c)
	fail := func(status int, msg string) error {
		return s.exportPage(c, status, transfer, exportView{Form: f, Error: msg})
	}
	counts, err := s.exporter.DryRun(c.Request().Context(), transfer, lifecycle.Rule{Mode: f.Rule, Purposes: f.Purposes})
	if err != nil {
		return formFailed(c, err, fail)
	}
	if err := s.recordAccess(c, "transfer.export.dry_run", "transfer", counts.TransferID, fmt.Sprintf("rule=%s selected=%d", counts.Rule, counts.Selected)); err != nil {
		return err
	}
	f.Rule, f.Purposes = counts.Rule, counts.Purposes
	return s.exportPage(c, http.StatusOK, transfer, exportView{Form: f, Counts: counts, Omitted: counts.Customers - counts.Selected})
}

// handleExportDownloadPage streams the package, encrypted to the buyer's
// key, as a download; the browser shows its progress. The member confirms
// first (confirm=yes) that they checked the dry run. An error found before
// the first byte shows on the form; the export's start and completion
// (with the package's SHA-256) are audited by the exporter.
func (s *Server) handleExportDownloadPage(c echo.Context) error {
	transfer, f := c.FormValue("transfer_id"), readExportForm(c)
	fail := func(status int, msg string) error {
		return s.exportPage(c, status, transfer, exportView{Form: f, Error: msg})
	}
	if c.FormValue("confirm") != "yes" {
		return fail(http.StatusBadRequest, formText(c, "cerr.export_confirm"))
	}
	w := &firstWrite{c: c, name: fmt.Sprintf("handover-%s.tar.age", transfer)}
	_, err := s.exporter.Export(c.Request().Context(), lifecycle.ExportRequest{TransferID: transfer,
		Recipient: f.Recipient, Rule: lifecycle.Rule{Mode: f.Rule, Purposes: f.Purposes}, Actor: member(c).Actor()}, w)
	if err != nil && w.started {
		// Too late for a page: the truncated package fails to decrypt.
		s.log.Error("export failed mid-stream", "transfer", transfer, "err", err)
		return nil
	}
	if err != nil {
		return formFailed(c, err, fail)
	}
	return nil
}

// handleExportEvidence downloads the audit log's record of the
// transfer's exports (no personal data): when, by whom, how many
// customers, and each package's SHA-256, with the chain's hashes.
func (s *Server) handleExportEvidence(c echo.Context) error {
	transfer := c.QueryParam("transfer")
	if _, err := s.customers.FindTransferByID(c.Request().Context(), transfer); err != nil {
		return err
	}
	var out []map[string]any
	for _, action := range []string{"transfer.export.start", "transfer.export"} {
		entries, err := audit.Find(c.Request().Context(), s.db, audit.Filter{Action: action, ObjectType: "transfer", ObjectID: transfer, Limit: 1000})
		if err != nil {
			return err
		}
		for _, e := range entries {
			var detail any = e.Detail
			if json.Valid([]byte(e.Detail)) {
				detail = json.RawMessage(e.Detail)
			}
			out = append(out, map[string]any{"seq": e.Seq, "at": e.At.UTC(), "actor": e.Actor, "action": e.Action,
				"detail": detail, "prev_hash": e.PrevHash, "hash": e.Hash})
		}
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return int(a["seq"].(int64) - b["seq"].(int64)) })
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="export-evidence-`+url.PathEscape(transfer)+`.json"`)
	return c.JSON(http.StatusOK, map[string]any{"transfer_id": transfer, "generated_at": time.Now().UTC(), "entries": out})
}

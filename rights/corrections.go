package rights

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// CorrectionStatus says where a correction request stands (PIPL Art. 46).
type CorrectionStatus string

// Correction request statuses. A request that changes the phone or email
// waits for a code sent to the new contact before staff see it; nothing
// changes the customer until staff approve. The values are the ones stored
// and the API shows.
const (
	CorrectionAwaitingConfirmation CorrectionStatus = "awaiting_confirmation"
	CorrectionPending              CorrectionStatus = "pending"
	CorrectionApproved             CorrectionStatus = "approved"
	CorrectionRejected             CorrectionStatus = "rejected"
	// CorrectionCancelled: replaced by a newer request, or the customer
	// was erased.
	CorrectionCancelled CorrectionStatus = "cancelled"
)

// String returns the status as stored.
func (s CorrectionStatus) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s CorrectionStatus) Key() string { return "agent.correction." + string(s) }

// CorrectionFields are the fields a customer may correct. In a proposal an
// empty field means "keep as is".
type CorrectionFields struct {
	Name    string `json:"name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	Company string `json:"company,omitempty"`
}

// Masked returns the fields masked, as staff see them until they reveal.
func (f CorrectionFields) Masked() CorrectionFields {
	return CorrectionFields{Name: pii.MaskName(f.Name), Phone: pii.MaskPhone(f.Phone), Email: pii.MaskEmail(f.Email),
		Address: pii.MaskText(f.Address), Company: pii.MaskText(f.Company)}
}

// field addresses one field by its import name (customers.FieldName …); nil for others.
func (f *CorrectionFields) field(name string) *string {
	switch name {
	case customers.FieldName:
		return &f.Name
	case customers.FieldPhone:
		return &f.Phone
	case customers.FieldEmail:
		return &f.Email
	case customers.FieldAddress:
		return &f.Address
	case customers.FieldCompany:
		return &f.Company
	}
	return nil
}

var correctionFieldNames = []string{customers.FieldName, customers.FieldPhone, customers.FieldEmail, customers.FieldAddress, customers.FieldCompany}

// CorrectionRequest is a customer's proposal to correct their details.
type CorrectionRequest struct {
	ID         string
	CustomerID string
	Status     CorrectionStatus
	// Fields names the proposed fields, in a fixed order.
	Fields []string
	// Proposed holds the proposed values of Fields; Current the customer's
	// values of the same fields now (empty once the customer is erased).
	Proposed CorrectionFields
	Current  CorrectionFields
	Source   string
	LinkID   string
	// Reason is why staff rejected it (Art. 50).
	Reason    string
	DecidedBy string
	DecidedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	// Challenge is the code just sent to a new phone or email, set only by
	// RequestCorrection and ResendCorrectionCode.
	Challenge *Challenge
}

// Masked returns a copy with Current and Proposed masked.
func (r CorrectionRequest) Masked() CorrectionRequest {
	r.Current, r.Proposed = r.Current.Masked(), r.Proposed.Masked()
	r.Fields = append([]string(nil), r.Fields...)
	return r
}

// CorrectionInput is a correction as the portal (or staff, on the phone)
// submits it.
type CorrectionInput struct {
	CustomerID string
	Proposed   CorrectionFields
	Source     string // SourcePortal or SourceStaff
	LinkID     string
	Actor      string // "customer:ID" or "staff:ID"
	Locale     string // language of the code message; the customer's when empty
}

// normalize cleans the proposed values; the errors name fields, not values.
func (f CorrectionFields) normalize() (CorrectionFields, error) {
	var out CorrectionFields
	var problem string
	if out.Name, problem = customers.CleanText(f.Name, customers.MaxNameLen, "name"); problem != "" {
		return out, handover.Errorf(handover.EINVALID, "%s", problem)
	}
	if out.Address, problem = customers.CleanText(f.Address, customers.MaxTextLen, "address"); problem != "" {
		return out, handover.Errorf(handover.EINVALID, "%s", problem)
	}
	if out.Company, problem = customers.CleanText(f.Company, customers.MaxTextLen, "company"); problem != "" {
		return out, handover.Errorf(handover.EINVALID, "%s", problem)
	}
	var err error
	if strings.TrimSpace(f.Phone) != "" {
		if out.Phone, err = customers.NormalizePhone(f.Phone); err != nil {
			return out, handover.Errorf(handover.EINVALID, "phone: %s", handover.ErrorMessage(err))
		}
	}
	if strings.TrimSpace(f.Email) != "" {
		if out.Email, err = customers.NormalizeEmail(f.Email); err != nil {
			return out, handover.Errorf(handover.EINVALID, "email: %s", handover.ErrorMessage(err))
		}
	}
	return out, nil
}

func correctionContext(requestID string) string { return requestID + "/correction" }

func currentFields(c *customers.Customer) CorrectionFields {
	return CorrectionFields{Name: c.Name, Phone: c.Phone, Email: c.Email, Address: c.Address, Company: c.Company}
}

// RequestCorrection records a customer's proposed corrections as a request
// for staff review. Values equal to the current ones are dropped. A new
// phone or email gets a confirmation code through send, and the request
// waits for it (one new contact per request). Submitting the same
// proposal again returns the open request unchanged; a different one
// replaces it.
func (s *Store) RequestCorrection(ctx context.Context, in CorrectionInput, send SendFunc) (*CorrectionRequest, error) {
	proposed, err := in.Proposed.normalize()
	if err != nil {
		return nil, err
	}
	if in.Source == "" || in.Actor == "" {
		return nil, handover.Errorf(handover.EINVALID, "A correction needs its source and actor.")
	}
	var req *CorrectionRequest
	var code, locale string
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		if status, err := customers.LockCustomer(ctx, tx, in.CustomerID); err != nil {
			return err
		} else if status == customers.StatusErased {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		cu, err := s.customers.FindCustomerByIDTx(ctx, tx, in.CustomerID)
		if err != nil {
			return err
		}
		locale = cu.Locale
		current := currentFields(cu)
		var fields []string
		for _, name := range correctionFieldNames {
			p, c := proposed.field(name), current.field(name)
			if *p == *c {
				*p = ""
			}
			if *p != "" {
				fields = append(fields, name)
			}
		}
		if len(fields) == 0 {
			return handover.Errorf(handover.EINVALID, "Nothing to correct: the proposed values are the ones on file.")
		}
		if proposed.Phone != "" && proposed.Email != "" {
			return handover.Errorf(handover.EINVALID, "Change the phone and the email one at a time: each needs its own confirmation code.")
		}
		open, err := s.customerCorrections(ctx, tx, in.CustomerID, CorrectionAwaitingConfirmation, CorrectionPending)
		if err != nil {
			return err
		}
		for _, o := range open {
			if o.Proposed == proposed {
				req = o
				return nil
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE correction_requests SET status = $1, updated_at = $2
			WHERE customer_id = $3 AND status IN ($4, $5)`, CorrectionCancelled, tx.Now, in.CustomerID,
			CorrectionAwaitingConfirmation, CorrectionPending); err != nil {
			return fmt.Errorf("replace correction requests: %w", err)
		}
		req = &CorrectionRequest{ID: ulid.Make().String(), CustomerID: in.CustomerID, Status: CorrectionPending, Fields: fields,
			Proposed: proposed, Current: current, Source: in.Source, LinkID: in.LinkID, CreatedAt: tx.Now, UpdatedAt: tx.Now}
		if proposed.Phone != "" || proposed.Email != "" {
			req.Status = CorrectionAwaitingConfirmation
			if code, req.Challenge, err = issueCode(ctx, tx, in.CustomerID, codeCorrection, req.ID); err != nil {
				return err
			}
		}
		if err := s.insertCorrection(ctx, tx, req); err != nil {
			return err
		}
		return auditCorrection(ctx, tx, in.Actor, "correction.request", req, "")
	})
	if err != nil {
		return nil, err
	}
	if req.Challenge == nil {
		return req, s.recordCorrection(ctx, req)
	}
	if in.Locale != "" {
		locale = in.Locale
	}
	to := channels.Address{Phone: req.Proposed.Phone, Email: req.Proposed.Email}
	req.Challenge.To = maskAddress(to)
	if err := s.sendCode(ctx, send, req.Challenge, codeMessage(req.Challenge, req.CustomerID, locale, to, code)); err != nil {
		return nil, err
	}
	return req, nil
}

func (s *Store) insertCorrection(ctx context.Context, tx *database.Tx, req *CorrectionRequest) error {
	keys, err := s.vault.CustomerKeys(ctx, tx, []string{req.CustomerID})
	if err != nil {
		return err
	}
	dk := keys[req.CustomerID]
	if dk == nil {
		return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	}
	b, _ := json.Marshal(req.Proposed)
	_, err = tx.ExecContext(ctx, `INSERT INTO correction_requests (id, customer_id, status, fields, proposed_enc, source, link_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, req.ID, req.CustomerID, req.Status, strings.Join(req.Fields, ","),
		dk.Seal(string(b), correctionContext(req.ID)), req.Source, req.LinkID, tx.Now, tx.Now)
	if err != nil {
		return fmt.Errorf("store correction request: %w", err)
	}
	return nil
}

// auditCorrection records a step of a request: its id and field names,
// never values.
func auditCorrection(ctx context.Context, tx *database.Tx, actor, action string, req *CorrectionRequest, reason string) error {
	d := map[string]string{"request": req.ID, "fields": strings.Join(req.Fields, ",")}
	if reason != "" {
		d["reason"] = reason
	}
	detail, _ := json.Marshal(d)
	return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "customer", ObjectID: req.CustomerID, Detail: string(detail)})
}

// ConfirmCorrection checks the code sent for the customer's request and,
// when it is right, passes the request to staff review. A wrong, expired
// or used code is EINVALID; confirming an already confirmed request
// returns it unchanged.
func (s *Store) ConfirmCorrection(ctx context.Context, customerID, requestID, code string) (*CorrectionRequest, error) {
	var req *CorrectionRequest
	accepted := false
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if req, err = s.findCorrection(ctx, tx, requestID); err != nil {
			return err
		}
		if req.CustomerID != customerID {
			return handover.Errorf(handover.ENOTFOUND, "Correction request not found.")
		}
		if req.Status != CorrectionAwaitingConfirmation {
			accepted = req.Status == CorrectionPending || req.Status == CorrectionApproved
			return nil
		}
		var challengeID string
		err = tx.QueryRowContext(ctx, `SELECT id FROM confirmation_codes WHERE customer_id = $1 AND purpose = $2 AND subject_id = $3
			ORDER BY created_at DESC, id DESC LIMIT 1`, customerID, codeCorrection, requestID).Scan(&challengeID)
		if err != nil {
			return fmt.Errorf("find correction code: %w", err)
		}
		if _, accepted, err = checkCode(ctx, tx, challengeID, customerID, codeCorrection, code); err != nil || !accepted {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE correction_requests SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4`,
			CorrectionPending, tx.Now, requestID, CorrectionAwaitingConfirmation); err != nil {
			return fmt.Errorf("confirm correction: %w", err)
		}
		req.Status, req.UpdatedAt = CorrectionPending, tx.Now
		return auditCorrection(ctx, tx, "customer:"+customerID, "correction.confirm", req, "")
	})
	if err != nil {
		return nil, err
	}
	if !accepted {
		return nil, errWrongCode
	}
	return req, s.recordCorrection(ctx, req)
}

// ResendCorrectionCode sends a new code for a request still waiting for
// one; the resend limits apply.
func (s *Store) ResendCorrectionCode(ctx context.Context, customerID, requestID, locale string, send SendFunc) (*Challenge, error) {
	var req *CorrectionRequest
	var code string
	var ch *Challenge
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := customers.LockCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		if req, err = s.findCorrection(ctx, tx, requestID); err != nil {
			return err
		}
		if req.CustomerID != customerID {
			return handover.Errorf(handover.ENOTFOUND, "Correction request not found.")
		}
		if req.Status != CorrectionAwaitingConfirmation {
			return handover.Errorf(handover.ECONFLICT, "This request needs no code.")
		}
		code, ch, err = issueCode(ctx, tx, customerID, codeCorrection, requestID)
		return err
	})
	if err != nil {
		return nil, err
	}
	to := channels.Address{Phone: req.Proposed.Phone, Email: req.Proposed.Email}
	ch.To = maskAddress(to)
	if err := s.sendCode(ctx, send, ch, codeMessage(ch, customerID, locale, to, code)); err != nil {
		return nil, err
	}
	return ch, nil
}

package rights

import (
	"context"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// The texts of the inbound events rights requests record. Both hold "更正",
// which the default ticket rules file under the correction category
// (rights requests), normal priority.
const (
	rightsCorrectionText = "更正请求 Correction request awaiting review"
	rightsDataAccessText = "个人信息查阅请求（查阅、复制、更正权）Data access request"
)

// recordRights hands a rights request to staff as an inbound event of the
// portal (feedback opens a ticket from it, with its SLA), when the
// RecordRights hook is set. The text names the kind and the fields, never
// a value. dedup makes a retried request record once.
func (s *Store) recordRights(ctx context.Context, customerID, dedup, text string) error {
	if s.RecordRights == nil {
		return nil
	}
	_, err := s.RecordRights(ctx, []channels.InboundEvent{{Channel: channels.Portal, Kind: channels.EventMessage,
		CustomerID: customerID, DedupKey: dedup, Text: text}})
	if err != nil {
		return handover.Errorf(handover.EUNAVAILABLE, "Your request is saved, but staff could not be told yet; please send it again in a moment.")
	}
	return nil
}

func (s *Store) recordCorrection(ctx context.Context, req *CorrectionRequest) error {
	if req.Status != CorrectionPending {
		return nil
	}
	return s.recordRights(ctx, req.CustomerID, "rights:correction:"+req.ID,
		rightsCorrectionText+" ("+req.ID+"): "+strings.Join(req.Fields, ", ")+". 请在后台审核 Review it under Corrections.")
}

func (s *Store) recordDataAccess(ctx context.Context, customerID string) error {
	return s.recordRights(ctx, customerID, "rights:data_access:"+ulid.Make().String(),
		rightsDataAccessText+": the customer verified a code and opened their data (PIPL Art. 45). 如有后续请求请跟进 Follow up any request.")
}

package campaigns

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// SkipReason says why a delivery was not sent (deliveries.skip_reason of
// a skipped or suppressed row).
type SkipReason string

// Skip reasons recorded on deliveries that are not sent. The values are
// the ones stored and the API shows.
const (
	ReasonOptedOut        SkipReason = "opted_out"
	ReasonErased          SkipReason = "erased"
	ReasonUnreachable     SkipReason = "no_channel"        // no listed channel can reach the customer
	ReasonChannelOptedOut SkipReason = "channel_opted_out" // every channel that reaches the customer was opted out of
	ReasonConsentDeclined SkipReason = "consent_declined"  // declined the campaign's purpose
	ReasonConsentWithdrew SkipReason = "consent_withdrawn" // withdrew consent for the campaign's purpose
	ReasonCancelled       SkipReason = "cancelled"
)

// String returns the reason as stored.
func (r SkipReason) String() string { return string(r) }

// Key is the reason's words in the message catalog (locales).
func (r SkipReason) Key() string { return "skip." + string(r) }

// Consent filter decisions besides the ledger's own.
const (
	// ConsentUndecided matches customers with no decision for the purpose.
	ConsentUndecided = "undecided"
)

// MaxAudienceCustomers caps an explicit audience list.
const MaxAudienceCustomers = 100000

// Audience selects the recipients among the customers; every filter given
// must hold, and empty fields match everyone. Customers who opted out or
// were erased are selected too, and skipped with a reason.
type Audience struct {
	// Tags: the customer has every one of them.
	Tags   []string
	Region string
	// ImportID: the customer came in with this import batch.
	ImportID string
	// Consent: the customer's state for each purpose of the campaign's
	// transfer is the one given.
	Consent []ConsentFilter
	// Reachable: the customer has the address of at least one of these
	// channels (blind index present).
	Reachable []channels.Name
	// CustomerIDs is an explicit list (at most MaxAudienceCustomers).
	CustomerIDs []string
}

// ConsentFilter selects customers by their decision for one purpose.
type ConsentFilter struct {
	Purpose string
	// Decision is granted, declined, withdrawn or undecided.
	Decision string
}

// consentDependent reports whether a kind of message may only go to a
// customer who has not declined or withdrawn the campaign's purpose.
// Notices the law requires (transfer, incident) go to everyone.
func consentDependent(k templates.Kind) bool {
	switch k {
	case templates.TransferNotice, templates.IncidentNotice:
		return false
	}
	return true
}

// validateAudience checks a against the transfer's purposes and the
// campaign's channels.
func validateAudience(a *Audience, t *transfers.Transfer) error {
	a.Tags = slices.DeleteFunc(a.Tags, func(s string) bool { return strings.TrimSpace(s) == "" })
	for _, f := range a.Consent {
		if !slices.Contains(t.Purposes, f.Purpose) {
			return handover.Errorf(handover.EINVALID, "audience consent purpose %q is not one of the transfer's purposes", f.Purpose)
		}
		switch f.Decision {
		case customers.ConsentGranted, customers.ConsentDeclined, customers.ConsentWithdrawn, ConsentUndecided:
		default:
			return handover.Errorf(handover.EINVALID, "audience consent decision must be granted, declined, withdrawn or undecided")
		}
	}
	for _, ch := range a.Reachable {
		if reachColumn(ch) == "" {
			return handover.Errorf(handover.EINVALID, "audience reachable names unknown channel %s", ch)
		}
	}
	if len(a.CustomerIDs) > MaxAudienceCustomers {
		return handover.Errorf(handover.ETOOLARGE, "an explicit audience holds at most %d customers", MaxAudienceCustomers)
	}
	slices.Sort(a.CustomerIDs)
	a.CustomerIDs = slices.Compact(a.CustomerIDs)
	return nil
}

func reachColumn(ch channels.Name) string {
	switch ch {
	case channels.SMS:
		return "phone_idx"
	case channels.Email:
		return "email_idx"
	case channels.WeChat:
		return "openid_idx"
	case channels.Devbox:
		return "id"
	}
	return ""
}

// selection is the SQL that reads a campaign's recipients, a chunk at a
// time in id order: the audience filters, the customer's decision for the
// campaign's purpose and, per campaign channel, whether they opted out of
// its kind there. Nothing is decrypted.
type selection struct {
	query string
	args  []any
	// consent and optouts say which optional columns the query returns.
	consent, optouts bool
	channels         []channels.Name
}

// newSelection builds the query for c. listFrom is "" for an explicit list
// given in c.Audience.CustomerIDs (a preview), or the campaign id whose
// campaign_customers rows hold it. withOptouts adds the per-channel
// opt-out columns (skipped when nobody opted out of any channel, and for
// required notices, which no opt-out stops).
func newSelection(c *Campaign, listFrom string, withOptouts bool) selection {
	withOptouts = withOptouts && OptOutKind(c.Kind) != ""
	sel := selection{channels: c.Channels, optouts: withOptouts, consent: c.Purpose != "" && consentDependent(c.Kind),
		args: []any{""}} // $1 is the cursor
	arg := func(v any) string {
		sel.args = append(sel.args, v)
		return fmt.Sprintf("$%d", len(sel.args))
	}
	cols := []string{"c.id", "c.status", "c.time_zone", "c.phone_idx IS NOT NULL", "c.email_idx IS NOT NULL", "c.openid_idx IS NOT NULL"}
	if sel.consent {
		cols = append(cols, `COALESCE((SELECT s.decision FROM consent_state s WHERE s.customer_id = c.id AND s.transfer_id = `+
			arg(c.TransferID)+` AND s.purpose = `+arg(c.Purpose)+`), '')`)
	}
	if withOptouts {
		for _, ch := range c.Channels {
			cols = append(cols, `EXISTS (SELECT 1 FROM channel_optouts o WHERE o.customer_id = c.id AND o.channel = `+arg(string(ch))+
				` AND o.kind IN ('*', `+arg(OptOutKind(c.Kind))+`))`)
		}
	}
	a := c.Audience
	where := []string{"c.id > $1"}
	if a.Region != "" {
		where = append(where, "c.region = "+arg(a.Region))
	}
	for _, tag := range a.Tags {
		where = append(where, `(',' || c.tags || ',') LIKE `+arg("%,"+escapeLike(tag)+",%")+` ESCAPE '\'`)
	}
	if a.ImportID != "" {
		where = append(where, "c.import_id = "+arg(a.ImportID))
	}
	for _, f := range a.Consent {
		if f.Decision == ConsentUndecided {
			where = append(where, `NOT EXISTS (SELECT 1 FROM consent_state f WHERE f.customer_id = c.id AND f.transfer_id = `+
				arg(c.TransferID)+` AND f.purpose = `+arg(f.Purpose)+`)`)
			continue
		}
		where = append(where, `EXISTS (SELECT 1 FROM consent_state f WHERE f.customer_id = c.id AND f.transfer_id = `+
			arg(c.TransferID)+` AND f.purpose = `+arg(f.Purpose)+` AND f.decision = `+arg(f.Decision)+`)`)
	}
	if len(a.Reachable) > 0 {
		var any []string
		for _, ch := range a.Reachable {
			any = append(any, "c."+reachColumn(ch)+" IS NOT NULL")
		}
		where = append(where, "("+strings.Join(any, " OR ")+")")
	}
	if listFrom != "" && a.CustomerIDs != nil {
		where = append(where, "c.id IN (SELECT customer_id FROM campaign_customers WHERE campaign_id = "+arg(listFrom)+")")
	}
	sel.query = `SELECT ` + strings.Join(cols, ", ") + ` FROM customers c WHERE ` + strings.Join(where, " AND ") + ` ORDER BY c.id LIMIT `
	return sel
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.TrimSpace(s))
}

// chunk reads up to n recipients after the customer id cursor.
func (sel selection) chunk(ctx context.Context, q database.Querier, cursor string, n int) ([]recipient, error) {
	args := slices.Clone(sel.args)
	args[0] = cursor
	out, err := database.QueryAll(ctx, q, sel.scan, sel.query+fmt.Sprint(n), args...)
	if err != nil {
		return nil, fmt.Errorf("campaign audience: %w", err)
	}
	return out, nil
}

// scan reads one recipient of the selection's query.
func (sel selection) scan(row database.Scanner) (recipient, error) {
	var r recipient
	dst := []any{&r.id, &r.status, &r.timeZone, &r.phone, &r.email, &r.openid}
	if sel.consent {
		dst = append(dst, &r.consent)
	}
	var opted []bool
	if sel.optouts {
		opted = make([]bool, len(sel.channels))
		for i := range opted {
			dst = append(dst, &opted[i])
		}
	}
	if err := row.Scan(dst...); err != nil {
		return r, err
	}
	for i, o := range opted {
		if o {
			r.optedOut = append(r.optedOut, sel.channels[i])
		}
	}
	return r, nil
}

type recipient struct {
	id     string
	status customers.Status
	// timeZone is the customer's own zone, "" when not known.
	timeZone             string
	phone, email, openid bool
	// consent is the decision for the campaign's purpose ("" if none or
	// not asked); optedOut the campaign channels opted out of.
	consent  string
	optedOut []channels.Name
}

// reachable reports whether the customer has the address ch needs.
func (r recipient) reachable(ch channels.Name) bool {
	switch ch {
	case channels.SMS:
		return r.phone
	case channels.Email:
		return r.email
	case channels.WeChat:
		return r.openid
	case channels.Devbox:
		return true
	}
	return false
}

// route picks the channel a recipient gets the campaign on: the first of
// the campaign's order that reaches them and they did not opt out of; or
// no channel and the reason they are skipped. A customer opted out of
// everything still gets the notices the law requires.
func route(c *Campaign, r recipient) (channels.Name, SkipReason) {
	switch {
	case r.status == customers.StatusOptedOut && OptOutKind(c.Kind) != "":
		return "", ReasonOptedOut
	case r.status == customers.StatusErased:
		return "", ReasonErased
	}
	switch r.consent {
	case customers.ConsentDeclined:
		return "", ReasonConsentDeclined
	case customers.ConsentWithdrawn:
		return "", ReasonConsentWithdrew
	}
	reason := ReasonUnreachable
	for _, ch := range c.Channels {
		if !r.reachable(ch) {
			continue
		}
		if slices.Contains(r.optedOut, ch) {
			reason = ReasonChannelOptedOut
			continue
		}
		return ch, ""
	}
	return "", reason
}

// anyChannelOptouts reports whether any customer opted out of one channel;
// when none did, audiences skip the per-channel lookups.
func anyChannelOptouts(ctx context.Context, q database.Querier) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM channel_optouts LIMIT 1) x`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("channel opt-outs: %w", err)
	}
	return n > 0, nil
}

// AudiencePreview is what starting a campaign would plan now.
type AudiencePreview struct {
	// Total is the number of customers the audience selects.
	Total int
	// Queued is how many would be sent to, per channel in ByChannel.
	Queued    int
	ByChannel map[string]int
	// SkippedByReason counts the customers that would be skipped.
	SkippedByReason map[SkipReason]int
}

// PreviewAudience counts the recipients c's audience selects now and how
// they would be routed or skipped, reading in chunks. c needs the fields
// Create validates (transfer, kind, channels, audience, purpose); it is not
// stored.
func (s *Service) PreviewAudience(ctx context.Context, c *Campaign) (*AudiencePreview, error) {
	if err := s.validate(ctx, c, false); err != nil {
		return nil, err
	}
	opted, err := anyChannelOptouts(ctx, s.db)
	if err != nil {
		return nil, err
	}
	p := &AudiencePreview{ByChannel: map[string]int{}, SkippedByReason: map[SkipReason]int{}}
	count := func(list []recipient) {
		for _, r := range list {
			p.Total++
			if ch, reason := route(c, r); ch != "" {
				p.Queued++
				p.ByChannel[string(ch)]++
			} else {
				p.SkippedByReason[reason]++
			}
		}
	}
	if ids := c.Audience.CustomerIDs; len(ids) > 0 {
		// An explicit list: its ids, a part at a time, through the same
		// filters with the list left out.
		sel := newSelection(c, "", opted)
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(start+500, len(ids))]
			args := slices.Clone(sel.args)
			marks := make([]string, len(part))
			for i, id := range part {
				args = append(args, id)
				marks[i] = fmt.Sprintf("$%d", len(args))
			}
			one := sel
			one.query, one.args = strings.Replace(sel.query, " ORDER BY", " AND c.id IN ("+strings.Join(marks, ",")+") ORDER BY", 1), args
			list, err := one.chunk(ctx, s.db, "", len(part))
			if err != nil {
				return nil, err
			}
			count(list)
		}
		return p, nil
	}
	sel := newSelection(c, "", opted)
	for cursor := ""; ; {
		list, err := sel.chunk(ctx, s.db, cursor, s.cfg.PlanChunk)
		if err != nil {
			return nil, err
		}
		count(list)
		if len(list) < s.cfg.PlanChunk {
			return p, nil
		}
		cursor = list[len(list)-1].id
	}
}

package feedback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// WeChatWindow is how long after a customer's last WeChat message the
// official account may send them customer-service messages.
const WeChatWindow = 48 * time.Hour

// maxReply is the longest reply or note, in characters.
const maxReply = 2000

// Reachability is what choosing a reply channel depends on.
type Reachability struct {
	// Requested is the channel staff asked for ("" to choose).
	Requested channels.Name
	// LastUsed is the channel the customer last wrote on.
	LastUsed channels.Name
	// LastWeChat is when the customer last wrote on WeChat (zero: never).
	LastWeChat time.Time
	Now        time.Time
	// Address fields the customer has.
	HasOpenID, HasPhone, HasEmail bool
	// Configured channels that send replies; SMSTemplate says SMS replies
	// have an approved template.
	Configured  map[channels.Name]bool
	SMSTemplate bool
}

// Why a channel cannot carry a reply now, as codes a page translates
// (Reachability.Blocked, ChannelOption.Blocked).
const (
	BlockedNotConfigured = "not_configured"
	BlockedNoOpenID      = "no_openid"
	BlockedWeChatWindow  = "wechat_window"
	BlockedNoPhone       = "no_phone"
	BlockedNoSMSTemplate = "no_sms_template"
	BlockedNoEmail       = "no_email"
	BlockedNoReplies     = "no_replies"
)

// Blocked says why ch cannot carry a reply now (a Blocked* code), or ""
// when it can.
func (r Reachability) Blocked(ch channels.Name) string {
	if !r.Configured[ch] {
		return BlockedNotConfigured
	}
	switch ch {
	case channels.WeChat:
		if !r.HasOpenID {
			return BlockedNoOpenID
		}
		if r.LastWeChat.IsZero() || r.Now.Sub(r.LastWeChat) > WeChatWindow {
			return BlockedWeChatWindow
		}
	case channels.SMS:
		if !r.HasPhone {
			return BlockedNoPhone
		}
		if !r.SMSTemplate {
			return BlockedNoSMSTemplate
		}
	case channels.Email:
		if !r.HasEmail {
			return BlockedNoEmail
		}
	case channels.Devbox:
	default:
		return BlockedNoReplies
	}
	return ""
}

// blockedWhy is each code in the English the API's reasons use.
var blockedWhy = map[string]string{
	BlockedNotConfigured: "%s is not configured for replies",
	BlockedNoOpenID:      "the customer has no WeChat openid",
	BlockedWeChatWindow:  "outside WeChat's 48-hour customer-service window",
	BlockedNoPhone:       "the customer has no mobile number",
	BlockedNoSMSTemplate: "no SMS reply template is configured",
	BlockedNoEmail:       "the customer has no email address",
	BlockedNoReplies:     "%s cannot carry replies",
}

// usable says whether ch can carry a reply now, and if not why.
func (r Reachability) usable(ch channels.Name) (bool, string) {
	code := r.Blocked(ch)
	if code == "" {
		return true, ""
	}
	why := blockedWhy[code]
	if strings.Contains(why, "%s") {
		why = fmt.Sprintf(why, ch)
	}
	return false, why
}

// ChooseChannel picks the channel a reply goes out on and says why: the
// one staff asked for if it can carry it; else the channel the customer
// last used if it can; else WeChat (inside the 48-hour window), SMS, email,
// then the devbox (embedded mode), in that order.
func ChooseChannel(r Reachability) (channels.Name, string, error) {
	if r.Requested != "" {
		if ok, why := r.usable(r.Requested); !ok {
			return "", "", handover.Errorf(handover.EINVALID, "Cannot reply by %s: %s.", r.Requested, why)
		}
		return r.Requested, "chosen by staff", nil
	}
	var skipped []string
	if r.LastUsed != "" && r.LastUsed != channels.Portal {
		ok, why := r.usable(r.LastUsed)
		if ok {
			return r.LastUsed, "the channel the customer last used", nil
		}
		skipped = append(skipped, why)
	}
	for _, ch := range []channels.Name{channels.WeChat, channels.SMS, channels.Email, channels.Devbox} {
		if ch == r.LastUsed {
			continue
		}
		ok, why := r.usable(ch)
		if ok {
			reason := "first reachable channel"
			if len(skipped) > 0 {
				reason += " (" + strings.Join(skipped, "; ") + ")"
			}
			return ch, reason, nil
		}
		if r.Configured[ch] {
			skipped = append(skipped, why)
		}
	}
	return "", "", handover.Errorf(handover.EINVALID, "The customer cannot be reached by any configured channel.")
}

// Reply sends staff's text to the ticket's customer, or to the unknown
// sender of an unmatched ticket at the address they wrote from, and
// records it with its delivery status and the reason its channel was
// chosen (see ChooseChannel; channel "" chooses). The first reply stops
// the first-response clock; the ticket then waits for the customer
// (pending), and an unassigned ticket becomes the replier's. A failed
// send is recorded and returned as the message's status, not as an
// error.
func (s *Service) Reply(ctx context.Context, ticketID, staffID, text string, channel channels.Name) (*Message, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > maxReply {
		return nil, handover.Errorf(handover.EINVALID, "A reply needs text of at most %d characters.", maxReply)
	}
	t, err := s.FindTicketByID(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if t.Status == StatusMerged {
		return nil, handover.Errorf(handover.EINVALID, "This ticket was merged into %s; reply there.", t.MergedInto)
	}
	rcp, err := s.recipientOf(ctx, t)
	if err != nil {
		return nil, err
	}
	reach, err := s.reachabilityOf(ctx, t, rcp, channel)
	if err != nil {
		return nil, err
	}
	ch, reason, err := ChooseChannel(reach)
	if err != nil {
		return nil, err
	}
	c := rcp.customer
	if c == nil {
		c = &customers.Customer{}
	}
	return s.deliverTo(ctx, t, rcp, ch, reason, expand(text, c, t), staffID)
}

// recipient is who a reply goes to: the ticket's customer, or the unknown
// sender of an unmatched ticket (customer nil).
type recipient struct {
	customer *customers.Customer
	to       channels.Address
	rc       replyContext
}

func customerAddress(c *customers.Customer) channels.Address {
	return channels.Address{Phone: c.Phone, Email: c.Email, OpenID: c.WeChatOpenID}
}

// recipientOf finds who a reply to t reaches. An unmatched ticket that
// kept no sender address (it came before addresses were kept) has none.
func (s *Service) recipientOf(ctx context.Context, t *Ticket) (recipient, error) {
	rc, err := s.loadReplyContext(ctx, s.db, t.ID, t.CustomerID)
	if err != nil {
		return recipient{}, err
	}
	if t.CustomerID == "" {
		if rc.From == (channels.Address{}) {
			return recipient{}, handover.Errorf(handover.EINVALID, "The sender's address of this ticket is not known; link it to a customer before replying.")
		}
		return recipient{to: rc.From, rc: rc}, nil
	}
	c, err := s.cfg.Customers.FindCustomerByID(ctx, t.CustomerID)
	if err != nil {
		return recipient{}, err
	}
	return recipient{customer: c, to: customerAddress(c), rc: rc}, nil
}

// reachabilityOf is reachability for a customer, or for an unknown sender
// from the address they wrote from and their last WeChat message on the
// ticket.
func (s *Service) reachabilityOf(ctx context.Context, t *Ticket, rcp recipient, requested channels.Name) (Reachability, error) {
	if rcp.customer != nil {
		return s.reachability(ctx, rcp.customer, t.Channel, requested)
	}
	r := s.baseReachability(t.Channel, requested)
	r.HasOpenID, r.HasPhone, r.HasEmail = rcp.to.OpenID != "", rcp.to.Phone != "", rcp.to.Email != ""
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM ticket_messages WHERE ticket_id = $1 AND direction = 'in' AND channel = 'wechat'
		ORDER BY created_at DESC LIMIT 1`, t.ID).Scan(&r.LastWeChat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("last wechat message: %w", err)
	}
	return r, nil
}

func (s *Service) baseReachability(lastUsed, requested channels.Name) Reachability {
	r := Reachability{Requested: requested, LastUsed: lastUsed, Now: s.db.Now(), Configured: map[channels.Name]bool{},
		SMSTemplate: s.cfg.SMSReplyTemplate != ""}
	for name, ch := range s.cfg.Channels {
		r.Configured[name] = ch.Capabilities().Replies
	}
	return r
}

func (s *Service) reachability(ctx context.Context, c *customers.Customer, lastUsed, requested channels.Name) (Reachability, error) {
	r := s.baseReachability(lastUsed, requested)
	r.HasOpenID, r.HasPhone, r.HasEmail = c.WeChatOpenID != "", c.Phone != "", c.Email != ""
	err := s.db.QueryRowContext(ctx, `SELECT m.created_at FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
		WHERE t.customer_id = $1 AND m.direction = 'in' AND m.channel = 'wechat' ORDER BY m.created_at DESC LIMIT 1`, c.ID).Scan(&r.LastWeChat)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("last wechat message: %w", err)
	}
	return r, nil
}

// deliver sends text to the ticket's customer c (see deliverTo).
func (s *Service) deliver(ctx context.Context, t *Ticket, c *customers.Customer, ch channels.Name, reason, text, authorID string) (*Message, error) {
	rc, err := s.loadReplyContext(ctx, s.db, t.ID, c.ID)
	if err != nil {
		return nil, err
	}
	return s.deliverTo(ctx, t, recipient{customer: c, to: customerAddress(c), rc: rc}, ch, reason, text, authorID)
}

// deliverTo records an outbound message as sending, sends it, and records
// the outcome. authorID "" is the system (an opt-out confirmation). An
// email threads under the customer's last email on the ticket.
func (s *Service) deliverTo(ctx context.Context, t *Ticket, rcp recipient, ch channels.Name, reason, text, authorID string) (*Message, error) {
	m := &Message{ID: ulid.Make().String(), TicketID: t.ID, Direction: DirectionOut, Channel: ch, Text: text,
		DeliveryStatus: channels.StatusSending, ChannelReason: reason, AuthorID: authorID}
	actor := "system"
	if authorID != "" {
		actor = "staff:" + authorID
	}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		m.CreatedAt = tx.Now
		if err := s.insertOwn(ctx, tx, m); err != nil {
			return err
		}
		if authorID != "" {
			// The first response stops its clock; the ticket now waits
			// for the customer. An unassigned ticket becomes the
			// replier's.
			_, err := tx.ExecContext(ctx, `UPDATE tickets SET first_response_at = COALESCE(first_response_at, $1),
				sla_due = CASE WHEN status IN ('new', 'open', 'pending') THEN resolution_due ELSE sla_due END,
				status = CASE WHEN status IN ('new', 'open') THEN 'pending' ELSE status END,
				assignee_id = CASE WHEN assignee_id = '' THEN $3 ELSE assignee_id END, updated_at = $1 WHERE id = $2`, tx.Now, t.ID, authorID)
			if err != nil {
				return fmt.Errorf("reply: %w", err)
			}
			if t.AssigneeID == "" {
				if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.update", ObjectType: "ticket", ObjectID: t.ID,
					Detail: "assignee=" + authorID + " by=reply"}); err != nil {
					return err
				}
			}
		}
		detail := "channel=" + string(ch) + " message=" + m.ID
		if rcp.customer == nil {
			detail += " to=unmatched_sender"
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.reply", ObjectType: "ticket", ObjectID: t.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	msg := channels.Message{DeliveryID: m.ID, Kind: channels.Reply, Text: text, To: rcp.to}
	if rcp.customer != nil {
		msg.CustomerID = rcp.customer.ID
	}
	switch ch {
	case channels.Email:
		msg.Subject = replySubject(t.ID, rcp.rc.EmailSubject)
		if id := rcp.rc.EmailMessageID; id != "" {
			msg.InReplyTo, msg.References = id, []string{id}
		}
	case channels.SMS:
		msg.Template = &channels.Template{TemplateCode: s.cfg.SMSReplyTemplate, Params: map[string]string{"content": text}}
	}
	res := s.cfg.Channels[ch].Send(ctx, []channels.Message{msg})
	m.DeliveryStatus, m.ProviderMessageID = channels.StatusSent, res[0].ProviderID
	if res[0].Err != nil {
		m.DeliveryStatus, m.DeliveryError = channels.StatusFailed, clip(res[0].Err.Error(), 200)
		s.log.Warn("ticket reply failed", "ticket_id", t.ID, "message_id", m.ID, "channel", string(ch), "class", string(channels.Classify(res[0].Err)))
	}
	// A receipt may already have moved the status on; keep it.
	_, err = s.db.ExecContext(ctx, `UPDATE ticket_messages SET delivery_status = $1, delivery_error = $2, provider_message_id = $3
		WHERE id = $4 AND delivery_status = 'sending'`, m.DeliveryStatus, m.DeliveryError, m.ProviderMessageID, m.ID)
	if err != nil {
		return nil, fmt.Errorf("record reply: %w", err)
	}
	s.publish(ctx, TicketEvent{Type: "reply", TicketID: t.ID, Actor: actor})
	return m, nil
}

// insertOwn stores a reply or note written here, sealed with the
// customer's key (or an envelope on an unmatched ticket).
func (s *Service) insertOwn(ctx context.Context, tx *database.Tx, m *Message) error {
	var customerID string
	if err := tx.QueryRowContext(ctx, `SELECT customer_id FROM tickets WHERE id = $1`, m.TicketID).Scan(&customerID); err != nil {
		return fmt.Errorf("store message: %w", database.MapError(err))
	}
	keys, err := s.cfg.Vault.CustomerKeys(ctx, tx, []string{customerID})
	if err != nil {
		return err
	}
	env, err := s.sealText(keys[customerID], m.ID, m.Text)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO ticket_messages (id, ticket_id, direction, channel, key_id, key_wrapped, text_enc,
		delivery_status, channel_reason, author_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		m.ID, m.TicketID, m.Direction, string(m.Channel), env.KeyID, env.Wrapped, env.Sealed, m.DeliveryStatus, m.ChannelReason, m.AuthorID, tx.Now)
	if err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	return nil
}

// confirmOptOut answers an opt-out on the channel it came by, saying what
// stopped, what still comes and how to change it (OptOutConfirmation):
// WeChat (inside its window: they just wrote), email, the devbox, and SMS
// when a reply template is configured. A failure is logged, not retried:
// the opt-out itself is already recorded.
func (s *Service) confirmOptOut(ctx context.Context, ticketID string, ev channels.InboundEvent) {
	if s.cfg.Channels[ev.Channel] == nil || ev.Channel == channels.SMS && s.cfg.SMSReplyTemplate == "" {
		return
	}
	t, err := s.FindTicketByID(ctx, ticketID)
	if err == nil {
		var c *customers.Customer
		if c, err = s.cfg.Customers.FindCustomerByID(ctx, ev.CustomerID); err == nil {
			_, err = s.deliver(ctx, t, c, ev.Channel, "opt-out confirmation on the channel opted out of",
				OptOutConfirmation(ev.Channel, c.Locale), "")
		}
	}
	if err != nil {
		s.log.Warn("opt-out confirmation not sent", "ticket_id", ticketID, "err", err)
	}
}

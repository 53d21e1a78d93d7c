package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/templates"
)

// maxAttempts is how many times a delivery is tried on transient errors
// before it is failed.
const maxAttempts = 8

type claimed struct {
	id, customer, templateID string
	ch                       channels.Name
	version, attempts        int
	updated                  time.Time // the last try's record
}

// outcome is what happened to one claimed row.
type outcome struct {
	status                       channels.DeliveryStatus
	reason                       SkipReason
	providerID, errMsg, linkHash string
	retry                        bool          // back to queued
	rateLimited                  bool          // back to queued without using an attempt
	retryAfter                   time.Duration // when rate limited
	fallback                     bool          // permanent failure: try the next channel
	// next is the channel a fallback goes to, with its template and batch.
	next         channels.Name
	nextTemplate string
	nextVersion  int
	nextBatch    int
}

// HandleSendBatch sends one batch task's deliveries. It takes the batch's
// lease (claim), so two workers never send the same rows at once, and
// gives it back when it records the outcomes; a worker that dies keeps it
// until it expires and the reconciler hands the batch to a new task.
// Transient failures stay queued and the task is retried with backoff;
// rates are kept by pacing in the worker (pace.go), and rows a rate or
// the provider holds longer than that stay queued while the task waits
// (queue.RateLimitError); permanent ones fall back to the next channel or
// fail.
func (s *Service) HandleSendBatch(ctx context.Context, t *asynq.Task) error {
	var p batchPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
	}
	c, err := s.FindCampaignByID(ctx, p.Campaign)
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if c.Status != StatusRunning {
		return nil // paused: Resume enqueues again; cancelled: rows are suppressed
	}
	if until := c.holdUntil(s.db.Now(), p.Zone); !until.IsZero() {
		// Quiet hours: the task waits in Asynq's retry set (not counted as
		// a failure) until the window ends; the reconciler sees its TaskID
		// and leaves the batch alone.
		return queue.RateLimitError{RetryIn: until.Sub(s.db.Now())}
	}
	l, rows, err := s.claim(ctx, p.Campaign, p.Batch)
	if err != nil || l == nil {
		return err // nil lease: another worker holds the batch
	}
	stop := s.heartbeat(ctx, l)
	defer stop()
	if len(rows) == 0 {
		s.release(ctx, l)
		return s.completeIfDone(ctx, p.Campaign)
	}
	ttl, err := s.linkTTL(ctx, c.ID)
	if err != nil {
		s.release(ctx, l)
		return err
	}
	outcomes, purposes := s.send(s.paceContext(ctx), c, p.Batch, rows)
	if err := s.recordRetried(ctx, c, l, linkBinding{purposes, ttl}, rows, outcomes); err != nil {
		// The database was out for longer than the lease: what went out
		// is not recorded, the lease expires as a dead worker's would,
		// and the batch is taken over with those rows' outcomes unknown.
		return err
	}
	if err := s.enqueueFallbacks(ctx, c.ID, p.Zone, outcomes); err != nil {
		return err
	}
	s.logBatch(c.ID, p, outcomes)
	var transient, limited bool
	var wait time.Duration
	for _, o := range outcomes {
		transient = transient || o.retry
		if o.rateLimited {
			limited, wait = true, max(wait, o.retryAfter)
		}
	}
	switch {
	case transient:
		return errors.New("campaign batch: transient send failures; retrying")
	case limited:
		return queue.RateLimitError{RetryIn: max(wait, time.Second)}
	}
	return s.completeIfDone(ctx, p.Campaign)
}

// claim takes the batch's lease (claimLease), unless another worker holds
// it (nil lease), and reads the batch's queued rows: one upsert and one
// index range read, however many rows the batch has. A takeover counts the
// rows it finds as suspect: the worker before may have sent them.
func (s *Service) claim(ctx context.Context, campaignID string, batch int) (*batchLease, []claimed, error) {
	l, err := s.claimLease(ctx, campaignID, batch)
	if err != nil || l == nil {
		return nil, nil, err
	}
	out, err := s.queuedRows(ctx, campaignID, batch)
	if err != nil {
		s.release(ctx, l)
		return nil, nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if l.takeover && len(out) > 0 {
		if err := s.markSuspect(ctx, l, len(out)); err != nil {
			s.release(ctx, l)
			return nil, nil, err
		}
	}
	return l, out, nil
}

// queuedRows reads a batch's queued deliveries.
func (s *Service) queuedRows(ctx context.Context, campaignID string, batch int) ([]claimed, error) {
	return database.QueryAll(ctx, s.db, func(row database.Scanner) (claimed, error) {
		var d claimed
		err := row.Scan(&d.id, &d.customer, &d.ch, &d.templateID, &d.version, &d.attempts, &d.updated)
		return d, err
	}, `SELECT id, customer_id, channel, template_id, template_version, attempts, updated_at
		FROM deliveries WHERE campaign_id = $1 AND batch = $2 AND status = 'queued'`, campaignID, int64(batch))
}

// send renders and sends the claimed rows; outcomes are in row order. It
// also returns the transfer's purposes, which the links sent are bound to.
func (s *Service) send(ctx context.Context, c *Campaign, batch int, rows []claimed) ([]outcome, []string) {
	out := make([]outcome, len(rows))
	custs := make([]*customers.Customer, len(rows))
	transfer, err := s.transfers.FindTransferByID(ctx, c.TransferID)
	if err != nil {
		for i := range out {
			out[i] = outcome{retry: true, errMsg: "transfer could not be loaded"}
		}
		return out, nil
	}
	custByID, bulkErr := s.cfg.Customers.FindCustomersByIDs(ctx, customerIDs(rows))
	versions := map[string]*templates.Version{}
	byChannel := map[channels.Name][]int{}
	msgs := make([]channels.Message, len(rows))
	for i, d := range rows {
		key := d.templateID + "/" + strconv.Itoa(d.version)
		v := versions[key]
		if v == nil {
			if v, err = s.cfg.Templates.FindTemplateVersion(ctx, d.templateID, d.version); err != nil {
				// Only a version that is truly gone fails the row: a
				// database outage or a stopped worker (its context
				// cancelled) leaves it to be tried again.
				if handover.ErrorCode(err) == handover.ENOTFOUND {
					out[i] = outcome{status: channels.StatusFailed, errMsg: "template version not found"}
				} else {
					out[i] = outcome{retry: true, errMsg: "template version could not be loaded"}
				}
				continue
			}
			versions[key] = v
		}
		var cust *customers.Customer
		if bulkErr == nil {
			cust = custByID[d.customer]
			err = nil
			if cust == nil {
				err = handover.Errorf(handover.ENOTFOUND, "Customer not found.")
			}
		} else {
			// One customer that cannot be opened must not hold up the
			// rest: load them one by one.
			cust, err = s.cfg.Customers.FindCustomerByID(ctx, d.customer)
		}
		if handover.ErrorCode(err) == handover.ENOTFOUND {
			out[i] = outcome{status: channels.StatusSuppressed, reason: ReasonErased}
			continue
		} else if err != nil {
			out[i] = outcome{retry: true, errMsg: "customer could not be loaded"}
			continue
		}
		custs[i] = cust
		if cust.Status != customers.StatusActive && (cust.Status != customers.StatusOptedOut || OptOutKind(c.Kind) != "") {
			out[i] = outcome{status: channels.StatusSuppressed, reason: SkipReason(cust.Status)}
			continue
		}
		link, hash, err := s.newLink()
		if err != nil {
			out[i] = outcome{retry: true, errMsg: "link could not be made"}
			continue
		}
		r, err := s.cfg.Templates.Render(ctx, *v, templates.NewData(cust, transfer, link, "", v.Locale))
		if err != nil {
			out[i] = outcome{status: channels.StatusFailed, errMsg: "render: " + handover.ErrorMessage(err)}
			continue
		}
		msgs[i] = channels.Message{DeliveryID: d.id, CustomerID: d.customer, Kind: channels.Notice,
			To:      channels.Address{Phone: cust.Phone, Email: cust.Email, OpenID: cust.WeChatOpenID},
			Subject: r.Subject, Text: r.Text, HTML: r.HTML, Link: link, UnsubscribeURL: link + "/unsubscribe", Template: r.Provider}
		out[i].linkHash = hash
		byChannel[d.ch] = append(byChannel[d.ch], i)
	}
	byChannel = s.checkRetried(ctx, rows, msgs, out, byChannel)
	for ch, idxs := range byChannel {
		channel := s.cfg.Channels[ch]
		if l, ok := channel.(*channels.Logged); ok {
			channel = l.Unwrap() // deliveries are the log: LatestSent
		}
		if channel == nil {
			for _, i := range idxs {
				out[i] = outcome{status: channels.StatusFailed, errMsg: "channel " + string(ch) + " is not configured"}
			}
			continue
		}
		s.sendPaced(ctx, c, ch, channel, idxs, msgs, rows, out)
	}
	for i := range out {
		if out[i].fallback {
			s.fallBack(ctx, c, batch, rows[i].ch, custs[i], &out[i])
		}
	}
	s.metrics.count(rows, out)
	return out, transfer.Purposes
}

func customerIDs(rows []claimed) []string {
	ids := make([]string, len(rows))
	for i, d := range rows {
		ids[i] = d.customer
	}
	return ids
}

// fallBack points a permanently failed row at the next channel of the
// campaign's order that can reach the customer, or fails it.
func (s *Service) fallBack(ctx context.Context, c *Campaign, batch int, from channels.Name, cust *customers.Customer, o *outcome) {
	o.fallback, o.status = false, channels.StatusFailed
	after := false
	for k, ch := range c.Channels {
		if ch == from {
			after = true
			continue
		}
		if !after || cust == nil || !canReach(ch, cust) || s.cfg.Channels[ch] == nil {
			continue
		}
		t, err := s.cfg.Templates.FindTemplateByID(ctx, c.Templates[ch])
		if err != nil {
			continue
		}
		o.status, o.next, o.nextTemplate, o.nextVersion, o.nextBatch = channels.StatusQueued, ch, t.ID, t.Version, fallbackBatch(batch, k)
		return
	}
}

func canReach(ch channels.Name, c *customers.Customer) bool {
	r := recipient{phone: c.Phone != "", email: c.Email != "", openid: c.WeChatOpenID != ""}
	return r.reachable(ch)
}

// fallbackBatch numbers the batch of rows of batch b falling back to the
// campaign's channel k: the plan's batch in the low 40 bits, k above, so
// it is the same for every row of b going to k and never a plan's number.
func fallbackBatch(b, k int) int {
	return b&(1<<40-1) | k<<40
}

// enqueueFallbacks enqueues the batches rows fell back to; they keep the
// time zone of the batch they came from. A batch whose task is running
// already leaves its new rows to the reconciler.
func (s *Service) enqueueFallbacks(ctx context.Context, id, zone string, outs []outcome) error {
	done := map[int]bool{}
	for _, o := range outs {
		if o.next == "" || done[o.nextBatch] {
			continue
		}
		done[o.nextBatch] = true
		task, opts := NewSendBatchTask(id, o.nextBatch, o.next, zone)
		if _, err := s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue fallback batch: %w", err)
		}
	}
	return nil
}

func classify(r channels.Result, linkHash string, attempts int) outcome {
	if r.Err == nil {
		return outcome{status: channels.StatusSent, providerID: r.ProviderID, linkHash: linkHash}
	}
	// A *SendError's text never holds personal data; another error's might.
	msg := "send failed"
	var se *channels.SendError
	if errors.As(r.Err, &se) {
		msg = se.Error()
	}
	switch channels.Classify(r.Err) {
	case channels.RateLimited:
		var wait time.Duration
		if se != nil {
			wait = se.RetryAfter
		}
		return outcome{rateLimited: true, errMsg: msg, retryAfter: wait}
	case channels.Transient:
		if attempts >= maxAttempts {
			return outcome{status: channels.StatusFailed, errMsg: msg}
		}
		// The link goes with it: the answer may have been lost after
		// the provider took the message (record stores it).
		return outcome{retry: true, errMsg: msg, linkHash: linkHash}
	default: // Permanent, RecipientInvalid: the next channel, else failed
		return outcome{fallback: true, errMsg: msg}
	}
}

// newLink makes the customer's personal link: a random token (links
// package) whose SHA-256 is stored in the links table once the message is
// sent (record).
func (s *Service) newLink() (link, hash string, err error) {
	token, hash, err := links.NewToken()
	if err != nil {
		return "", "", err
	}
	return s.cfg.PublicURL + "/l/" + token, hash, nil
}

// linkBinding is what a batch's sent links are bound to besides their
// delivery: the transfer's purposes, and how long they live.
type linkBinding struct {
	purposes []string
	ttl      time.Duration
}

// sentLinks are the links rows of the sent outcomes: bound to the
// delivery, the campaign, its transfer and all the transfer's purposes.
func sentLinks(c *Campaign, lb linkBinding, rows []claimed, outs []outcome, sent []int, now time.Time) []links.Link {
	out := make([]links.Link, 0, len(sent))
	for _, i := range sent {
		if outs[i].linkHash == "" {
			continue
		}
		out = append(out, links.Link{ID: ulid.Make().String(), TokenHash: outs[i].linkHash, CustomerID: rows[i].customer,
			DeliveryID: rows[i].id, CampaignID: c.ID, TransferID: c.TransferID, Purposes: lb.purposes,
			ExpiresAt: now.Add(lb.ttl), CreatedBy: "campaign:" + c.ID})
	}
	return out
}

// record writes every outcome in one transaction and few statements and
// gives the batch's lease back: the sent rows (each with its own provider
// id) through recordSent, the others grouped by what they set and updated
// by id lists, and the sent links inserted. Unsent rows change only while
// still queued, so a cancel or an opt-out in between is not undone; a sent
// row is recorded sent even if it was suppressed meanwhile (it did go out),
// and its link is stored, since the customer has it. attempts counts the
// rows' tries: every outcome but a rate-limit wait or a skip is one.
func (s *Service) record(ctx context.Context, c *Campaign, l *batchLease, lb linkBinding, rows []claimed, outs []outcome) error {
	type group struct {
		status channels.DeliveryStatus
		reason SkipReason
		errMsg string
		retry  bool
	}
	var sent, moved, tried []int
	groups := map[group][]string{}
	var order []group
	for i, o := range outs {
		var g group
		switch {
		case o.rateLimited:
			continue // still queued, nothing tried
		case o.retry:
			g = group{retry: true, errMsg: o.errMsg}
			if o.linkHash != "" {
				tried = append(tried, i)
			}
		case o.next != "":
			moved = append(moved, i)
			continue
		case o.status == channels.StatusSent:
			sent = append(sent, i)
			continue
		default:
			g = group{status: o.status, reason: o.reason, errMsg: o.errMsg}
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], rows[i].id)
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		nSent, err := recordSent(ctx, tx, rows, outs, sent)
		if err != nil {
			return fmt.Errorf("record sent deliveries: %w", err)
		}
		var nFailed int64
		// Links of tried rows too: a message whose answer was lost may
		// have reached the customer with its link.
		if err := links.InsertTx(ctx, tx, sentLinks(c, lb, rows, outs, append(sent, tried...), tx.Now)); err != nil {
			return fmt.Errorf("record sent links: %w", err)
		}
		for _, g := range order {
			ids := groups[g]
			for start := 0; start < len(ids); start += recordChunk {
				part := ids[start:min(start+recordChunk, len(ids))]
				var query string
				var args []any
				switch {
				case g.retry:
					query, args = `UPDATE deliveries SET error = $2, attempts = attempts + 1, updated_at = $1`, []any{tx.Now, g.errMsg}
				default:
					attempt := "attempts + 1"
					if g.status == channels.StatusSuppressed {
						attempt = "attempts"
					}
					query, args = `UPDATE deliveries SET status = $2, skip_reason = $3, error = $4, attempts = `+attempt+`, updated_at = $1`,
						[]any{tx.Now, g.status, g.reason, g.errMsg}
				}
				in, args := database.In(args, part)
				res, err := tx.ExecContext(ctx, query+` WHERE status = 'queued' AND id IN `+in, args...)
				if err != nil {
					return fmt.Errorf("record deliveries: %w", err)
				}
				if g.status == channels.StatusFailed {
					nFailed += rowsAffected(res)
				}
			}
		}
		for _, i := range moved {
			o := outs[i]
			_, err := tx.ExecContext(ctx, `UPDATE deliveries SET channel = $1, template_id = $2, template_version = $3,
				batch = $4, attempts = 0, error = $5, updated_at = $6 WHERE id = $7 AND status = 'queued'`,
				string(o.next), o.nextTemplate, int64(o.nextVersion), int64(o.nextBatch), o.errMsg, tx.Now, rows[i].id)
			if err != nil {
				return fmt.Errorf("record delivery: %w", err)
			}
		}
		// The lease back if it is still ours, and the batch's share of the
		// campaign's progress.
		_, err = tx.ExecContext(ctx, `UPDATE campaign_batches SET lease_until = CASE WHEN lease_owner = $5 THEN NULL ELSE lease_until END,
			sent = sent + $1, failed = failed + $2 WHERE campaign_id = $3 AND batch = $4`, nSent, nFailed, c.ID, int64(l.batch), l.owner)
		return err
	})
}

// sentSet is what recording a sent row sets. A receipt may have come
// first: its status stays.
const sentSet = `status = CASE WHEN deliveries.status IN ('queued', 'suppressed') THEN 'sent' ELSE deliveries.status END,
	skip_reason = '', provider_id = %s, attempts = deliveries.attempts + 1,
	error = CASE WHEN deliveries.status IN ('queued', 'suppressed') THEN '' ELSE deliveries.error END,
	sent_at = %s, updated_at = %[2]s`

// sentWhere is which rows recording a sent row may change: those still
// queued or suppressed while in flight, and those a receipt reached before
// their provider id was known.
const sentWhere = `(deliveries.status IN ('queued', 'suppressed') OR (deliveries.status IN ('delivered', 'failed', 'bounced') AND deliveries.provider_id = ''))`

// recordSent stores the sent rows' provider ids. On SQLite one prepared
// single-row UPDATE with positional parameters is run per row (binding a
// statement of hundreds of named parameters costs more than the rows); on
// PostgreSQL one UPDATE joins the arrays of ids and provider ids (a
// VALUES list of hundreds of rows was planned as a scan of every row of
// the table, and each length was a statement of its own).
func recordSent(ctx context.Context, tx *database.Tx, rows []claimed, outs []outcome, sent []int) (n int64, err error) {
	if tx.Dialect() == database.SQLite {
		stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET `+fmt.Sprintf(sentSet, "?1", "?2")+` WHERE id = ?3 AND `+sentWhere)
		if err != nil {
			return 0, err
		}
		defer stmt.Close()
		for _, i := range sent {
			res, err := stmt.ExecContext(ctx, outs[i].providerID, tx.Now, rows[i].id)
			if err != nil {
				return 0, err
			}
			n += rowsAffected(res)
		}
		return n, nil
	}
	// One statement text whatever the count (prepared once per
	// connection), and a join the planner runs as index probes.
	ids, providers := make([]string, len(sent)), make([]string, len(sent))
	for j, i := range sent {
		ids[j], providers[j] = rows[i].id, outs[i].providerID
	}
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET `+fmt.Sprintf(sentSet, "v.provider_id", "$1")+`
		FROM unnest($2::text[], $3::text[]) AS v (id, provider_id) WHERE deliveries.id = v.id AND `+sentWhere, tx.Now, ids, providers)
	if err != nil {
		return 0, err
	}
	return rowsAffected(res), nil
}

func rowsAffected(res sql.Result) int64 {
	n, _ := res.RowsAffected()
	return n
}

// recordChunk is how many rows one statement of record updates.
const recordChunk = 500

// lastQueued finds a queued row of campaign (an SQL expression), if any,
// through deliveries_queued from the highest batch down. Sending empties
// batches from the lowest, and on PostgreSQL their rows' old versions stay
// in the indexes until vacuum: a scan from the lowest would walk all of
// them on every probe, and every batch probes.
func lastQueued(campaign string) string {
	return `SELECT 1 FROM deliveries d WHERE d.campaign_id = ` + campaign + ` AND d.status = 'queued' ORDER BY d.batch DESC LIMIT 1`
}

// completeIfDone marks a running campaign completed once no row is left to
// send. It runs after every batch, so the common answer (rows are left)
// costs one index probe and no write.
func (s *Service) completeIfDone(ctx context.Context, id string) error {
	var left int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE((`+lastQueued("$1")+`), (SELECT 1 FROM deliveries
		WHERE campaign_id = $1 AND status = 'planned' LIMIT 1), 0)`, id).Scan(&left)
	if err != nil || left == 1 {
		return err
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'completed', finished_at = $1, updated_at = $1
			WHERE id = $2 AND status = 'running' AND planned_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM deliveries
				WHERE campaign_id = $2 AND status IN ('planned', 'queued'))`, tx.Now, id)
		if err != nil {
			return err
		}
		if rowsAffected(res) == 1 {
			s.log.Info("campaign completed", "campaign_id", id)
		}
		return nil
	})
}

// logBatch logs what became of a batch's rows, by outcome: ids and
// counts only, so one campaign's story can be followed in the log.
func (s *Service) logBatch(campaignID string, p batchPayload, outs []outcome) {
	counts := map[string]int{}
	for _, o := range outs {
		counts[o.label()]++
	}
	args := []any{"campaign_id", campaignID, "batch", p.Batch, "channel", string(p.Channel), "rows", len(outs)}
	for _, label := range []string{"sent", "failed", "fallback", "suppressed", "retry", "rate_limited"} {
		if counts[label] > 0 {
			args = append(args, label, counts[label])
		}
	}
	s.log.Info("campaign batch sent", args...)
}

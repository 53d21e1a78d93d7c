package dashboard

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// An uploaded audience list is a CSV (or plain text, one a line) of
// customer ids, phone numbers or email addresses, in any column; a header
// row and empty cells are ignored.
const maxListBytes = 8 << 20

// listEntry is one cell of an uploaded list: what it names.
type listEntry struct {
	Kind  string // id | phone | email
	Value string // normalised
}

// listHeaders are header cells skipped without counting them as errors.
var listHeaders = map[string]bool{"id": true, "customer_id": true, "customer": true, "phone": true, "mobile": true,
	"email": true, "e-mail": true, "手机": true, "手机号": true, "电话": true, "邮箱": true, "客户": true, "客户编号": true}

// parseAudienceList reads an uploaded list. It returns the entries it
// understood, in order without repeats, and how many non-empty cells it
// could not read as any of them.
func parseAudienceList(r io.Reader) (entries []listEntry, bad int, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxListBytes+1))
	if err != nil {
		return nil, 0, err
	}
	if len(data) > maxListBytes {
		return nil, 0, handover.Errorf(handover.ETOOLARGE, "The list is larger than 8 MB.")
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	if !utf8.ValidString(text) {
		return nil, 0, handover.Errorf(handover.EINVALID, "The list must be UTF-8 text (CSV).")
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord, cr.LazyQuotes, cr.ReuseRecord = -1, true, true
	seen := map[listEntry]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, handover.Errorf(handover.EINVALID, "The list is not a readable CSV file.")
		}
		for _, cell := range rec {
			cell = strings.TrimSpace(cell)
			if cell == "" || listHeaders[strings.ToLower(cell)] {
				continue
			}
			e, ok := classifyListCell(cell)
			if !ok {
				bad++
				continue
			}
			if !seen[e] {
				seen[e] = true
				entries = append(entries, e)
				if len(entries) > campaigns.MaxAudienceCustomers {
					return nil, 0, handover.Errorf(handover.ETOOLARGE, "A list holds at most %d customers.", campaigns.MaxAudienceCustomers)
				}
			}
		}
	}
	return entries, bad, nil
}

// classifyListCell reads one cell as a customer id, an email address or a
// phone number.
func classifyListCell(cell string) (listEntry, bool) {
	if len(cell) == 26 {
		if id, err := ulid.ParseStrict(strings.ToUpper(cell)); err == nil {
			return listEntry{Kind: "id", Value: id.String()}, true
		}
	}
	if strings.Contains(cell, "@") {
		if e, err := customers.NormalizeEmail(cell); err == nil {
			return listEntry{Kind: "email", Value: e}, true
		}
		return listEntry{}, false
	}
	if p, err := customers.NormalizePhone(cell); err == nil {
		return listEntry{Kind: "phone", Value: p}, true
	}
	return listEntry{}, false
}

// listResult is an uploaded list resolved to customers.
type listResult struct {
	IDs      []string
	Entries  int // cells understood
	NotFound int // understood, but no customer has it
	Bad      int // not understood
}

// resolveAudienceList finds the customers an uploaded list names: ids
// that exist, phones and emails through the blind indexes.
func (s *Dashboard) resolveAudienceList(ctx context.Context, entries []listEntry, bad int) (listResult, error) {
	res := listResult{Entries: len(entries), Bad: bad}
	seen := map[string]bool{}
	var ids []string
	for _, e := range entries {
		var id string
		var err error
		switch e.Kind {
		case "id":
			ids = append(ids, e.Value)
			continue
		case "phone":
			id, err = s.customers.MatchContact(ctx, "", e.Value, "")
		case "email":
			id, err = s.customers.MatchContact(ctx, "", "", e.Value)
		}
		if err != nil {
			return res, err
		}
		if id == "" {
			res.NotFound++
		} else if !seen[id] {
			seen[id] = true
			res.IDs = append(res.IDs, id)
		}
	}
	found, err := s.existingCustomers(ctx, ids)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		if !found[id] {
			res.NotFound++
		} else if !seen[id] {
			seen[id] = true
			res.IDs = append(res.IDs, id)
		}
	}
	return res, nil
}

// existingCustomers reports which of ids are customers (erased ones too:
// planning skips them with a reason).
func (s *Dashboard) existingCustomers(ctx context.Context, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		marks := make([]string, len(part))
		args := make([]any, len(part))
		for i, id := range part {
			marks[i], args[i] = "$"+strconv.Itoa(i+1), id
		}
		list, err := database.QueryAll(ctx, s.db, database.ScanString, `SELECT id FROM customers WHERE id IN (`+strings.Join(marks, ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("audience list: %w", err)
		}
		for _, id := range list {
			found[id] = true
		}
	}
	return found, nil
}

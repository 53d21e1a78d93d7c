package templates

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// maxCached bounds the parsed versions kept; past it the cache starts over.
const maxCached = 4096

// Store keeps templates and renders them, parsing each version once.
type Store struct {
	db        *database.DB
	customers *customers.Store
	transfers *transfers.Store
	// portalURL is the server's public URL, which the default SMS
	// templates' approved links start with.
	portalURL string

	mu     sync.RWMutex
	parsed map[versionKey]*compiled
}

type versionKey struct {
	id     string
	number int
}

// NewStore returns a Store on db; customers and transfers are read for
// previews.
func NewStore(db *database.DB, cs *customers.Store, ts *transfers.Store) *Store {
	return &Store{db: db, customers: cs, transfers: ts, parsed: map[versionKey]*compiled{}, portalURL: samplePortal}
}

// SetPortalURL sets the server's public URL (HANDOVER_PUBLIC_URL), which
// the default SMS templates' approved links are written with. Call it
// before InstallDefaults.
func (s *Store) SetPortalURL(u string) {
	if u != "" {
		s.portalURL = strings.TrimRight(u, "/")
	}
}

// Update is a new version's content, and optionally the name.
type Update struct {
	Name    string // empty keeps the name
	Content Content
	// BaseVersion, when set, is the version the edit started from; the
	// update is a conflict if another edit came first.
	BaseVersion int
}

// CreateTemplate validates t and stores it as version 1, setting ID,
// Version, CreatedBy, timestamps and Warnings; it is audited.
func (s *Store) CreateTemplate(ctx context.Context, t *Template, actor string) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || utf8.RuneCountInString(t.Name) > maxName {
		return handover.Errorf(handover.EINVALID, "name is required, at most %d characters", maxName)
	}
	t.ID, t.Version, t.Archived = ulid.Make().String(), 1, false
	warnings, err := Validate(&Version{TemplateID: t.ID, Number: 1, Kind: t.Kind, Channel: t.Channel, Locale: t.Locale, Content: t.Content})
	if err != nil {
		return err
	}
	t.Warnings = warnings
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		_, err := s.insertTemplate(ctx, tx, t, actor)
		return err
	})
}

// insertTemplate inserts t and its first version. With a DefaultKey set it
// inserts nothing when that default exists already, and reports false.
func (s *Store) insertTemplate(ctx context.Context, tx *database.Tx, t *Template, actor string) (bool, error) {
	t.CreatedBy, t.CreatedAt, t.UpdatedAt = actor, tx.Now, tx.Now
	var defaultKey any
	if t.DefaultKey != "" {
		defaultKey = t.DefaultKey
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO templates (id, name, kind, channel, locale, version, default_key, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $8) ON CONFLICT DO NOTHING`,
		t.ID, t.Name, t.Kind, t.Channel, t.Locale, defaultKey, actor, tx.Now)
	if err != nil {
		return false, fmt.Errorf("create template: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if t.DefaultKey == "" {
			return false, handover.Errorf(handover.ECONFLICT, "This template already exists.")
		}
		return false, err
	}
	if err := insertVersion(ctx, tx, t.ID, 1, &t.Content, actor); err != nil {
		return false, err
	}
	return true, audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "template.create", ObjectType: "template", ObjectID: t.ID,
		Detail: fmt.Sprintf("kind=%s channel=%s locale=%s version=1", t.Kind, t.Channel, t.Locale)})
}

func insertVersion(ctx context.Context, tx *database.Tx, id string, number int, c *Content, actor string) error {
	params, _ := json.Marshal(nonNil(c.SMS.Params))
	fields, _ := json.Marshal(nonNil(c.WeChat.Fields))
	_, err := tx.ExecContext(ctx, `INSERT INTO template_versions (template_id, version, subject, body, html_body, sign_name,
		template_code, params, wechat_template_id, wechat_fields, subscribe, created_by, created_at, sms_type, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		id, number, c.Subject, c.Body, c.HTMLBody, c.SMS.SignName, c.SMS.TemplateCode, string(params),
		c.WeChat.TemplateID, string(fields), c.WeChat.Subscribe, actor, tx.Now, string(c.SMS.Type), c.Description)
	if err != nil {
		return fmt.Errorf("insert template version: %w", err)
	}
	return nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// UpdateTemplate stores upd as the template's next version and returns the
// template as it now is (with Warnings). An archived template cannot be
// edited.
func (s *Store) UpdateTemplate(ctx context.Context, id string, upd Update, actor string) (*Template, error) {
	t, err := s.FindTemplateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Archived {
		return nil, handover.Errorf(handover.ECONFLICT, "This template is archived; create a new one instead.")
	}
	if upd.Name = strings.TrimSpace(upd.Name); upd.Name != "" {
		if utf8.RuneCountInString(upd.Name) > maxName {
			return nil, handover.Errorf(handover.EINVALID, "name must be at most %d characters", maxName)
		}
		t.Name = upd.Name
	}
	t.Content = upd.Content
	if t.Warnings, err = Validate(&Version{TemplateID: t.ID, Kind: t.Kind, Channel: t.Channel, Locale: t.Locale, Content: t.Content}); err != nil {
		return nil, err
	}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE templates SET version = version + 1, name = $1, updated_at = $2
			WHERE id = $3 AND archived_at IS NULL AND ($4 = 0 OR version = $4) RETURNING version`,
			t.Name, tx.Now, id, upd.BaseVersion).Scan(&t.Version)
		if errors.Is(err, sql.ErrNoRows) {
			return handover.Errorf(handover.ECONFLICT, "The template changed since version %d (or was archived); reload it and edit again.", upd.BaseVersion)
		} else if err != nil {
			return fmt.Errorf("update template: %w", err)
		}
		t.UpdatedAt = tx.Now
		if err := insertVersion(ctx, tx, id, t.Version, &t.Content, actor); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "template.update", ObjectType: "template", ObjectID: id,
			Detail: fmt.Sprintf("version=%d", t.Version)})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// DeleteTemplate archives a template: it leaves the lists and cannot be
// edited, but its versions stay so deliveries that used them can still be
// explained.
func (s *Store) DeleteTemplate(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE templates SET archived_at = $1, updated_at = $1 WHERE id = $2 AND archived_at IS NULL`, tx.Now, id)
		if err != nil {
			return fmt.Errorf("archive template: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Template not found.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "template.archive", ObjectType: "template", ObjectID: id})
	})
}

const templateColumns = `t.id, t.name, t.kind, t.channel, t.locale, t.version, COALESCE(t.default_key, ''), t.archived_at IS NOT NULL,
	t.created_by, t.created_at, t.updated_at, v.subject, v.body, v.html_body, v.sign_name, v.template_code, v.params,
	v.wechat_template_id, v.wechat_fields, v.subscribe, v.sms_type, v.description`

func scanTemplate(row database.Scanner) (*Template, error) {
	var t Template
	var params, fields string
	err := row.Scan(&t.ID, &t.Name, &t.Kind, &t.Channel, &t.Locale, &t.Version, &t.DefaultKey, &t.Archived,
		&t.CreatedBy, &t.CreatedAt, &t.UpdatedAt, &t.Subject, &t.Body, &t.HTMLBody, &t.SMS.SignName, &t.SMS.TemplateCode,
		&params, &t.WeChat.TemplateID, &fields, &t.WeChat.Subscribe, &t.SMS.Type, &t.Description)
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if err := unmarshalMappings(params, fields, &t.Content); err != nil {
		return nil, err
	}
	return &t, nil
}

func unmarshalMappings(params, fields string, c *Content) error {
	if err := json.Unmarshal([]byte(params), &c.SMS.Params); err != nil {
		return fmt.Errorf("template params: %w", err)
	}
	if err := json.Unmarshal([]byte(fields), &c.WeChat.Fields); err != nil {
		return fmt.Errorf("template fields: %w", err)
	}
	if len(c.SMS.Params) == 0 {
		c.SMS.Params = nil
	}
	if len(c.WeChat.Fields) == 0 {
		c.WeChat.Fields = nil
	}
	return nil
}

// FindTemplateByID returns a template (archived ones too) with its latest
// version's content.
func (s *Store) FindTemplateByID(ctx context.Context, id string) (*Template, error) {
	t, err := scanTemplate(s.db.QueryRowContext(ctx, `SELECT `+templateColumns+` FROM templates t
		JOIN template_versions v ON v.template_id = t.id AND v.version = t.version WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Template not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find template: %w", err)
	}
	return t, nil
}

// Filter narrows FindTemplates; empty fields match everything.
type Filter struct {
	Kind            Kind
	Channel         channels.Name
	Locale          string
	IncludeArchived bool
}

// FindTemplates lists templates, latest versions, by kind, channel, locale
// and name.
func (s *Store) FindTemplates(ctx context.Context, f Filter) ([]*Template, error) {
	out, err := database.QueryAll(ctx, s.db, scanTemplate, `SELECT `+templateColumns+` FROM templates t
		JOIN template_versions v ON v.template_id = t.id AND v.version = t.version
		WHERE ($1 = '' OR t.kind = $1) AND ($2 = '' OR t.channel = $2) AND ($3 = '' OR t.locale = $3)
		AND ($4 OR t.archived_at IS NULL)
		ORDER BY t.kind, t.channel, t.locale, t.name, t.id`, string(f.Kind), string(f.Channel), f.Locale, f.IncludeArchived)
	if err != nil {
		return nil, fmt.Errorf("find templates: %w", err)
	}
	return out, nil
}

// FindTemplateVersion returns one version of a template: what a delivery
// that recorded (id, number) was rendered from.
func (s *Store) FindTemplateVersion(ctx context.Context, id string, number int) (*Version, error) {
	v := Version{TemplateID: id, Number: number}
	var params, fields string
	err := s.db.QueryRowContext(ctx, `SELECT t.kind, t.channel, t.locale, v.subject, v.body, v.html_body, v.sign_name,
		v.template_code, v.params, v.wechat_template_id, v.wechat_fields, v.subscribe, v.created_by, v.created_at, v.sms_type, v.description
		FROM template_versions v JOIN templates t ON t.id = v.template_id WHERE v.template_id = $1 AND v.version = $2`, id, number).Scan(
		&v.Kind, &v.Channel, &v.Locale, &v.Subject, &v.Body, &v.HTMLBody, &v.SMS.SignName, &v.SMS.TemplateCode, &params,
		&v.WeChat.TemplateID, &fields, &v.WeChat.Subscribe, &v.CreatedBy, &v.CreatedAt, &v.SMS.Type, &v.Description)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Template version not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find template version: %w", err)
	}
	v.CreatedAt = v.CreatedAt.UTC()
	if err := unmarshalMappings(params, fields, &v.Content); err != nil {
		return nil, err
	}
	return &v, nil
}

// Render renders a version for one recipient. Stored versions are parsed
// once and cached by id and number (versions never change). A variable the
// template prints that is empty in data is an EINVALID error naming it.
func (s *Store) Render(ctx context.Context, tmpl Version, data Data) (Rendered, error) {
	c, err := s.compiled(&tmpl)
	if err != nil {
		return Rendered{}, err
	}
	r, err := c.render(&data)
	if err != nil {
		return Rendered{}, err
	}
	return *r, nil
}

func (s *Store) compiled(v *Version) (*compiled, error) {
	if v.TemplateID == "" || v.Number == 0 {
		return compile(v)
	}
	key := versionKey{v.TemplateID, v.Number}
	s.mu.RLock()
	c := s.parsed[key]
	s.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	c, err := compile(v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.parsed) >= maxCached {
		s.parsed = map[versionKey]*compiled{}
	}
	s.parsed[key] = c
	s.mu.Unlock()
	return c, nil
}

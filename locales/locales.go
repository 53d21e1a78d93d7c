// Package locales is Handover's one message catalog: every text the
// dashboard, the portal and the domain's user-facing errors show, in
// zh-CN and en.
//
// The texts live in files translators edit, one pair per area
// (AREA.en.yaml, AREA.zh-CN.yaml), in go-i18n's format: a flat map of
// message id → text, or id → {other, one, description} where a text has
// plural forms or a note for the translator. Placeholders are the ones the
// caller formats with (%s, %d) unless the message is rendered with Format.
//
// A lookup of a plain text is a map read; go-i18n parses the files and
// renders the messages that take template data.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// The languages Handover speaks. Default is what a reader with no
// preference gets.
const (
	Chinese = "zh-CN"
	English = "en"
	Default = Chinese
)

// Languages lists the catalog's languages, the default first.
var Languages = []string{Chinese, English}

//go:embed *.yaml
var files embed.FS

// catalog is the parsed catalog: go-i18n's bundle and a plain map per
// language of every message's "other" form.
type catalog struct {
	bundle *i18n.Bundle
	texts  map[string]map[string]string
	// errorKeys finds an error's key by its English text (the format the
	// code passes to handover.Errorf).
	errorKeys map[string]string
}

var cat = mustLoad(files)

func mustLoad(fsys fs.FS) *catalog {
	c, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return c
}

func load(fsys fs.FS) (*catalog, error) {
	b := i18n.NewBundle(language.Chinese)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	c := &catalog{bundle: b, texts: map[string]map[string]string{}, errorKeys: map[string]string{}}
	for _, l := range Languages {
		c.texts[l] = map[string]string{}
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(buf, name)
		if err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
		lang := mf.Tag.String()
		texts, ok := c.texts[lang]
		if !ok {
			return nil, fmt.Errorf("locales: %s: language %q is not one of %v", name, lang, Languages)
		}
		for _, m := range mf.Messages {
			if _, dup := texts[m.ID]; dup {
				return nil, fmt.Errorf("locales: %s: message %q is defined twice", name, m.ID)
			}
			texts[m.ID] = m.Other
		}
	}
	for k, v := range c.texts[English] {
		if strings.HasPrefix(k, "errors.") && !strings.HasPrefix(k, "errors.code.") && !strings.HasPrefix(k, "errors.arg.") {
			// Two keys with one English text: either words it; keep
			// the first in order, so the choice never varies.
			if other, dup := c.errorKeys[v]; !dup || k < other {
				c.errorKeys[v] = k
			}
		}
	}
	return c, nil
}

// ErrorKey returns the key of the error whose English text is format, ""
// when the catalog has none.
func ErrorKey(format string) string { return cat.errorKeys[format] }

// Lang returns the catalog language for a requested one: en for any
// English tag, otherwise the default.
func Lang(requested string) string {
	if requested == English || strings.HasPrefix(strings.ToLower(requested), "en-") {
		return English
	}
	return Default
}

// T returns the text of key in lang, the key itself when the catalog has
// none, so a missing text shows rather than blanks.
func T(lang, key string) string {
	if t, ok := cat.texts[Lang(lang)][key]; ok {
		return t
	}
	return key
}

// Has reports whether the catalog holds key in lang.
func Has(lang, key string) bool {
	_, ok := cat.texts[Lang(lang)][key]
	return ok
}

// Format renders key in lang with go-i18n: data fills {{.Name}} fields,
// and count picks the plural form when non-nil.
func Format(lang, key string, data map[string]any, count any) string {
	l := i18n.NewLocalizer(cat.bundle, Lang(lang))
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: data, PluralCount: count})
	if err != nil {
		return key
	}
	return s
}

// Prefixed returns the texts of lang whose keys start with prefix, keyed
// without it: the portal's templates read their words from such a map.
func Prefixed(lang, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range cat.texts[Lang(lang)] {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// Keys returns every key of lang, sorted.
func Keys(lang string) []string {
	keys := make([]string, 0, len(cat.texts[Lang(lang)]))
	for k := range cat.texts[Lang(lang)] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

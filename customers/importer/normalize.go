package importer

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Limits of the fields only an import fills, in characters or tags.
const (
	maxShortLen   = 100 // external_ref, region, one tag
	maxTagsPerRow = 50
)

// splitTags splits a tag cell on , ， ; ； 、 and |, trimming and dropping
// empty and repeated tags.
func splitTags(s string) ([]string, string) {
	parts := strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ',', '，', ';', '；', '、', '|':
			return true
		}
		return false
	})
	var tags []string
	seen := map[string]bool{}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		if utf8.RuneCountInString(p) > maxShortLen {
			return nil, "a tag is longer than 100 characters"
		}
		seen[p] = true
		tags = append(tags, p)
	}
	if len(tags) > maxTagsPerRow {
		return nil, "more than 50 tags"
	}
	return tags, ""
}

// normalizeLocale accepts a BCP 47 tag or the common Chinese words for
// Chinese and English.
func normalizeLocale(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "中文", "简体中文", "汉语", "chinese", "zh", "zh-cn", "zh_cn", "zh-hans":
		return "zh-CN", ""
	case "英文", "英语", "english", "en", "en-us", "en_us", "en-gb":
		return "en", ""
	}
	tag, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil || len(s) > 35 {
		return "", "locale is not a language tag such as zh-CN or en"
	}
	return tag.String(), ""
}

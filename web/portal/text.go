package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/transfers"
)

// portalText is every word the portal shows, per language: the catalog's
// portal.* texts (locales/portal.*.yaml), keyed without the prefix.
var portalText = map[string]map[string]string{
	locales.Chinese: locales.Prefixed(locales.Chinese, "portal."),
	locales.English: locales.Prefixed(locales.English, "portal."),
}

// notice is the transfer notice a link shows (PIPL Art. 17, 22). Hash is
// the SHA-256 of its text, recorded with every decision made after it.
type notice struct {
	Intro    string
	Sections []noticeSection
	Hash     string
}

type noticeSection struct{ Title, Body string }

func buildNotice(t *transfers.Transfer, l *links.Link, lang string, tx map[string]string) notice {
	cats := make([]string, len(t.DataCategories))
	for i, c := range t.DataCategories {
		cats[i] = tx["cat_"+c]
	}
	n := notice{Intro: fmt.Sprintf(tx["notice_intro"], t.SellerName, t.BuyerName), Sections: []noticeSection{
		{tx["sec_who"], fmt.Sprintf(tx["who_body"], t.SellerName, t.BuyerName, t.EffectiveDate)},
		{tx["sec_contact"], t.BuyerContact},
		{tx["sec_data"], strings.Join(cats, tx["list_sep"])},
		{tx["sec_purposes"], strings.Join(l.Purposes, tx["list_sep"])},
		{tx["sec_retention"], fmt.Sprintf(tx["retention_body"], t.RetentionDays)},
		{tx["sec_rights"], tx["rights_body"]},
	}}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", lang, n.Intro)
	for _, s := range n.Sections {
		fmt.Fprintf(h, "%s\n%s\n", s.Title, s.Body)
	}
	n.Hash = hex.EncodeToString(h.Sum(nil))
	return n
}

package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
)

// FuzzSafeNext: whatever "next" a sign-in form carries, the redirect stays
// on this site as a browser reads it: browsers drop tabs and newlines
// anywhere in a URL, trim controls and spaces at its ends, and take a
// backslash for a slash, so "/\t/evil.example" is "//evil.example".
func FuzzSafeNext(f *testing.F) {
	for _, seed := range []string{"/", "/customers?q=1", "//evil.example", "/\\evil.example", "https://evil.example", "/login", "",
		"javascript:alert(1)", "/\t/evil.example", "/\n/evil.example", " //evil.example", "/%09/evil.example"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		read := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		read = strings.TrimFunc(read, func(r rune) bool { return r <= ' ' })
		if !strings.HasPrefix(read, "/") || strings.HasPrefix(read, "//") {
			t.Fatalf("safeNext(%q) = %q, which a browser reads as %q: off the site", next, got, read)
		}
	})
}

func TestSafeNextKeepsOrdinaryPaths(t *testing.T) {
	for _, next := range []string{"/customers?q=%E5%BC%A0&cursor=01J", "/tickets/01JABC#reply", "/campaigns/new"} {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q", next, got)
		}
	}
}

func TestRelative(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	zone := loadZone("Asia/Shanghai")
	for _, c := range []struct {
		ago    time.Duration
		zh, en string
	}{
		{10 * time.Second, "刚刚", "just now"},
		{3 * time.Minute, "3 分钟前", "3 min ago"},
		{5 * time.Hour, "5 小时前", "5 h ago"},
		{2 * 24 * time.Hour, "2 天前", "2 d ago"},
		{30 * 24 * time.Hour, "2026-10-28", "2026-10-28"},
	} {
		if got := relative("zh-CN", now, now.Add(-c.ago), zone); got != c.zh {
			t.Errorf("zh %v: %q, want %q", c.ago, got, c.zh)
		}
		if got := relative("en", now, now.Add(-c.ago), zone); got != c.en {
			t.Errorf("en %v: %q, want %q", c.ago, got, c.en)
		}
	}
}

func TestProgressAndFunnel(t *testing.T) {
	p := newProgress(campaigns.StatusRunning, map[channels.DeliveryStatus]int{"queued": 3, "sent": 5, "delivered": 2, "skipped": 0})
	if p.Total != 10 || p.Done != 7 || p.Percent != 70 || !p.Live {
		t.Fatalf("progress = %+v", p)
	}
	// The bar, the funnel and the channel block read these numbers: the
	// bar's total is the funnel's first step, the funnel's sent is what
	// the channels sent.
	n := countNumbers(map[channels.DeliveryStatus]int{"queued": 3, "sent": 5, "delivered": 2, "bounced": 1, "failed": 2, "skipped": 4, "suppressed": 1},
		campaigns.Funnel{Opened: 4, Consented: 1})
	if n.Total != 18 || n.Waiting != 3 || n.Done != 15 || n.Sent != 8 || n.Delivered != 2 || n.NotSent != 5 || n.Failed != 2 ||
		n.Opened != 4 || n.Consented != 1 {
		t.Fatalf("numbers = %+v", n)
	}
	if scale(1, 1000000, 300) != 1 || scale(0, 10, 300) != 0 || scale(5, 0, 300) != 0 {
		t.Fatal("scale is wrong at the edges")
	}
}

func TestLooksLikePhone(t *testing.T) {
	for q, want := range map[string]bool{"13812345678": true, "+86 138-1234-5678": true, "(010) 1234": true, "1234": false,
		"张三": false, "zhang@example.com": false, "138abc45678": false} {
		if looksLikePhone(q) != want {
			t.Errorf("looksLikePhone(%q) = %t", q, !want)
		}
	}
}

// TestEveryTextTranslated: every key the pages ask for has both texts.
func TestEveryTextTranslated(t *testing.T) {
	d := newViews()
	if len(d.pages) < 10 {
		t.Fatalf("only %d pages parsed", len(d.pages))
	}
	names, _ := dashboardViews.ReadDir("views")
	for _, n := range names {
		b, _ := dashboardViews.ReadFile("views/" + n.Name())
		for _, part := range strings.Split(string(b), `.T "`)[1:] {
			key, _, _ := strings.Cut(part, `"`)
			if translate("en", key) == key {
				t.Errorf("%s: no text for %q", n.Name(), key)
			}
		}
	}
}

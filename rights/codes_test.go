package rights_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/rights"
)

func TestParseCode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"123456", "123456"},
		{" 123 456 ", "123456"},
		{"123-456", "123456"},
		{"１２３４５６", "123456"},
		{"12345", ""},
		{"1234567", ""},
		{"12345a", ""},
		{"", ""},
		{"١٢٣٤٥٦", ""},
	} {
		got, err := rights.ParseCode(tc.in)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "１２３ ４５６", "12-34-56", "", "abcdef", "\u3000123456"} {
		f.Add(s)
	}
	six := regexp.MustCompile(`^[0-9]{6}$`)
	f.Fuzz(func(t *testing.T, s string) {
		code, err := rights.ParseCode(s)
		if err != nil {
			if handover.ErrorCode(err) != handover.EINVALID || code != "" {
				t.Fatalf("ParseCode(%q) = %q, %v", s, code, err)
			}
			return
		}
		if !six.MatchString(code) {
			t.Fatalf("ParseCode(%q) = %q", s, code)
		}
		if again, err := rights.ParseCode(code); err != nil || again != code {
			t.Fatalf("ParseCode is not idempotent on %q", code)
		}
	})
}

// outbox collects the messages a SendFunc was given.
type outbox struct {
	mu   sync.Mutex
	msgs []channels.Message
	fail error
}

func (o *outbox) send(_ context.Context, m channels.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// lastCode returns the code in the last message.
func (o *outbox) lastCode(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no code was sent")
	}
	return o.msgs[len(o.msgs)-1].Template.Params["code"]
}

// clock lets a test move the database's time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func setClock(db *database.DB) *clock {
	c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
	db.Now = func() time.Time {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.now
	}
	return c
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func wrong(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestDataAccessCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := setClock(db)
		s := newStore(t, db)
		a, _ := seedRightsCustomers(t, s)
		out := &outbox{}

		ch, err := s.StartDataAccess(ctx, a, "phone", out.send)
		if err != nil {
			t.Fatal(err)
		}
		if ch.To != "138****5678" || out.msgs[0].To.Phone != "+8613812345678" {
			t.Errorf("code went to %q (%+v)", ch.To, out.msgs[0].To)
		}
		// Resend throttle: one a minute, five an hour.
		if _, err := s.StartDataAccess(ctx, a, "email", out.send); handover.ErrorCode(err) != handover.ETOOMANY {
			t.Errorf("second code within a minute: %v", err)
		}
		for i := 0; i < 4; i++ {
			clk.advance(61 * time.Second)
			if ch, err = s.StartDataAccess(ctx, a, "email", out.send); err != nil {
				t.Fatalf("code %d: %v", i+2, err)
			}
		}
		clk.advance(61 * time.Second)
		if _, err := s.StartDataAccess(ctx, a, "phone", out.send); handover.ErrorCode(err) != handover.ETOOMANY {
			t.Errorf("sixth code within an hour: %v", err)
		}
		code := out.lastCode(t)

		// Wrong codes count; the fifth attempt is the last, even when right.
		if _, err := s.VerifyDataAccess(ctx, a, ch.ID, "12345"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("malformed code: %v", err)
		}
		for i := 0; i < rights.CodeMaxAttempts; i++ {
			if _, err := s.VerifyDataAccess(ctx, a, ch.ID, wrong(code)); handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := s.VerifyDataAccess(ctx, a, ch.ID, code); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("right code after the attempt limit: %v", err)
		}

		// A fresh code: right once, then used up; expired after ten minutes.
		clk.advance(time.Hour)
		ch, err = s.StartDataAccess(ctx, a, "phone", out.send)
		if err != nil {
			t.Fatal(err)
		}
		code = out.lastCode(t)
		if _, err := s.VerifyDataAccess(ctx, "someone-else", ch.ID, code); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("another customer's challenge: %v", err)
		}
		grant, err := s.VerifyDataAccess(ctx, a, ch.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyDataAccess(ctx, a, ch.ID, code); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("reused code: %v", err)
		}
		if err := s.CheckDataAccess(ctx, a, grant.Token); err != nil {
			t.Errorf("fresh grant: %v", err)
		}
		if err := s.CheckDataAccess(ctx, "other", grant.Token); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("grant for another customer: %v", err)
		}
		clk.advance(rights.DataAccessTTL + time.Second)
		if err := s.CheckDataAccess(ctx, a, grant.Token); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("expired grant: %v", err)
		}
		ch, err = s.StartDataAccess(ctx, a, "phone", out.send)
		if err != nil {
			t.Fatal(err)
		}
		clk.advance(rights.CodeTTL + time.Second)
		if _, err := s.VerifyDataAccess(ctx, a, ch.ID, out.lastCode(t)); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("expired code: %v", err)
		}
		if n := countRows(t, db, "confirmation_codes WHERE code_hash LIKE '%"+out.lastCode(t)+"%'"); n != 0 {
			t.Error("a code is stored in the clear")
		}

		// A code that could not be sent is withdrawn.
		clk.advance(time.Hour)
		out.fail = errors.New("provider down")
		if _, err := s.StartDataAccess(ctx, a, "phone", out.send); handover.ErrorCode(err) != handover.EUNAVAILABLE {
			t.Errorf("failed send: %v", err)
		}
		if n := countRows(t, db, "confirmation_codes WHERE used_at IS NULL AND created_at = (SELECT MAX(created_at) FROM confirmation_codes)"); n != 0 {
			t.Errorf("the unsent code is still usable (%d)", n)
		}
	})
}

func TestConcurrentCodeUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, _ := seedRightsCustomers(t, s)
		out := &outbox{}
		ch, err := s.StartDataAccess(ctx, a, "phone", out.send)
		if err != nil {
			t.Fatal(err)
		}
		code := out.lastCode(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		granted := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.VerifyDataAccess(ctx, a, ch.ID, code); err == nil {
					mu.Lock()
					granted++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if granted != 1 {
			t.Errorf("one code gave %d grants", granted)
		}
	})
}

// TestCodeByEmailThroughSMTP sends a data-access code by the real email
// channel to a real SMTP server.
func TestCodeByEmailThroughSMTP(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	clk := setClock(db)
	s := newStore(t, db)
	a, _ := seedRightsCustomers(t, s)
	sink := smtptest.New(t)
	ch, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", ReplyDomain: "reply.example.com", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	send := rights.ChannelSender(map[channels.Name]channels.Channel{channels.Email: ch}, "")
	c, err := s.StartDataAccess(ctx, a, "email", send)
	if err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "zhang@example.com" || c.To != "z***@example.com" {
		t.Fatalf("sent %d messages: %+v", len(got), got)
	}
	if id := got[0].Header().Get("Message-ID"); !strings.Contains(id, "code-"+c.ID) {
		t.Errorf("Message-ID %q", id)
	}
	// Without an SMS channel a phone code has nowhere to go.
	clk.advance(2 * time.Minute)
	if _, err := s.StartDataAccess(ctx, a, "phone", rights.ChannelSender(nil, "")); handover.ErrorMessage(err) != "No channel can send the confirmation code." {
		t.Errorf("no channel: %v", err)
	}
}

// TestCodeBySMSThroughAliyun sends a code by the real SMS SDK to the fake
// Aliyun with the approved code template and the code as its variable.
func TestCodeBySMSThroughAliyun(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	s := newStore(t, db)
	a, _ := seedRightsCustomers(t, s)
	fake := smsfake.New(t)
	ch, err := sms.New(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	send := rights.ChannelSender(map[channels.Name]channels.Channel{channels.SMS: ch}, "SMS_CODE_1")
	if _, err := s.StartDataAccess(ctx, a, "phone", send); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].TemplateCode != "SMS_CODE_1" || len(msgs[0].Params["code"]) != 6 || msgs[0].Phone != "13812345678" {
		t.Fatalf("sent %+v", msgs)
	}
}

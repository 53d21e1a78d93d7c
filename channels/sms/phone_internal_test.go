package sms

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
)

func TestAliyunNumber(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+8613900000001", "13900000001", true},
		{"13900000001", "13900000001", true},
		{" +8613900000001 ", "13900000001", true},
		{"+85261234567", "85261234567", true},
		{"+14155550100", "14155550100", true},
		{"+86139", "86139", false}, // too short
		{"+86 139 0000 0001", "", false},
		{"03900000001", "", false},
		{"", "", false},
		{"+", "", false},
		{"+1234567890123456", "", false},
	}
	for _, tt := range tests {
		got, ok := aliyunNumber(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("aliyunNumber(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := map[string]string{
		"13900000001":     "+8613900000001",
		"8613900000001":   "+8613900000001",
		"008613900000001": "+8613900000001",
		"+8613900000001":  "+8613900000001",
		"85261234567":     "+85261234567",
		"abc":             "abc",
		"":                "",
	}
	for in, want := range tests {
		if got := normalizePhone(in); got != want {
			t.Errorf("normalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 6, 22, 30, 0, 0, china) // 1.5 h before Beijing midnight
	tests := []struct {
		code, msg string
		want      time.Duration
	}{
		{"isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permission denied", time.Minute},
		{"isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permission denied", time.Hour},
		{"isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permission denied", 90 * time.Minute},
		{"isv.BUSINESS_LIMIT_CONTROL", "", time.Minute},
		{"isv.DAY_LIMIT_CONTROL", "", 90 * time.Minute},
		{"Throttling.User", "", time.Second},
	}
	for _, tt := range tests {
		e := codeError("SendSms", tt.code, tt.msg, now)
		if e.Class != channels.RateLimited || e.RetryAfter != tt.want {
			t.Errorf("%s %q: %v after %v, want %v", tt.code, tt.msg, e.Class, e.RetryAfter, tt.want)
		}
	}
}

func TestSafeMessage(t *testing.T) {
	tests := map[string]string{
		"mobile 13900000001 illegal": "mobile *** illegal",
		"非法手机号13900000001":           "非法手机号***",
		"code 1234 ok":               "code 1234 ok",
		"":                           "",
	}
	for in, want := range tests {
		if got := safeMessage(in); got != want {
			t.Errorf("safeMessage(%q) = %q, want %q", in, got, want)
		}
	}
	long := safeMessage(strings.Repeat("流控", 200))
	if len(long) > 210 || !strings.HasSuffix(long, "…") {
		t.Errorf("long message kept %d bytes", len(long))
	}
}

func TestClassifyErrHidesURL(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "http://x/?PhoneNumbers=13900000001&Signature=abc", Err: errors.New("connection refused")}
	e := classifyErr("SendSms", err)
	if e.Class != channels.Transient || strings.Contains(e.Error(), "13900000001") || strings.Contains(e.Error(), "Signature") {
		t.Errorf("classifyErr = %v", e)
	}
}

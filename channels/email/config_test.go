package email

import (
	"strings"
	"testing"
)

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		url, from, wantErr string
	}{
		{"", "a@example.com", "HANDOVER_SMTP_URL is not set"},
		{"http://host", "a@example.com", "HANDOVER_SMTP_URL scheme"},
		{"smtp://", "a@example.com", "HANDOVER_SMTP_URL has no host"},
		{"smtp://host:99999", "a@example.com", "invalid port"},
		{"smtp://user:pa%zz@host", "a@example.com", "not a valid URL"},
		{"smtp://host", "", "HANDOVER_EMAIL_FROM is not set"},
		{"smtp://host", "Company", "HANDOVER_EMAIL_FROM is not an address"},
		{"smtp://user:secret@host:587", "Company <notice@example.com>", ""},
		{"smtps://host", "notice@example.com", ""},
		{"smtp+insecure://127.0.0.1:2525", "notice@example.com", ""},
	}
	for _, tt := range tests {
		_, err := New(Config{SMTPURL: tt.url, From: tt.from})
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("New(%q, %q): %v", tt.url, tt.from, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("New(%q, %q) = %v, want %q", tt.url, tt.from, err, tt.wantErr)
		case err != nil && strings.Contains(err.Error(), "secret"):
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestParseRelay(t *testing.T) {
	for raw, want := range map[string]relay{
		"smtp://u:p@mail.example.com":         {host: "mail.example.com", port: 587, user: "u", pass: "p"},
		"smtps://mail.example.com":            {host: "mail.example.com", port: 465, implicit: true},
		"smtp+insecure://localhost:1025":      {host: "localhost", port: 1025, insecure: true},
		"smtp://u%40x.com:p%2Fq@h.example:25": {host: "h.example", port: 25, user: "u@x.com", pass: "p/q"},
	} {
		got, err := parseRelay(raw)
		if err != nil || got != want {
			t.Errorf("parseRelay(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}

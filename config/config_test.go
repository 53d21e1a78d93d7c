package config_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/pii/masterkey"
)

func TestDefaults(t *testing.T) {
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTPAddr != "127.0.0.1:8080" || cfg.DataDir != "./data" || !cfg.Embedded() || cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for _, c := range []struct{ env, wantVar string }{
		{"HANDOVER_HTTP_ADDR=8080", "HANDOVER_HTTP_ADDR"},
		{"HANDOVER_DATABASE_URL=mysql://x", "HANDOVER_DATABASE_URL"},
		{"HANDOVER_REDIS_URL=http://x", "HANDOVER_REDIS_URL"},
		{"HANDOVER_MASTER_KEY=short", "HANDOVER_MASTER_KEY"},
		{"HANDOVER_MAX_UPLOAD_MB=lots", "HANDOVER_MAX_UPLOAD_MB"},
		{"HANDOVER_REQUEST_TIMEOUT=soon", "HANDOVER_REQUEST_TIMEOUT"},
		{"HANDOVER_TRUSTED_PROXIES=10.0.0.0", "HANDOVER_TRUSTED_PROXIES"},
		{"HANDOVER_LOG_LEVEL=loud", "HANDOVER_LOG_LEVEL"},
		{"HANDOVER_DATABSE_URL=postgres://x", "HANDOVER_DATABSE_URL"}, // a typo is unknown
	} {
		_, err := config.Load([]string{c.env})
		if err == nil || !strings.Contains(err.Error(), c.wantVar) {
			t.Errorf("%s: err = %v, want it to name %s", c.env, err, c.wantVar)
		}
	}
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	_, err := config.Load([]string{"HANDOVER_MASTER_KEY=c2VjcmV0LXZhbHVlLXRoYXQtaXMtdG9vLXNob3J0"})
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") {
		t.Fatalf("err = %v; want an error without the key", err)
	}
}

func TestEmbeddedMasterKeyIsGeneratedOnceWith0600(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load([]string{"HANDOVER_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	k1, _, generated, err := cfg.MasterKeys()
	if err != nil || !generated {
		t.Fatalf("first call: generated=%v err=%v", generated, err)
	}
	st, _ := os.Stat(filepath.Join(dir, "master.key"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode %v, want 0600", st.Mode().Perm())
	}
	k2, _, generated, _ := cfg.MasterKeys()
	if generated || string(k1) != string(k2) {
		t.Fatal("second call generated a different key")
	}
	pg, _ := config.Load([]string{"HANDOVER_DATABASE_URL=postgres://h/db"})
	if _, _, _, err := pg.MasterKeys(); err == nil || !strings.Contains(err.Error(), "HANDOVER_MASTER_KEY") {
		t.Fatalf("postgres without key: %v", err)
	}
	if _, err := config.Load([]string{"HANDOVER_MASTER_KEY=" + masterkey.Generate()}); err != nil {
		t.Fatal(err)
	}
}

// TestReferenceListsEveryVariable keeps docs/config.md true.
func TestReferenceListsEveryVariable(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(HANDOVER_[A-Z_]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for _, name := range config.Names() {
		if !documented[name] {
			t.Errorf("%s is read but not documented in docs/config.md", name)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("docs/config.md documents %s, which the code does not read", name)
	}
}

func TestHalfConfiguredChannelsFailAtStart(t *testing.T) {
	for _, c := range []struct {
		env     []string
		wantVar string
	}{
		{[]string{"HANDOVER_WECHAT_APP_ID=wx1"}, "HANDOVER_WECHAT_"},
		{[]string{"HANDOVER_WECHAT_APP_ID=wx1", "HANDOVER_WECHAT_APP_SECRET=s", "HANDOVER_WECHAT_TOKEN=t", "HANDOVER_WECHAT_AES_KEY=short"}, "HANDOVER_WECHAT_AES_KEY"},
		{[]string{"HANDOVER_ALIYUN_ACCESS_KEY_ID=id", "HANDOVER_ALIYUN_ACCESS_KEY_SECRET=s", "HANDOVER_SMS_SIGN_NAME=华东五金"}, "HANDOVER_HOOK_SECRET"},
		{[]string{"HANDOVER_SMTP_URL=smtp://h:25"}, "HANDOVER_EMAIL_FROM"},
		{[]string{"HANDOVER_SMTP_INBOUND_ADDR=:2525"}, "HANDOVER_EMAIL_REPLY_DOMAIN"},
		{[]string{"HANDOVER_ALIYUN_SMS_ENDPOINT=dysmsapi"}, "HANDOVER_ALIYUN_SMS_ENDPOINT"},
		{[]string{"HANDOVER_SMS_RECEIPT_POLL=5m"}, "HANDOVER_SMS_RECEIPT_POLL"},
		{[]string{"HANDOVER_ALIYUN_ACCESS_KEY_ID=id", "HANDOVER_ALIYUN_ACCESS_KEY_SECRET=s", "HANDOVER_SMS_SIGN_NAME=华东五金",
			"HANDOVER_HOOK_SECRET=0123456789abcdef", "HANDOVER_SMS_RECEIPT_POLL=30s"}, "HANDOVER_SMS_RECEIPT_POLL"},
	} {
		_, err := config.Load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.wantVar) {
			t.Errorf("%v: err = %v, want it to name %s", c.env, err, c.wantVar)
		}
	}
	cfg, err := config.Load([]string{"HANDOVER_ALIYUN_ACCESS_KEY_ID=id", "HANDOVER_ALIYUN_ACCESS_KEY_SECRET=s",
		"HANDOVER_SMS_SIGN_NAME=华东五金", "HANDOVER_HOOK_SECRET=0123456789abcdef", "HANDOVER_SMS_RECEIPT_POLL=5m"})
	if err != nil || !cfg.SMSOn() || cfg.WeChatOn() || cfg.EmailOn() || cfg.SMSReceiptPoll != 5*time.Minute {
		t.Fatalf("complete SMS config: %+v, %v", cfg, err)
	}
}

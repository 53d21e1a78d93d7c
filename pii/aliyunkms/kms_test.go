package aliyunkms_test

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover/pii/aliyunkms"
	"github.com/handoverhq/handover/pii/aliyunkms/kmsfake"
	"github.com/handoverhq/handover/pii/masterkey"
)

func TestMasterKeyRoundTrip(t *testing.T) {
	fake := kmsfake.Start(t)
	cfg := fake.Config()
	key := masterkey.Generate()
	blob, err := aliyunkms.EncryptMasterKey(cfg, "key-handover", key)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(blob, key) {
		t.Fatal("the blob holds the key in plaintext")
	}
	got, err := aliyunkms.DecryptMasterKey(cfg, blob+"\n")
	if err != nil || got != key {
		t.Fatalf("decrypt = %q, %v", got, err)
	}
	if _, err := aliyunkms.DecryptMasterKey(cfg, "key-handover.AAAA"); err == nil || !strings.Contains(err.Error(), "InvalidCiphertext") {
		t.Errorf("a forged blob: %v", err)
	}
	bad := cfg
	bad.AccessKeySecret = "wrong"
	if _, err := aliyunkms.DecryptMasterKey(bad, blob); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("a wrong secret: %v", err)
	}
	if _, err := aliyunkms.DecryptMasterKey(aliyunkms.Config{Endpoint: "x"}, blob); err == nil || !strings.Contains(err.Error(), "ACCESS_KEY") {
		t.Errorf("no credentials: %v", err)
	}
}

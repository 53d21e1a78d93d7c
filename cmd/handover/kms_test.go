package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover/pii/aliyunkms/kmsfake"
)

// With the master key kept by KMS, nothing readable is written to the data
// dir and a second start decrypts the same key (the customers stay readable).
func TestMasterKeyFromKMS(t *testing.T) {
	fake := kmsfake.Start(t)
	cfg := fake.Config()
	kmsEnv := []string{"HANDOVER_KMS_URL=http://" + cfg.Endpoint, "HANDOVER_KMS_ACCESS_KEY_ID=" + cfg.AccessKeyID,
		"HANDOVER_KMS_ACCESS_KEY_SECRET=" + cfg.AccessKeySecret}
	code, blob, errOut := runCLI(t, kmsEnv, "", "keys", "generate", "--kms-key-id", "key-handover")
	if code != 0 || !strings.HasPrefix(blob, "key-handover.") {
		t.Fatalf("keys generate --kms-key-id: %d %q %s", code, blob, errOut)
	}
	dir := t.TempDir()
	env := append(kmsEnv, "HANDOVER_DATA_DIR="+dir, "HANDOVER_MASTER_KEY_KMS_BLOB="+strings.TrimSpace(blob))
	csv := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(csv, []byte("姓名,手机\n张三,13812345678\n"), 0o600)
	if code, out, errOut := runCLI(t, env, "", "import", csv); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "master.key")); !os.IsNotExist(err) {
		t.Errorf("a master.key file was written with a KMS key: %v", err)
	}
	if code, out, errOut := runCLI(t, env, "", "import", csv); code != 0 || !strings.Contains(out+errOut, "1 updated") {
		t.Fatalf("second import with the same KMS key (dedup needs the same keys): %d %s %s", code, out, errOut)
	}
	if fake.Decrypts != 2 {
		t.Errorf("KMS decrypts = %d, want one per start", fake.Decrypts)
	}
	bad := append(env[:len(env):len(env)], "HANDOVER_MASTER_KEY_KMS_BLOB=key-handover.Zm9yZ2Vk")
	if code, _, errOut := runCLI(t, bad[len(kmsEnv):], "", "import", csv); code == 0 || !strings.Contains(errOut, "KMS") {
		t.Errorf("a forged blob without credentials: %d %s", code, errOut)
	}
}

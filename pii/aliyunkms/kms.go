// Package aliyunkms keeps the master key encrypted by Aliyun KMS: the
// process holds only the KMS ciphertext (HANDOVER_MASTER_KEY_KMS_BLOB) and
// asks KMS to decrypt it at start, so the master key is never stored in
// plaintext and access to it is governed and logged by KMS. It is the
// second source of the master key beside the environment and the data
// dir's key file; the choice is made once, in cmd/handover.
package aliyunkms

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/kms"
)

// encryptionContext binds the ciphertext to this use: a blob made for
// something else does not decrypt as Handover's master key.
const encryptionContext = `{"purpose":"handover-master-key"}`

// Config says how to reach KMS.
type Config struct {
	Endpoint        string // host[:port], e.g. kms.cn-hangzhou.aliyuncs.com
	Region          string // e.g. cn-hangzhou
	Scheme          string // https (default) or http (tests)
	AccessKeyID     string
	AccessKeySecret string
	Timeout         time.Duration
}

func client(cfg Config) (*kms.Client, error) {
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, fmt.Errorf("aliyun kms: HANDOVER_ALIYUN_ACCESS_KEY_ID and HANDOVER_ALIYUN_ACCESS_KEY_SECRET are required")
	}
	if cfg.Endpoint == "" || strings.Contains(cfg.Endpoint, "/") {
		return nil, fmt.Errorf("aliyun kms: HANDOVER_KMS_ENDPOINT must be host[:port], without scheme or path")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	sc := sdk.NewConfig()
	sc.Scheme = strings.ToUpper(cfg.Scheme)
	if sc.Scheme == "" {
		sc.Scheme = "HTTPS"
	}
	sc.Timeout = cfg.Timeout
	sc.Transport = &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: cfg.Timeout}
	cl, err := kms.NewClientWithOptions(cfg.Region, sc, credentials.NewAccessKeyCredential(cfg.AccessKeyID, cfg.AccessKeySecret))
	if err != nil {
		return nil, fmt.Errorf("aliyun kms: %w", err)
	}
	cl.Domain = cfg.Endpoint
	return cl, nil
}

// DecryptMasterKey returns the master key text that blob encrypts. The
// SDK's calls take no context; Config.Timeout bounds them.
func DecryptMasterKey(cfg Config, blob string) (string, error) {
	cl, err := client(cfg)
	if err != nil {
		return "", err
	}
	req := kms.CreateDecryptRequest()
	req.Scheme = cl.GetConfig().Scheme
	req.CiphertextBlob = strings.TrimSpace(blob)
	req.EncryptionContext = encryptionContext
	resp, err := cl.Decrypt(req)
	if err != nil {
		return "", fmt.Errorf("aliyun kms: decrypt the master key (HANDOVER_MASTER_KEY_KMS_BLOB): %w", err)
	}
	return resp.Plaintext, nil
}

// EncryptMasterKey encrypts a master key text under the KMS key keyID and
// returns the blob to set as HANDOVER_MASTER_KEY_KMS_BLOB.
func EncryptMasterKey(cfg Config, keyID, masterKey string) (string, error) {
	cl, err := client(cfg)
	if err != nil {
		return "", err
	}
	req := kms.CreateEncryptRequest()
	req.Scheme = cl.GetConfig().Scheme
	req.KeyId = keyID
	req.Plaintext = masterKey
	req.EncryptionContext = encryptionContext
	resp, err := cl.Encrypt(req)
	if err != nil {
		return "", fmt.Errorf("aliyun kms: encrypt the master key with %s: %w", keyID, err)
	}
	return resp.CiphertextBlob, nil
}

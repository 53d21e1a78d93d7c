package main

import (
	"net/url"

	"github.com/handoverhq/handover/pii/aliyunkms"
)

// kmsConfig is how to reach Aliyun KMS, from the configuration.
func (m *Main) kmsConfig() aliyunkms.Config {
	u, _ := url.Parse(m.Config.KMSURL) // checked by config
	return aliyunkms.Config{Endpoint: u.Host, Scheme: u.Scheme, Region: m.Config.KMSRegion,
		AccessKeyID: m.Config.KMSAccessKeyID, AccessKeySecret: m.Config.KMSAccessKeySecret}
}

// unsealMasterKey asks KMS for the master key when only its KMS blob is
// configured; the plaintext lives in this process's memory only.
func (m *Main) unsealMasterKey() error {
	if m.Config.MasterKeyKMSBlob == "" || m.Config.MasterKey != "" {
		return nil
	}
	key, err := aliyunkms.DecryptMasterKey(m.kmsConfig(), m.Config.MasterKeyKMSBlob)
	if err != nil {
		return err
	}
	m.Config.MasterKey = key
	m.Log.Info("master key decrypted by Aliyun KMS")
	return nil
}

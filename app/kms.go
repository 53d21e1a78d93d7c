package app

import (
	"net/url"

	"github.com/handoverhq/handover/pii/aliyunkms"
)

// KMSConfig is how to reach Aliyun KMS, from the configuration.
func (a *App) KMSConfig() aliyunkms.Config {
	u, _ := url.Parse(a.Config.KMSURL) // checked by config
	return aliyunkms.Config{Endpoint: u.Host, Scheme: u.Scheme, Region: a.Config.KMSRegion,
		AccessKeyID: a.Config.KMSAccessKeyID, AccessKeySecret: a.Config.KMSAccessKeySecret}
}

// unsealMasterKey asks KMS for the master key when only its KMS blob is
// configured; the plaintext lives in this process's memory only.
func (a *App) unsealMasterKey() error {
	if a.Config.MasterKeyKMSBlob == "" || a.Config.MasterKey != "" {
		return nil
	}
	key, err := aliyunkms.DecryptMasterKey(a.KMSConfig(), a.Config.MasterKeyKMSBlob)
	if err != nil {
		return err
	}
	a.Config.MasterKey = key
	a.Log.Info("master key decrypted by Aliyun KMS")
	return nil
}

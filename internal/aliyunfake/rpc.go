// Package aliyunfake holds what every fake Aliyun RPC server in the tests
// needs: reading the parameters the way Aliyun signs them and checking the
// common parameters and the HMAC-SHA1 signature, as the real services do,
// so a test fails when the real SDK would be refused.
package aliyunfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The credentials every fake accepts.
const (
	AccessKeyID     = "fake-access-key-id"
	AccessKeySecret = "fake-access-key-secret"
)

// Error is an Aliyun error answer.
type Error struct {
	Status        int
	Code, Message string
}

// ReadParams merges query and form parameters the way Aliyun signs them.
func ReadParams(r *http.Request) (map[string]string, *Error) {
	if err := r.ParseForm(); err != nil {
		return nil, &Error{http.StatusBadRequest, "InvalidParameter", "cannot parse form"}
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	return params, nil
}

// CheckAuth checks the common RPC parameters, the API version and the
// HMAC-SHA1 signature.
func CheckAuth(method, version string, p map[string]string) *Error {
	for _, k := range []string{"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p[k] == "" {
			return &Error{http.StatusBadRequest, "Missing" + k, k + " is mandatory for this action."}
		}
	}
	if p["Version"] != version {
		return &Error{http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0" {
		return &Error{http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not supported."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return &Error{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	if p["AccessKeyId"] != AccessKeyID {
		return &Error{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	want := signature(method, p, AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["Signature"])) != 1 {
		return &Error{http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."}
	}
	return nil
}

// signature computes Aliyun's RPC signature (version 1.0, HMAC-SHA1).
func signature(method string, p map[string]string, secret string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = percentEncode(k) + "=" + percentEncode(p[k])
	}
	toSign := method + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func percentEncode(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

package smsfake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// apiError is an Aliyun error answer.
type apiError struct {
	status        int
	code, message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	params, apiErr := readParams(r)
	if apiErr == nil {
		apiErr = checkAuth(r.Method, params)
	}
	action := params["Action"]
	if apiErr != nil {
		s.answerError(w, Call{Action: action}, *apiErr)
		return
	}
	switch action {
	case "SendSms":
		s.sendSms(w, r, params)
	case "SendBatchSms":
		s.sendBatchSms(w, r, params)
	case "QuerySendDetails":
		s.querySendDetails(w, params)
	default:
		s.answerError(w, Call{Action: action}, apiError{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found"})
	}
}

// readParams merges query and form parameters the way Aliyun signs them.
// Batch arrays must come in the body, where the SDK puts them.
func readParams(r *http.Request) (map[string]string, *apiError) {
	if err := r.ParseForm(); err != nil {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameter", "cannot parse form"}
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	for _, k := range []string{"PhoneNumberJson", "SignNameJson", "TemplateParamJson"} {
		if r.URL.Query().Has(k) {
			return params, &apiError{http.StatusBadRequest, "InvalidParameter", k + " must be in the body"}
		}
	}
	return params, nil
}

// checkAuth checks the common RPC parameters and the HMAC-SHA1 signature.
func checkAuth(method string, p map[string]string) *apiError {
	for _, k := range []string{"Action", "Version", "Format", "AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p[k] == "" {
			return &apiError{http.StatusBadRequest, "Missing" + k, k + " is mandatory for this action."}
		}
	}
	if p["Version"] != "2017-05-25" {
		return &apiError{http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid."}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" || p["SignatureVersion"] != "1.0" {
		return &apiError{http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not supported."}
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return &apiError{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}
	}
	if p["AccessKeyId"] != AccessKeyID {
		return &apiError{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}
	}
	want := signature(method, p, AccessKeySecret)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["Signature"])) != 1 {
		return &apiError{http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."}
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

// applyFault delays and answers a programmed fault; it reports whether the
// call has been answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, c Call, phones []string) bool {
	f, ok := s.fault(phones)
	if !ok {
		return false
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
		}
	}
	switch {
	case f.Status != 0:
		code := f.Code
		if code == "" && f.Status >= 500 {
			code = "InternalError"
		}
		s.answerError(w, c, apiError{f.Status, code, f.Message})
		return true
	case f.Code != "" && f.Code != "OK":
		s.answerError(w, c, apiError{http.StatusOK, f.Code, f.Message})
		return true
	}
	return false
}

func (s *Server) answerError(w http.ResponseWriter, c Call, e apiError) {
	_, requestID := s.newIDs()
	c.Code, c.Status = e.code, e.status
	s.logCall(c, nil)
	msg := e.message
	if msg == "" {
		msg = e.code
	}
	writeJSON(w, e.status, map[string]string{"Code": e.code, "Message": msg, "RequestId": requestID})
}

// validPhone accepts what Aliyun accepts: 11-digit mainland numbers and
// country code + number, digits only.
func validPhone(p string) bool {
	if len(p) < 7 || len(p) > 15 || p[0] == '0' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// parseParams decodes a TemplateParam object of strings ("" is none).
func parseParams(s string) (map[string]string, bool) {
	if s == "" {
		return nil, true
	}
	var m map[string]string
	if json.Unmarshal([]byte(s), &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

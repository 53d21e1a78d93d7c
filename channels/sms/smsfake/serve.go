package smsfake

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/handoverhq/handover/internal/aliyunfake"
)

// apiError is an Aliyun error answer.
type apiError = aliyunfake.Error

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	params, apiErr := readParams(r)
	if apiErr == nil {
		apiErr = aliyunfake.CheckAuth(r.Method, "2017-05-25", params)
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
		s.querySendDetails(w, r, params)
	case "QuerySmsTemplateList":
		s.querySmsTemplateList(w, r, params)
	default:
		s.answerError(w, Call{Action: action}, apiError{Status: http.StatusNotFound, Code: "InvalidAction.NotFound", Message: "Specified api is not found"})
	}
}

// readParams reads the signed parameters; batch arrays must come in the
// body, where the SDK puts them.
func readParams(r *http.Request) (map[string]string, *apiError) {
	params, apiErr := aliyunfake.ReadParams(r)
	if apiErr != nil {
		return nil, apiErr
	}
	for _, k := range []string{"PhoneNumberJson", "SignNameJson", "TemplateParamJson"} {
		if r.URL.Query().Has(k) {
			return params, &apiError{Status: http.StatusBadRequest, Code: "InvalidParameter", Message: k + " must be in the body"}
		}
	}
	return params, nil
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
		s.answerError(w, c, apiError{Status: f.Status, Code: code, Message: f.Message})
		return true
	case f.Code != "" && f.Code != "OK":
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: f.Code, Message: f.Message})
		return true
	}
	return false
}

func (s *Server) answerError(w http.ResponseWriter, c Call, e apiError) {
	_, requestID := s.newIDs()
	c.Code, c.Status = e.Code, e.Status
	s.logCall(c, nil)
	msg := e.Message
	if msg == "" {
		msg = e.Code
	}
	writeJSON(w, e.Status, map[string]string{"Code": e.Code, "Message": msg, "RequestId": requestID})
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

package smsfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

func (s *Server) sendSms(w http.ResponseWriter, r *http.Request, p map[string]string) {
	phones := strings.Split(p["PhoneNumbers"], ",")
	c := Call{Action: "SendSms", Phones: len(phones)}
	if e := checkTemplate(p["TemplateCode"], p["SignName"] != ""); e != nil {
		s.answerError(w, c, *e)
		return
	}
	params, ok := parseParams(p["TemplateParam"])
	if !ok {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_JSON_PARAM", Message: "JSON参数不合法，只接受字符串值"})
		return
	}
	if len(phones) > 1000 {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.MOBILE_COUNT_OVER_LIMIT", Message: "手机号码数量超过限制"})
		return
	}
	for _, ph := range phones {
		if !validPhone(ph) {
			s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "非法手机号"})
			return
		}
	}
	if s.applyFault(w, r, c, phones) {
		return
	}
	text, e := s.render(p["TemplateCode"], p["SignName"], params)
	if e != nil {
		s.answerError(w, c, *e)
		return
	}
	bizID, requestID := s.newIDs()
	msgs := make([]Message, len(phones))
	for i, ph := range phones {
		msgs[i] = Message{Action: "SendSms", Phone: ph, SignName: p["SignName"], TemplateCode: p["TemplateCode"], Params: params, OutID: p["OutId"], BizID: bizID, Text: text}
	}
	s.answerOK(w, c, msgs, bizID, requestID)
}

func (s *Server) sendBatchSms(w http.ResponseWriter, r *http.Request, p map[string]string) {
	var phones, signs []string
	var params []map[string]string
	c := Call{Action: "SendBatchSms"}
	if json.Unmarshal([]byte(p["PhoneNumberJson"]), &phones) != nil || json.Unmarshal([]byte(p["SignNameJson"]), &signs) != nil {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_JSON_PARAM", Message: "PhoneNumberJson and SignNameJson must be JSON arrays of strings"})
		return
	}
	c.Phones = len(phones)
	if e := checkTemplate(p["TemplateCode"], len(signs) > 0); e != nil {
		s.answerError(w, c, *e)
		return
	}
	if tp := p["TemplateParamJson"]; tp != "" && (json.Unmarshal([]byte(tp), &params) != nil || len(params) != len(phones)) {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_JSON_PARAM", Message: "TemplateParamJson must have one object per phone"})
		return
	}
	switch {
	case len(phones) == 0 || len(phones) > 100:
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.MOBILE_COUNT_OVER_LIMIT", Message: "手机号码数量超过限制"})
		return
	case len(signs) != len(phones):
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_PARAMETERS", Message: "SignNameJson must have one sign name per phone"})
		return
	}
	for _, ph := range phones {
		if !validPhone(ph) {
			s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "非法手机号"})
			return
		}
	}
	if s.applyFault(w, r, c, phones) {
		return
	}
	msgs := make([]Message, len(phones))
	for i, ph := range phones {
		msgs[i] = Message{Action: "SendBatchSms", Phone: ph, SignName: signs[i], TemplateCode: p["TemplateCode"]}
		if params != nil {
			msgs[i].Params = params[i]
		}
		text, e := s.render(p["TemplateCode"], signs[i], msgs[i].Params)
		if e != nil {
			s.answerError(w, c, *e)
			return
		}
		msgs[i].Text = text
	}
	bizID, requestID := s.newIDs()
	for i := range msgs {
		msgs[i].BizID = bizID
	}
	s.answerOK(w, c, msgs, bizID, requestID)
}

func checkTemplate(code string, haveSign bool) *apiError {
	switch {
	case code == "":
		return &apiError{Status: http.StatusBadRequest, Code: "MissingTemplateCode", Message: "TemplateCode is mandatory for this action."}
	case !haveSign:
		return &apiError{Status: http.StatusBadRequest, Code: "MissingSignName", Message: "SignName is mandatory for this action."}
	}
	return nil
}

func (s *Server) answerOK(w http.ResponseWriter, c Call, msgs []Message, bizID, requestID string) {
	c.Code, c.Status = "OK", http.StatusOK
	if s.logCall(c, msgs) {
		// Sent, and the answer lost: close the connection unanswered.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"Code": "OK", "Message": "OK", "BizId": bizID, "RequestId": requestID})
}

// detail is one SmsSendDetailDTO.
type detail struct {
	PhoneNum, SendDate, ReceiveDate, Content, ErrCode, TemplateCode, OutId string
	SendStatus                                                             int
}

func (s *Server) querySendDetails(w http.ResponseWriter, r *http.Request, p map[string]string) {
	c := Call{Action: "QuerySendDetails", Phones: 1}
	if p["PhoneNumber"] == "" || len(p["SendDate"]) != 8 || p["PageSize"] == "" || p["CurrentPage"] == "" {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_PARAMETERS", Message: "PhoneNumber, SendDate (yyyyMMdd), PageSize and CurrentPage are required"})
		return
	}
	if s.applyFault(w, r, c, []string{p["PhoneNumber"]}) {
		return
	}
	cst := time.FixedZone("CST", 8*3600)
	var details []detail
	s.mu.Lock()
	for _, m := range s.messages {
		if m.Phone != p["PhoneNumber"] || (p["BizId"] != "" && m.BizID != p["BizId"]) || m.SentAt.In(cst).Format("20060102") != p["SendDate"] {
			continue
		}
		now := m.SentAt.In(cst).Format(time.DateTime)
		content := m.Text
		if content == "" {
			content = "【" + m.SignName + "】" + m.TemplateCode
		}
		d := detail{PhoneNum: m.Phone, SendDate: now, ReceiveDate: now, Content: content,
			ErrCode: "DELIVERED", TemplateCode: m.TemplateCode, OutId: m.OutID, SendStatus: 3}
		if rep, ok := s.reports[m.Phone]; ok {
			d.ErrCode, d.SendStatus = rep.errCode, rep.status
		}
		details = append(details, d)
	}
	s.calls = append(s.calls, Call{Action: "QuerySendDetails", Phones: 1, Code: "OK", Status: http.StatusOK})
	s.mu.Unlock()
	_, requestID := s.newIDs()
	writeJSON(w, http.StatusOK, map[string]any{
		"Code": "OK", "Message": "OK", "RequestId": requestID, "TotalCount": len(details),
		"SmsSendDetailDTOs": map[string]any{"SmsSendDetailDTO": details},
	})
}

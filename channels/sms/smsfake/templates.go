package smsfake

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Template is an SMS template filed on the fake's account. Once any
// template is filed, the fake checks sends as Aliyun does: the code must
// name an approved template, and TemplateParam must fill every variable of
// its text; each accepted message records the text the phone shows.
type Template struct {
	Code    string
	Name    string
	Type    int    // Aliyun's OuterTemplateType: 0 code, 1 notice, 2 promotional
	Content string // the approved text, variables written ${name}
	// Status is AUDIT_STATE_PASS (the default when empty), AUDIT_STATE_INIT
	// or AUDIT_STATE_NOT_PASS.
	Status string
}

const approved = "AUDIT_STATE_PASS"

var variable = regexp.MustCompile(`\$\{([^{}]*)\}`)

// AddTemplate files t on the fake's account (approved unless t.Status says
// otherwise).
func (s *Server) AddTemplate(t Template) {
	if t.Status == "" {
		t.Status = approved
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.templates == nil {
		s.templates = map[string]Template{}
	}
	s.templates[t.Code] = t
	s.templateOrder = append(s.templateOrder, t.Code)
}

// render checks a message against the filed templates and returns the
// text the phone shows. With no template filed the fake takes any code
// and records no text.
func (s *Server) render(code, sign string, params map[string]string) (string, *apiError) {
	s.mu.Lock()
	t, ok := s.templates[code]
	strict := len(s.templates) > 0
	s.mu.Unlock()
	if !strict {
		return "", nil
	}
	if !ok || t.Status != approved {
		return "", &apiError{Status: http.StatusOK, Code: "isv.SMS_TEMPLATE_ILLEGAL", Message: "该账号下找不到对应模板"}
	}
	var missing bool
	text := variable.ReplaceAllStringFunc(t.Content, func(v string) string {
		value, ok := params[v[2:len(v)-1]]
		missing = missing || !ok
		return value
	})
	if missing {
		return "", &apiError{Status: http.StatusOK, Code: "isv.TEMPLATE_MISSING_PARAMETERS", Message: "模板缺少变量"}
	}
	return "【" + sign + "】" + text, nil
}

// smsTemplate is one SmsTemplateList entry of QuerySmsTemplateList.
type smsTemplate struct {
	TemplateCode, TemplateName, AuditStatus, TemplateContent, CreateDate string
	OuterTemplateType, TemplateType                                      int
}

func (s *Server) querySmsTemplateList(w http.ResponseWriter, r *http.Request, p map[string]string) {
	c := Call{Action: "QuerySmsTemplateList"}
	page, size := atoiOr(p["PageIndex"], 1), atoiOr(p["PageSize"], 10)
	if page < 1 || size < 1 || size > 50 {
		s.answerError(w, c, apiError{Status: http.StatusOK, Code: "isv.INVALID_PARAMETERS", Message: "PageIndex from 1, PageSize 1 to 50"})
		return
	}
	if s.applyFault(w, r, c, nil) {
		return
	}
	s.mu.Lock()
	list := make([]smsTemplate, 0, size)
	for i := (page - 1) * size; i < len(s.templateOrder) && len(list) < size; i++ {
		t := s.templates[s.templateOrder[i]]
		list = append(list, smsTemplate{TemplateCode: t.Code, TemplateName: t.Name, AuditStatus: t.Status,
			TemplateContent: t.Content, CreateDate: "2026-12-01 10:00:00", OuterTemplateType: t.Type, TemplateType: t.Type})
	}
	total := len(s.templateOrder)
	s.calls = append(s.calls, Call{Action: c.Action, Code: "OK", Status: http.StatusOK})
	s.mu.Unlock()
	_, requestID := s.newIDs()
	writeJSON(w, http.StatusOK, map[string]any{"Code": "OK", "Message": "OK", "RequestId": requestID, "TotalCount": total,
		"CurrentPage": page, "PageSize": size, "SmsTemplateList": list})
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n
	}
	return def
}

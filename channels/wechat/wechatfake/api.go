package wechatfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// route finds the account a request is for (by appid, or by the prefix of
// its access token) and serves it.
func route(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var body map[string]any
	if r.Method == http.MethodPost {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeErr(w, 47001) // data format error
			return
		}
	}
	key := q.Get("appid")
	if r.URL.Path == "/cgi-bin/stable_token" {
		key, _ = body["appid"].(string)
	}
	if tok := q.Get("access_token"); tok != "" {
		key, _, _ = strings.Cut(strings.TrimPrefix(tok, "FAKE"), "_")
	}
	shared.mu.Lock()
	s := shared.servers[key]
	shared.mu.Unlock()
	if s == nil {
		if q.Get("access_token") != "" {
			writeErr(w, 40001)
		} else {
			writeErr(w, 40013)
		}
		return
	}
	s.serve(w, r, body)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, body map[string]any) {
	s.mu.Lock()
	delay := s.delay
	status := 0
	if len(s.statusNext) > 0 {
		status, s.statusNext = s.statusNext[0], s.statusNext[1:]
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/token":
		s.issueToken(w, q.Get("appid"), q.Get("secret"))
	case "/cgi-bin/stable_token":
		appID, _ := body["appid"].(string)
		secret, _ := body["secret"].(string)
		s.issueToken(w, appID, secret)
	case "/sns/oauth2/access_token":
		s.exchangeCode(w, q.Get("secret"), q.Get("code"))
	case "/cgi-bin/message/template/send", "/cgi-bin/message/subscribe/bizsend",
		"/cgi-bin/message/subscribe/send", "/cgi-bin/message/custom/send":
		s.send(w, r.URL.Path, q.Get("access_token"), body)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) issueToken(w http.ResponseWriter, appID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if appID != s.AppID || secret != s.AppSecret {
		writeErr(w, 40125)
		return
	}
	if s.token == "" { // WeChat hands out the valid token until it expires
		s.generation++
		s.token = fmt.Sprintf("FAKE%s_%d_%s", s.id, s.generation, randHex(8))
	}
	s.tokenFetches++
	writeJSON(w, map[string]any{"access_token": s.token, "expires_in": 7200})
}

func (s *Server) exchangeCode(w http.ResponseWriter, secret, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if secret != s.AppSecret {
		writeErr(w, 40125)
		return
	}
	c, ok := s.oauthCodes[code]
	if !ok {
		writeErr(w, 40029)
		return
	}
	if c.used {
		writeErr(w, 40163)
		return
	}
	c.used = true
	s.oauthCodes[code] = c
	res := map[string]any{"access_token": "user" + randHex(8), "expires_in": 7200,
		"refresh_token": randHex(8), "openid": c.openID, "scope": "snsapi_base"}
	if c.snapshot {
		res["is_snapshotuser"] = 1
	}
	writeJSON(w, res)
}

func (s *Server) send(w http.ResponseWriter, path, token string, body map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != s.token || s.token == "" {
		writeErr(w, 40001)
		return
	}
	if len(s.failNext) > 0 {
		code := s.failNext[0]
		s.failNext = s.failNext[1:]
		writeErr(w, code)
		return
	}
	m := Sent{ToUser: str(body["touser"]), TemplateID: str(body["template_id"]),
		URL: str(body["url"]), Page: str(body["page"]), ClientMsgID: str(body["client_msg_id"])}
	if m.ToUser == "" {
		writeErr(w, 40003)
		return
	}
	if code, ok := s.failOpenID[m.ToUser]; ok {
		writeErr(w, code)
		return
	}
	if data, ok := body["data"].(map[string]any); ok {
		m.Data = map[string]string{}
		for k, v := range data {
			item, _ := v.(map[string]any)
			m.Data[k] = str(item["value"])
		}
	}
	switch {
	case strings.Contains(path, "/template/"):
		m.API = "template"
		if m.TemplateID == "" {
			writeErr(w, 40037)
			return
		}
		// client_msg_id: one message per openid+id (WeChat: within ~10 min).
		dedup := m.ToUser + "\x00" + m.ClientMsgID
		if id, seen := s.clientMsgIDs[dedup]; seen && m.ClientMsgID != "" {
			writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": id})
			return
		}
		s.nextMsgID++
		m.MsgID = s.nextMsgID
		s.clientMsgIDs[dedup] = m.MsgID
		s.sent = append(s.sent, m)
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": m.MsgID})
		return
	case strings.Contains(path, "/subscribe/"):
		m.API = "subscribe"
		if m.TemplateID == "" {
			writeErr(w, 40037)
			return
		}
	default:
		m.API = "custom"
		text, _ := body["text"].(map[string]any)
		m.Text = str(text["content"])
		if str(body["msgtype"]) != "text" || m.Text == "" {
			writeErr(w, 47001)
			return
		}
	}
	s.sent = append(s.sent, m)
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok"})
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

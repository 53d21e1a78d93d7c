package wechatfake

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// Callback describes a push WeChat would send to /hooks/wechat.
type Callback struct {
	Token          string
	AppID          string // safe mode
	EncodingAESKey string // safe mode
	Body           string // the plain XML
	AES            bool
	Time           time.Time // default now
	Nonce          string    // default random
	Path           string    // default /hooks/wechat
}

// SignedCallback returns a POST of xmlBody signed with this account's
// token, encrypted in safe mode when aes.
func (s *Server) SignedCallback(xmlBody string, aes bool) *http.Request {
	return Callback{Token: s.Token, AppID: s.AppID, EncodingAESKey: s.EncodingAESKey, Body: xmlBody, AES: aes}.Request()
}

// VerifyURL returns WeChat's signed GET that checks the callback URL.
func (s *Server) VerifyURL(echostr string) *http.Request {
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), randHex(5)
	q := url.Values{"signature": {util.Signature(s.Token, ts, nonce)}, "timestamp": {ts},
		"nonce": {nonce}, "echostr": {echostr}}
	return httptest.NewRequest(http.MethodGet, "/hooks/wechat?"+q.Encode(), nil)
}

// Request builds the signed POST.
func (c Callback) Request() *http.Request {
	if c.Time.IsZero() {
		c.Time = time.Now()
	}
	if c.Nonce == "" {
		c.Nonce = randHex(5)
	}
	if c.Path == "" {
		c.Path = "/hooks/wechat"
	}
	ts := strconv.FormatInt(c.Time.Unix(), 10)
	q := url.Values{"signature": {util.Signature(c.Token, ts, c.Nonce)}, "timestamp": {ts},
		"nonce": {c.Nonce}, "openid": {"ofake"}}
	body := c.Body
	if c.AES {
		enc, err := util.EncryptMsg(randBytes(16), []byte(c.Body), c.AppID, c.EncodingAESKey)
		if err != nil {
			panic("wechatfake: " + err.Error())
		}
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(c.Token, ts, c.Nonce, string(enc)))
		body = "<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	}
	r := httptest.NewRequest(http.MethodPost, c.Path+"?"+q.Encode(), strings.NewReader(body))
	r.Header.Set("Content-Type", "text/xml")
	return r
}

// DecryptReply checks the signature of a safe-mode reply and returns its
// plain content.
func (s *Server) DecryptReply(body []byte) (string, error) {
	var reply struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
		TimeStamp    string `xml:"TimeStamp"`
		Nonce        string `xml:"Nonce"`
	}
	if err := xml.Unmarshal(body, &reply); err != nil {
		return "", err
	}
	if reply.MsgSignature != util.Signature(s.Token, reply.TimeStamp, reply.Nonce, reply.Encrypt) {
		return "", errors.New("wechatfake: reply signature does not match")
	}
	_, plain, err := util.DecryptMsg(s.AppID, reply.Encrypt, s.EncodingAESKey)
	return string(plain), err
}

// TextXML is a customer's text message as WeChat pushes it.
func TextXML(openID, content string, msgID int64) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`,
		openID, time.Now().Unix(), content, msgID)
}

// EventXML is an event push (subscribe, unsubscribe…) created at created.
func EventXML(openID, event string, created time.Time) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event></xml>`,
		openID, created.Unix(), event)
}

// TemplateFinishXML is the TEMPLATESENDJOBFINISH receipt of template
// message msgID; status is "success" or WeChat's failure text (e.g.
// "failed:user block").
func TemplateFinishXML(openID string, msgID int64, status string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>`+
		`<MsgID>%d</MsgID><Status><![CDATA[%s]]></Status></xml>`,
		openID, time.Now().Unix(), msgID, status)
}

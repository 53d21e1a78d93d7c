package sms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// reportItem is one SmsReport entry. Fields are decoded tolerantly: Aliyun
// has sent numbers as strings and booleans as "true" over the years.
type reportItem struct {
	PhoneNumber flexString `json:"phone_number"`
	SendTime    flexString `json:"send_time"`
	ReportTime  flexString `json:"report_time"`
	Success     flexBool   `json:"success"`
	ErrCode     flexString `json:"err_code"`
	ErrMsg      flexString `json:"err_msg"`
	SmsSize     flexString `json:"sms_size"`
	BizID       flexString `json:"biz_id"`
	OutID       flexString `json:"out_id"`
}

// upItem is one SmsUp entry; sequence_id is a number in old docs and a
// string in new ones.
type upItem struct {
	PhoneNumber flexString `json:"phone_number"`
	Content     flexString `json:"content"`
	SendTime    flexString `json:"send_time"`
	DestCode    flexString `json:"dest_code"`
	SequenceID  flexString `json:"sequence_id"`
	SignName    flexString `json:"sign_name"`
}

// decodeArray decodes a JSON array of objects with clear, content-free
// errors.
func decodeArray(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '[' {
		return errors.New("expected a JSON array of objects")
	}
	err := json.Unmarshal(body, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Errorf("field %s: unexpected JSON %s", typ.Field, typ.Value)
		}
		return errors.New("expected a JSON array of objects")
	default:
		return err // from flexString/flexBool: names no content
	}
}

// flexString accepts a JSON string, number, boolean or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	case b[0] == '{' || b[0] == '[':
		return errors.New("a field holds an object or array where text or a number belongs")
	case string(b) == "null":
		*f = ""
	default: // number, true, false: keep the literal
		*f = flexString(b)
	}
	return nil
}

// flexBool accepts true/false, "true"/"false", 1/0, "1"/"0" and null.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(b), `"`)) {
	case "true", "1":
		*f = true
	case "false", "0", "", "null":
		*f = false
	default:
		return errors.New("a boolean field holds something other than true or false")
	}
	return nil
}

// normalizePhone turns a number as Aliyun reports it into E.164: 11-digit
// mainland numbers (with or without 86/0086) get +86, other digit strings
// are taken as country code + number. Anything else is kept as given.
func normalizePhone(p string) string {
	p = strings.TrimSpace(p)
	switch {
	case strings.HasPrefix(p, "+"):
		return p
	case strings.HasPrefix(p, "00") && allDigits(p):
		return "+" + p[2:]
	case !allDigits(p):
		return p
	case len(p) == 11 && p[0] == '1':
		return "+86" + p
	default:
		return "+" + p
	}
}

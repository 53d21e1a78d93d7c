package wechat

import (
	"encoding/xml"
	"errors"
	"strconv"
	"time"

	"github.com/handoverhq/handover/channels"
)

// inboundXML is the part of a pushed message or event Handover reads.
// Element names are case-sensitive: user messages carry MsgId, template
// receipts MsgID.
type inboundXML struct {
	XMLName       xml.Name `xml:"xml"`
	ToUserName    string   `xml:"ToUserName"`
	FromUserName  string   `xml:"FromUserName"`
	CreateTime    int64    `xml:"CreateTime"`
	MsgType       string   `xml:"MsgType"`
	MsgID         int64    `xml:"MsgId"`
	TemplateMsgID int64    `xml:"MsgID"`
	Content       string   `xml:"Content"`
	Event         string   `xml:"Event"`
	Status        string   `xml:"Status"`
}

var (
	errNoSender  = errors.New("push has no FromUserName or MsgType")
	errNoReceipt = errors.New("template receipt has no MsgID")
)

// inboundEvents maps one push to the events Handover stores; pushes it
// does not use (menu clicks, location reports…) give none.
func inboundEvents(p *inboundXML) ([]channels.InboundEvent, error) {
	if p.FromUserName == "" || p.MsgType == "" {
		return nil, errNoSender
	}
	ev := channels.InboundEvent{
		Channel: channels.WeChat,
		From:    channels.Address{OpenID: p.FromUserName},
		To:      p.ToUserName,
	}
	if p.CreateTime > 0 {
		ev.OccurredAt = time.Unix(p.CreateTime, 0).UTC()
	}
	created := strconv.FormatInt(p.CreateTime, 10)
	switch p.MsgType {
	case "text", "image", "voice", "video", "shortvideo", "location", "link":
		ev.Kind = channels.EventMessage
		ev.Text = p.Content
		if p.MsgType != "text" {
			ev.Text = "[" + p.MsgType + "]" // staff see that the customer wrote
		}
		ev.DedupKey = strconv.FormatInt(p.MsgID, 10)
		if p.MsgID == 0 {
			ev.DedupKey = p.FromUserName + ":" + created + ":" + p.MsgType
		}
	case "event":
		switch p.Event {
		case "subscribe":
			ev.Kind = channels.EventSubscribe
		case "unsubscribe":
			ev.Kind = channels.EventUnsubscribe
		case "TEMPLATESENDJOBFINISH":
			if p.TemplateMsgID == 0 {
				return nil, errNoReceipt
			}
			ev.Kind = channels.EventReceipt
			ev.ProviderMessageID = strconv.FormatInt(p.TemplateMsgID, 10)
			ev.Status = channels.StatusDelivered
			if p.Status != "success" {
				ev.Status, ev.ErrorCode = channels.StatusFailed, p.Status
			}
			// One receipt per template message: its msgid is the key.
			ev.DedupKey = "receipt:" + ev.ProviderMessageID
			return []channels.InboundEvent{ev}, nil
		default:
			return nil, nil
		}
		ev.DedupKey = p.FromUserName + ":" + created + ":" + p.Event
	default:
		return nil, nil
	}
	return []channels.InboundEvent{ev}, nil
}

package portal

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/incidents"
)

// incidentView is what an incident notice's link shows (PIPL Art. 57):
// what happened, which of the customer's data, what the company did, what
// the customer can do, and whom to contact.
type incidentView struct {
	Title, Heading, Intro             string
	What, Occurred, Discovered        string
	Data                              []string
	Measures, Advice, Contact         string
	LabelWhat, LabelWhen, LabelData   string
	LabelMeasures, LabelAdvice        string
	LabelContact, LabelDiscovered     string
	ActionMyData, ActionContactPortal string
}

// incidentText is the incident page's words, per language.
var incidentText = map[string]incidentView{
	"zh-CN": {Heading: "个人信息安全事件告知", Intro: "根据《个人信息保护法》第五十七条，我们告知您一起可能涉及您个人信息的安全事件。",
		LabelWhat: "发生了什么", LabelWhen: "发生时间", LabelDiscovered: "发现时间", LabelData: "涉及您的哪些信息",
		LabelMeasures: "我们已采取的措施", LabelAdvice: "您可以采取的措施", LabelContact: "事件联系人",
		Advice:       "请警惕冒充我司或接收方的电话、短信和邮件，不要向他人透露验证码或密码；如发现异常，请及时联系我们。您可以在“我的数据”中查看我们保存的您的信息。",
		ActionMyData: "查看我的数据", ActionContactPortal: "联系我们"},
	"en": {Heading: "Personal information incident notice", Intro: "Under Art. 57 of the Personal Information Protection Law, we are telling you about an incident that may involve your personal information.",
		LabelWhat: "What happened", LabelWhen: "When it happened", LabelDiscovered: "When we found it", LabelData: "Which of your information",
		LabelMeasures: "What we have done", LabelAdvice: "What you can do", LabelContact: "Whom to contact",
		Advice:       "Be wary of calls, texts and emails claiming to be from us or the new owner; never share codes or passwords. If you notice anything unusual, contact us. Under My data you can see what we hold about you.",
		ActionMyData: "See my data", ActionContactPortal: "Contact us"},
}

// incidentPage is a portal page with the incident it is about.
type incidentPage struct {
	*portalView
	Incident incidentView
}

// portalIncident answers an incident notice's link with the incident page
// and reports true; for any other link it does nothing and reports false.
func (s *Portal) portalIncident(c echo.Context) (bool, error) {
	l := portalLinkOf(c)
	if l.CampaignID == "" || s.incidents == nil {
		return false, nil
	}
	in, err := s.incidents.FindIncidentByNoticeCampaign(c.Request().Context(), l.CampaignID)
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return false, nil
	} else if err != nil {
		return true, err
	}
	v := s.newPortalView(c)
	return true, s.renderIncident(c, &incidentPage{portalView: v, Incident: newIncidentView(in, v)})
}

func newIncidentView(in *incidents.Incident, v *portalView) incidentView {
	iv := incidentText[v.Lang]
	iv.Title, iv.What, iv.Measures, iv.Contact = in.Title, in.Cause, in.Measures, in.Contact
	iv.Occurred, iv.Discovered = in.OccurredAt.Format("2006-01-02"), in.DiscoveredAt.Format("2006-01-02")
	for _, cat := range in.DataCategories {
		if label := v.T["cat_"+cat]; label != "" {
			iv.Data = append(iv.Data, label)
		} else {
			iv.Data = append(iv.Data, cat)
		}
	}
	return iv
}

func (s *Portal) renderIncident(c echo.Context, p *incidentPage) error {
	var buf bytes.Buffer
	if err := s.pages["incident"].Execute(&buf, p); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

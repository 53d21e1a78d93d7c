package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/links"
)

// portalText is every word the portal shows, per language.
var portalText = portalTable()

func portalTable() map[string]map[string]string {
	out := map[string]map[string]string{"zh-CN": {}, "en": {}}
	for k, v := range map[string][2]string{ // key → {zh-CN, en}
		"title":                            {"客户信息转移告知", "Notice of transfer of your data"},
		"nav_notice":                       {"告知书", "Notice"},
		"nav_consent":                      {"同意设置", "Consent"},
		"nav_survey":                       {"满意度调查", "Survey"},
		"nav_contact":                      {"联系我们", "Contact us"},
		"contact_intro":                    {"有问题或意见？写下来，我们的客服会尽快回复您。", "A question or a concern? Write it here and our service team will answer soon."},
		"contact_label":                    {"您的留言", "Your message"},
		"contact_empty":                    {"请写下您的留言（最多 2000 字）。", "Please write your message (2,000 characters at most)."},
		"contact_sent":                     {"留言已收到", "Message received"},
		"contact_sent_detail":              {"我们的客服会通过您常用的方式回复您。", "Our service team will reply through the channel you usually use."},
		"nav_optout":                       {"退订", "Unsubscribe"},
		"lbl_name":                         {"姓名", "Name"},
		"lbl_phone":                        {"手机号码", "Phone number"},
		"lbl_email":                        {"电子邮箱", "Email address"},
		"lbl_address":                      {"地址", "Address"},
		"lbl_company":                      {"公司名称", "Company"},
		"lbl_region":                       {"地区", "Region"},
		"lbl_wechat":                       {"微信标识", "WeChat identifier"},
		"nav_details":                      {"信息核对", "My details"},
		"nav_mydata":                       {"我的数据", "My data"},
		"details_intro":                    {"以下是我们保存的您的信息（部分隐藏）。如有错误，请在下方提出更正。", "This is what we hold about you, partly hidden. If something is wrong, propose a correction below."},
		"details_propose":                  {"提出更正", "Propose a correction"},
		"details_propose_intro":            {"只填写需要更正的项目，其余留空。更改手机或邮箱需要向新号码或新邮箱发送验证码。", "Fill in only what needs correcting and leave the rest empty. A new phone or email needs a code sent to it."},
		"details_submit":                   {"提交更正申请", "Send the correction"},
		"details_saved":                    {"您的申请已提交", "Your request is with our staff"},
		"details_saved_detail":             {"工作人员审核通过前，您的信息不会有任何改变。", "Nothing changes until a staff member approves it."},
		"back_details":                     {"返回信息核对", "Back to my details"},
		"details_open_pending":             {"您有一项更正申请正在等待工作人员审核。提交新的申请将替换它。", "A correction you sent is waiting for our staff. Sending a new one replaces it."},
		"details_open_code":                {"您有一项更正申请正在等待验证码。", "A correction you sent is waiting for its code."},
		"details_enter_code":               {"输入验证码", "Enter the code"},
		"details_same":                     {"填写的内容与现有信息相同，无需更正。", "What you entered is what we already hold: nothing to correct."},
		"details_one_contact":              {"请分开更改手机和邮箱：每项都需要单独的验证码。", "Change the phone and the email one at a time: each needs its own code."},
		"details_bad_phone":                {"手机号码格式不正确。", "That phone number does not look right."},
		"details_bad_email":                {"电子邮箱格式不正确。", "That email address does not look right."},
		"details_bad":                      {"请检查填写的内容（过长或含有无效字符）。", "Please check what you entered (too long, or characters we cannot keep)."},
		"code_title":                       {"输入验证码", "Enter the code"},
		"code_sent_to":                     {"我们已向以下号码或邮箱发送了 6 位验证码，10 分钟内有效：", "We sent a 6-digit code, valid for 10 minutes, to "},
		"code_label":                       {"验证码", "Code"},
		"code_send":                        {"发送验证码", "Send me a code"},
		"code_resend":                      {"没有收到？重新发送", "Did not get it? Send again"},
		"code_resent":                      {"新的验证码已发送，之前的验证码仍可使用至过期。", "A new code is on its way."},
		"code_wrong":                       {"验证码错误或已过期，请重新获取。", "The code is wrong or has expired; ask for a new one."},
		"code_wait_minute":                 {"验证码刚刚发送，请一分钟后再试。", "A code was sent less than a minute ago; wait a minute before asking again."},
		"code_wait_hour":                   {"一小时内发送次数过多，请稍后再试。", "Too many codes in the last hour; try again later."},
		"mydata_intro":                     {"为保护您的信息，查看前需要验证。请选择接收验证码的方式。", "To protect your data we first check it is you. Choose where to get a code."},
		"mydata_via_phone":                 {"短信发送至 ", "By SMS to "},
		"mydata_via_email":                 {"邮件发送至 ", "By email to "},
		"mydata_via_wechat":                {"微信消息发送至本公众号关注的微信", "By WeChat message to the WeChat that follows us"},
		"mydata_wechat_to":                 {"您的微信", "your WeChat"},
		"mydata_wechat_failed":             {"验证码未能通过微信发送。请先在公众号里给我们发一条消息，再重试；或选择手机、邮箱。", "The code could not be sent by WeChat. Send us a message in our official account first and try again, or choose your phone or email."},
		"mydata_pick":                      {"请选择手机、邮箱或微信。", "Please choose your phone, your email or WeChat."},
		"mydata_held":                      {"以下是我们保存的关于您的全部信息。您可以下载一份副本。此页 15 分钟内有效。", "This is everything we hold about you. You can download a copy. This page stays open for 15 minutes."},
		"mydata_json":                      {"下载 JSON", "Download JSON"},
		"mydata_csv":                       {"下载 CSV（表格）", "Download CSV (spreadsheet)"},
		"mydata_corrections":               {"更正申请", "Correction requests"},
		"mydata_messages":                  {"发送给您的消息", "Messages sent to you"},
		"mydata_none":                      {"无", "None"},
		"decision_granted":                 {"同意", "agreed"},
		"decision_declined":                {"不同意", "did not agree"},
		"decision_withdrawn":               {"撤回同意", "withdrew consent"},
		"correction_awaiting_confirmation": {"等待验证码", "waiting for the code"},
		"correction_pending":               {"等待审核", "with our staff"},
		"correction_approved":              {"已更正", "corrected"},
		"correction_rejected":              {"未通过", "not accepted"},
		"correction_cancelled":             {"已取消", "cancelled"},
		"notice_intro":                     {"%s 的业务将转让给 %s。以下说明您的个人信息将如何转移及您享有的权利。", "%s is transferring its business to %s. This page explains how your personal data moves and what your rights are."},
		"sec_who":                          {"谁在转让", "Who is transferring"},
		"who_body":                         {"转让方：%s；接收方：%s；生效日期：%s。", "Seller: %s. Buyer: %s. Effective from %s."},
		"buyer_label":                      {"接收方：", "Buyer: "},
		"sec_contact":                      {"接收方联系方式", "How to reach the buyer"},
		"sec_data":                         {"转移的信息", "What data moves"},
		"sec_purposes":                     {"使用目的", "For which purposes"},
		"sec_retention":                    {"保存期限", "How long it is kept"},
		"retention_body":                   {"自生效日起保存 %d 天，期满后删除。", "%d days from the effective date, then deleted."},
		"sec_rights":                       {"您的权利及行使方式", "Your rights and how to use them"},
		"rights_body":                      {"依据《个人信息保护法》第十七条、第二十二条及第四十四条至第四十七条，您有权知情、决定、查阅、复制、更正、删除您的个人信息，并可随时撤回同意。您可在本页“同意设置”中给予或撤回同意，在“退订”中停止接收消息，或通过上方联系方式联系接收方。", "Under China's Personal Information Protection Law (Art. 17, 22 and 44–47) you may know about, decide on, see, copy, correct and delete your personal data, and withdraw consent at any time. Use \"Consent\" on this page to give or withdraw consent, \"Unsubscribe\" to stop messages, or write to the buyer at the contact above."},
		"cat_name":                         {"姓名", "name"},
		"cat_phone":                        {"手机号码", "phone number"},
		"cat_email":                        {"电子邮箱", "email address"},
		"cat_wechat_openid":                {"微信标识", "WeChat identifier"},
		"cat_company":                      {"公司名称", "company"},
		"cat_address":                      {"地址", "address"},
		"cat_region":                       {"地区", "region"},
		"cat_tags":                         {"客户分类", "customer tags"},
		"list_sep":                         {"、", ", "},
		"go_consent":                       {"给予或撤回同意", "Give or withdraw consent"},
		"consent_intro":                    {"请就每项用途选择是否同意。您可以随时回到此页撤回同意。", "Choose for each purpose whether you agree. You can come back to this page at any time to withdraw."},
		"grant":                            {"同意", "Agree"},
		"decline":                          {"不同意", "Do not agree"},
		"state_granted":                    {"当前：已同意", "Now: agreed"},
		"state_declined":                   {"当前：未同意", "Now: not agreed"},
		"state_withdrawn":                  {"当前：已撤回", "Now: withdrawn"},
		"state_none":                       {"当前：尚未选择", "Now: not chosen yet"},
		"next":                             {"下一步", "Next"},
		"review_title":                     {"请确认您的选择", "Please confirm your choices"},
		"will_grant":                       {"同意", "You agree"},
		"will_decline":                     {"不同意", "You do not agree"},
		"will_withdraw":                    {"撤回同意", "You withdraw your consent"},
		"confirm":                          {"确认提交", "Confirm"},
		"change":                           {"返回修改", "Change"},
		"consent_saved":                    {"您的选择已记录", "Your choices are recorded"},
		"consent_saved_detail":             {"您可以随时回到“同意设置”撤回或更改。", "You can come back to \"Consent\" at any time to withdraw or change them."},
		"pick_all":                         {"请为每项用途选择“同意”或“不同意”。", "Please choose \"Agree\" or \"Do not agree\" for each purpose."},
		"survey_intro":                     {"感谢您抽出时间回答。", "Thank you for taking a moment to answer."},
		"nps_q":                            {"您有多大可能向朋友或同事推荐我们？（0 = 不可能，10 = 非常可能）", "How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely)"},
		"csat_q":                           {"您对我们的服务满意吗？（1 = 很不满意，5 = 非常满意）", "How satisfied are you with our service? (1 = very unsatisfied, 5 = very satisfied)"},
		"comment":                          {"其他意见（选填）", "Anything else? (optional)"},
		"submit":                           {"提交", "Submit"},
		"survey_saved":                     {"感谢您的反馈", "Thank you for your feedback"},
		"survey_saved_detail":              {"我们已收到您的回答。如需回复，我们的客服会与您联系。", "We have your answer. If it needs a reply, our service team will contact you."},
		"survey_long":                      {"意见请控制在 2000 字以内。", "Please keep your comment under 2,000 characters."},
		"survey_bad":                       {"请选择评分后再提交。", "Please pick a score before submitting."},
		"optout_intro":                     {"勾选您不想再接收的消息，保存后立即生效，尚未发送的相应消息不再发送。取消勾选即恢复接收。", "Tick the messages you no longer want. It takes effect when you save: such messages not sent yet will not be sent. Untick to get them again."},
		"optout_kind_promotional":          {"推广消息", "promotional messages"},
		"optout_kind_survey":               {"满意度调查", "surveys"},
		"optout_kind_service":              {"服务通知", "service messages"},
		"optout_hint_promotional":          {"优惠、活动等营销信息", "offers and other marketing"},
		"optout_hint_survey":               {"请您评价我们的服务", "asking you to rate our service"},
		"optout_hint_service":              {"征求同意、核对信息等", "asking for your consent, checking your details"},
		"optout_required":                  {"法律规定必须告知的通知（个人信息转移，《个人信息保护法》第二十二条；安全事件，第五十七条）无法退订，仍会发送给您。", "Notices the law requires (a transfer of your data, PIPL Art. 22; a security incident, Art. 57) cannot be stopped and still reach you."},
		"ch_sms":                           {"短信", "SMS"},
		"ch_email":                         {"电子邮件", "Email"},
		"ch_devbox":                        {"测试通道", "Test channel"},
		"ch_wechat":                        {"微信", "WeChat"},
		"optout_saved":                     {"已保存您的选择", "Your choices are saved"},
		"optout_change":                    {"修改选择", "Change your choices"},
		"optout_of":                        {"的", ": "},
		"optout_group_sep":                 {"；", "; "},
		"optout_end":                       {"。", ". "},
		"optout_none":                      {"您将接收全部消息。", "You get every kind of message. "},
		"optout_now":                       {"已退订：", "Stopped: "},
		"optout_all":                       {"全部退订", "Unsubscribe from all"},
		"optout_submit":                    {"保存", "Save"},
		"back_notice":                      {"返回告知书", "Back to the notice"},
		"gone_title":                       {"链接无法打开", "This link cannot be opened"},
		"gone_detail":                      {"链接可能已失效或输入有误。如需帮助，请联系我们。", "The link may no longer be valid, or it was mistyped. If you need help, please contact us."},
		"contact":                          {"联系方式：", "Contact: "},
		"problem_title":                    {"操作未完成", "That did not work"},
		"problem_generic":                  {"请稍后再试。", "Please try again in a moment."},
		"problem_form":                     {"页面已过期，请重新打开链接后再提交。", "The page expired; open the link again and resubmit."},
		"problem_large":                    {"提交的内容过长。", "What you sent is too long."},
	} {
		out["zh-CN"][k], out["en"][k] = v[0], v[1]
	}
	return out
}

// notice is the transfer notice a link shows (PIPL Art. 17, 22). Hash is
// the SHA-256 of its text, recorded with every decision made after it.
type notice struct {
	Intro    string
	Sections []noticeSection
	Hash     string
}

type noticeSection struct{ Title, Body string }

func buildNotice(t *customers.Transfer, l *links.Link, lang string, tx map[string]string) notice {
	cats := make([]string, len(t.DataCategories))
	for i, c := range t.DataCategories {
		cats[i] = tx["cat_"+c]
	}
	n := notice{Intro: fmt.Sprintf(tx["notice_intro"], t.SellerName, t.BuyerName), Sections: []noticeSection{
		{tx["sec_who"], fmt.Sprintf(tx["who_body"], t.SellerName, t.BuyerName, t.EffectiveDate)},
		{tx["sec_contact"], t.BuyerContact},
		{tx["sec_data"], strings.Join(cats, tx["list_sep"])},
		{tx["sec_purposes"], strings.Join(l.Purposes, tx["list_sep"])},
		{tx["sec_retention"], fmt.Sprintf(tx["retention_body"], t.RetentionDays)},
		{tx["sec_rights"], tx["rights_body"]},
	}}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", lang, n.Intro)
	for _, s := range n.Sections {
		fmt.Fprintf(h, "%s\n%s\n", s.Title, s.Body)
	}
	n.Hash = hex.EncodeToString(h.Sum(nil))
	return n
}

package web

import (
	"fmt"
	"time"
)

// translate returns the text of a message key in locale (zh-CN or en),
// the key itself when it has none, so a missing text shows, not blanks.
func translate(locale, key string) string {
	t, ok := messages[key]
	if !ok {
		if t, ok = governanceMessages[key]; !ok {
			return key
		}
	}
	if locale == "en" {
		return t[0]
	}
	return t[1]
}

// relative says how long ago t was, in the member's language; a time more
// than a week old is shown as a date in zone.
func relative(locale string, now, t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	zh := locale != "en"
	switch {
	case d < 0:
		return t.In(zone).Format("2006-01-02 15:04")
	case d < time.Minute:
		return map[bool]string{true: "刚刚", false: "just now"}[zh]
	case d < time.Hour:
		return unit(zh, int(d/time.Minute), "分钟前", "min ago")
	case d < 24*time.Hour:
		return unit(zh, int(d/time.Hour), "小时前", "h ago")
	case d < 7*24*time.Hour:
		return unit(zh, int(d/(24*time.Hour)), "天前", "d ago")
	}
	return t.In(zone).Format("2006-01-02")
}

func unit(zh bool, n int, zhUnit, enUnit string) string {
	if zh {
		return fmt.Sprintf("%d %s", n, zhUnit)
	}
	return fmt.Sprintf("%d %s", n, enUnit)
}

// messages are the dashboard's texts: key → {en, zh-CN}.
var messages = map[string][2]string{
	"app.name":                    {"Handover", "Handover 客户交接"},
	"nav.tickets":                 {"Tickets", "工单"},
	"nav.customers":               {"Customers", "客户"},
	"nav.campaigns":               {"Campaigns", "群发活动"},
	"nav.templates":               {"Templates", "消息模板"},
	"nav.devbox":                  {"Devbox outbox", "开发发件箱"},
	"nav.staff":                   {"Staff", "员工"},
	"nav.account":                 {"My account", "我的账户"},
	"nav.logout":                  {"Sign out", "退出登录"},
	"nav.search":                  {"Search customers (phone, email or name)", "搜索客户(手机号、邮箱或姓名)"},
	"nav.shortcuts":               {"Keyboard shortcuts", "键盘快捷键"},
	"keys.help":                   {"Show this list", "显示本列表"},
	"keys.search":                 {"Search customers", "搜索客户"},
	"keys.next":                   {"Next row", "下一行"},
	"keys.prev":                   {"Previous row", "上一行"},
	"keys.open":                   {"Open the selected row", "打开所选行"},
	"keys.close":                  {"Close", "关闭"},
	"login.title":                 {"Sign in", "登录"},
	"login.email":                 {"Email", "邮箱"},
	"login.password":              {"Password", "密码"},
	"login.code":                  {"Authenticator code (if two-step sign-in is on)", "动态验证码(如已开启两步验证)"},
	"login.submit":                {"Sign in", "登录"},
	"login.hint":                  {"The first admin's password was printed when Handover first started (or use: handover user add).", "首个管理员的密码在首次启动时打印在终端(或使用 handover user add 创建)。"},
	"error.title":                 {"Something stopped this page", "无法完成此操作"},
	"error.Bad Request":           {"The request is not valid", "请求无效"},
	"error.Unauthorized":          {"Please sign in", "请登录"},
	"error.Forbidden":             {"Not allowed", "无权操作"},
	"error.Not Found":             {"Not found", "未找到"},
	"error.Conflict":              {"That cannot be done now", "当前状态不允许此操作"},
	"error.Too Many Requests":     {"Too many attempts", "尝试次数过多"},
	"error.Internal Server Error": {"Something went wrong on our side", "系统内部错误"},
	"error.Service Unavailable":   {"Temporarily unavailable", "暂时不可用"},
	"error.generic":               {"The error is logged; try again, or tell an admin the time it happened.", "错误已记录;请重试,或将发生时间告诉管理员。"},
	"error.back":                  {"Go back", "返回"},
	"error.login":                 {"Sign in", "去登录"},
	"tickets.empty.title":         {"No tickets yet", "暂无工单"},
	"tickets.empty.body":          {"Tickets arrive when customers reply: a WeChat message, an SMS reply or an email reply to a campaign, or the contact form on their personal page. Opt-outs such as 退订 or TD are handled without a ticket.", "客户回复时会生成工单:微信消息、短信回复、邮件回复,或客户在个人链接页面提交的联系表单。「退订」「TD」等退订回复会自动处理,不生成工单。"},
	"tickets.empty.next":          {"Start a campaign to reach customers", "创建群发活动联系客户"},
	"customers.search":            {"Search", "搜索"},
	"customers.placeholder":       {"Phone or email (exact), or part of a name", "手机号或邮箱(精确匹配),或姓名的一部分"},
	"customers.none":              {"No customer matches. Phone and email must be complete; a name search covers the first customers only.", "没有匹配的客户。手机号和邮箱须完整输入;按姓名搜索只覆盖前若干位客户。"},
	"customers.scanned":           {"Name search looked through this many customers:", "按姓名搜索已查看的客户数:"},
	"customers.more":              {"More", "更多"},
	"customers.masked":            {"Personal details are masked. Reveal them only when your work needs it.", "个人信息已脱敏显示。仅在工作需要时查看完整信息。"},
	"col.name":                    {"Name", "姓名"},
	"col.phone":                   {"Phone", "手机号"},
	"col.email":                   {"Email", "邮箱"},
	"col.region":                  {"Region", "地区"},
	"col.tags":                    {"Tags", "标签"},
	"col.status":                  {"Status", "状态"},
	"col.created":                 {"Added", "创建时间"},
	"col.company":                 {"Company", "公司"},
	"col.address":                 {"Address", "地址"},
	"col.wechat":                  {"WeChat openid", "微信 openid"},
	"col.role":                    {"Role", "角色"},
	"col.channel":                 {"Channel", "渠道"},
	"col.kind":                    {"Kind", "类型"},
	"col.locale":                  {"Language", "语言"},
	"col.version":                 {"Version", "版本"},
	"col.progress":                {"Progress", "进度"},
	"col.when":                    {"When", "时间"},
	"col.to":                      {"To", "收件人"},
	"col.message":                 {"Message", "内容"},
	"col.link":                    {"Link", "链接"},
	"col.purpose":                 {"Purpose", "用途"},
	"col.decision":                {"Decision", "决定"},
	"col.source":                  {"Source", "来源"},
	"col.evidence":                {"Evidence", "证据"},
	"col.actions":                 {"Actions", "操作"},
	"reveal.title":                {"Reveal personal details", "查看完整个人信息"},
	"reveal.reason":               {"Reason (required; it is written to the audit log with your name)", "原因(必填;将与您的姓名一起写入审计日志)"},
	"reveal.submit":               {"Reveal", "查看"},
	"reveal.done":                 {"Shown unmasked: this view was written to the audit log with your reason.", "已显示完整信息:本次查看及原因已写入审计日志。"},
	"reveal.hide":                 {"Mask again", "重新脱敏"},
	"consent.title":               {"Consent history", "同意记录"},
	"consent.none":                {"No consent decisions recorded yet.", "尚无同意记录。"},
	"campaigns.new":               {"New campaign", "新建活动"},
	"campaigns.empty.title":       {"No campaigns yet", "还没有群发活动"},
	"campaigns.empty.body":        {"Most transfers start with the transfer notice: who the buyer is, from when, and how customers can object (PIPL Art. 22). The default templates are ready.", "大多数交接从转让告知开始:告诉客户受让方是谁、何时生效、如何提出异议(《个人信息保护法》第二十二条)。默认模板已准备好。"},
	"campaigns.empty.action":      {"Create the transfer notice from the default template", "用默认模板创建转让告知"},
	"campaign.new":                {"New campaign", "新建群发活动"},
	"campaign.name":               {"Name", "名称"},
	"campaign.transfer":           {"Transfer", "转让事项"},
	"campaign.no_transfer":        {"Create a transfer first (API: POST /api/v1/transfers).", "请先创建转让事项(API:POST /api/v1/transfers)。"},
	"campaign.kind":               {"Kind", "类型"},
	"campaign.channels":           {"Channels, in order: a customer gets the first one they can receive", "渠道及顺序:客户将通过第一个可达渠道收到消息"},
	"campaign.order":              {"Order", "顺序"},
	"campaign.template":           {"Template", "模板"},
	"campaign.unused":             {"not used", "不使用"},
	"campaign.audience":           {"Audience (empty: every active customer)", "受众(留空:所有有效客户)"},
	"campaign.tag":                {"Tag", "标签"},
	"campaign.region":             {"Region", "地区"},
	"campaign.send_at":            {"Send at (your time zone; empty: start by hand)", "发送时间(您的时区;留空则手动开始)"},
	"campaign.preview":            {"Preview", "预览"},
	"campaign.create":             {"Create campaign", "创建活动"},
	"campaign.segments":           {"SMS: characters / billed segments", "短信:字数 / 计费条数"},
	"campaign.start":              {"Start", "开始发送"},
	"campaign.pause":              {"Pause", "暂停"},
	"campaign.resume":             {"Resume", "继续"},
	"campaign.cancel":             {"Cancel campaign", "取消活动"},
	"campaign.by_channel":         {"Deliveries by channel", "各渠道发送情况"},
	"campaign.funnel":             {"Funnel", "转化漏斗"},
	"campaign.funnel_note":        {"Opened and consented count the campaign's personal links: opened at least once, and at least one purpose granted from them.", "「已打开」「已同意」按活动的个人链接统计：至少打开一次，以及通过该链接同意了至少一项用途。"},
	"campaign.skipped":            {"Not sent, by reason", "未发送原因"},
	"campaign.audience_is":        {"Audience", "受众"},
	"campaign.everyone":           {"every active customer", "所有有效客户"},
	"campaign.scheduled_for":      {"Scheduled for", "计划发送时间"},
	"delivery.queued":             {"Queued", "排队中"},
	"delivery.sending":            {"Sending", "发送中"},
	"delivery.sent":               {"Sent", "已发送"},
	"delivery.delivered":          {"Delivered", "已送达"},
	"delivery.failed":             {"Failed", "失败"},
	"delivery.bounced":            {"Bounced", "退回"},
	"delivery.suppressed":         {"Suppressed", "已抑制"},
	"funnel.planned":              {"Planned", "计划发送"},
	"funnel.sent":                 {"Sent", "已发送"},
	"funnel.delivered":            {"Delivered", "已送达"},
	"funnel.opened":               {"Opened", "已打开"},
	"funnel.consented":            {"Consented", "已同意"},
	"status.draft":                {"Draft", "草稿"},
	"status.scheduled":            {"Scheduled", "已计划"},
	"status.running":              {"Sending", "发送中"},
	"status.paused":               {"Paused", "已暂停"},
	"status.completed":            {"Completed", "已完成"},
	"status.cancelled":            {"Cancelled", "已取消"},
	"status.active":               {"Active", "有效"},
	"status.opted_out":            {"Opted out", "已退订"},
	"status.erased":               {"Erased", "已删除"},
	"kind.transfer_notice":        {"Transfer notice", "转让告知"},
	"kind.consent_request":        {"Consent request", "同意征询"},
	"kind.detail_check":           {"Check your details", "信息核对"},
	"kind.survey":                 {"Survey", "满意度调查"},
	"kind.incident_notice":        {"Incident notice", "安全事件告知"},
	"kind.generic":                {"Other", "其他"},
	"templates.none":              {"No templates yet: the defaults are installed when Handover starts.", "暂无模板:Handover 启动时会安装默认模板。"},
	"devbox.intro":                {"No provider is configured, so the devbox records what would have been sent. Open a link to walk the customer's side.", "未配置短信/微信/邮件服务商,开发发件箱记录本应发出的消息。点击链接即可体验客户看到的页面。"},
	"devbox.none":                 {"Nothing recorded yet: start a campaign and its messages appear here.", "暂无记录:开始一个群发活动后,消息会显示在这里。"},
	"devbox.reply":                {"Reply as the customer", "模拟客户回复"},
	"devbox.reply_hint":           {"e.g. 同意, 退订, or a question", "如:同意、退订,或一个问题"},
	"devbox.send":                 {"Send", "发送"},
	"flash.replied":               {"Reply recorded, as if the customer had sent it.", "已记录回复,如同客户发送。"},
	"staff.add":                   {"Add a staff member", "添加员工"},
	"staff.added":                 {"Account created. Give them this temporary password in person; it is shown only now:", "账户已创建。请当面告知以下临时密码,它只显示这一次:"},
	"staff.name":                  {"Name", "姓名"},
	"staff.disable":               {"Disable", "停用"},
	"staff.enable":                {"Enable", "启用"},
	"staff.disabled":              {"Disabled", "已停用"},
	"staff.change_role":           {"Change role", "修改角色"},
	"staff.reset_totp":            {"Reset two-step sign-in", "重置两步验证"},
	"staff.you":                   {"you", "本人"},
	"role.admin":                  {"Admin", "管理员"},
	"role.agent":                  {"Service agent", "客服"},
	"role.marketer":               {"Marketer", "市场"},
	"role.auditor":                {"Auditor", "审计员"},
	"account.title":               {"My account", "我的账户"},
	"account.prefs":               {"Language and time zone", "语言和时区"},
	"account.time_zone":           {"Time zone (e.g. Asia/Shanghai)", "时区(如 Asia/Shanghai)"},
	"account.save":                {"Save", "保存"},
	"account.totp":                {"Two-step sign-in", "两步验证"},
	"account.totp_on":             {"On: sign-in asks for the code from your authenticator app.", "已开启:登录时需要输入验证器应用中的动态码。"},
	"account.totp_off":            {"Off. Turn it on to ask for a code from an authenticator app at sign-in.", "未开启。开启后登录时需输入验证器应用中的动态码。"},
	"account.totp_begin":          {"Set up two-step sign-in", "设置两步验证"},
	"account.totp_secret":         {"Add this key to your authenticator app (type it, or paste the otpauth link), then enter the code it shows:", "在验证器应用中添加以下密钥(手动输入,或粘贴 otpauth 链接),然后输入应用显示的动态码:"},
	"account.totp_confirm":        {"Turn on", "开启"},
	"flash.saved":                 {"Saved.", "已保存。"},
	"flash.disabled":              {"The account is disabled and its sessions ended.", "账户已停用,其登录会话已结束。"},
	"flash.enabled":               {"The account is enabled.", "账户已启用。"},
	"flash.totp_on":               {"Two-step sign-in is on.", "两步验证已开启。"},
	"flash.created":               {"Campaign created.", "活动已创建。"},
	"flash.start":                 {"Campaign started.", "活动已开始发送。"},
	"flash.pause":                 {"Campaign paused.", "活动已暂停。"},
	"flash.resume":                {"Campaign resumed.", "活动已继续。"},
	"flash.cancel":                {"Campaign cancelled.", "活动已取消。"},
}

package web

// replyMessages are the texts of replies to unknown senders, binding
// their address on link, and the WeChat bind review: {en, zh-CN}.
var replyMessages = map[string][2]string{
	"nav.wechat_binds":           {"WeChat binds", "微信绑定审核"},
	"wechat_binds.explain":       {"A WeChat account opened a customer's link while the customer already has another WeChat bound. Nothing was changed: approve only when you know it is the customer's (e.g. they told you by phone).", "有微信号打开了客户的专属链接,而该客户已绑定另一个微信号。系统未做任何更改:仅在确认是客户本人(如客户来电告知)时批准。"},
	"wechat_binds.offered":       {"Offered", "提出时间"},
	"wechat_binds.approve":       {"Approve: replace", "批准:替换"},
	"wechat_binds.reject":        {"Reject", "拒绝"},
	"wechat_binds.reason":        {"Reason (optional)", "原因(可选)"},
	"wechat_binds.empty":         {"No WeChat bind waits for review. They appear here when a WeChat account other than the customer's opens their link.", "没有待审核的微信绑定。当非客户本人的微信号打开客户链接时,会出现在这里。"},
	"flash.wechat_bind_approved": {"Approved: the customer's WeChat was replaced. Recorded in the audit log.", "已批准:客户的微信号已替换,并已写入审计日志。"},
	"flash.wechat_bind_rejected": {"Rejected: nothing was changed. Recorded in the audit log.", "已拒绝:未做任何更改,并已写入审计日志。"},
	"ticket.reply_to_sender":     {"No customer is linked: the reply goes to the sender at", "未关联客户:回复将发送到发送人的"},
	"ticket.bind_sender":         {"Also bind the sender's address to this customer", "同时将发送人的地址绑定到该客户"},
	"ticket.bind_hint":           {"Refused if the address belongs to another customer or the customer has a different one. Recorded in the audit log.", "若该地址属于其他客户,或该客户已有不同地址,将被拒绝。此操作会写入审计日志。"},
	"ticket.sender_kind.wechat":  {"WeChat", "微信"},
	"ticket.sender_kind.phone":   {"phone", "手机"},
	"ticket.sender_kind.email":   {"email", "邮箱"},
	"mydata.via_wechat":          {"Send the code to my WeChat", "发送验证码到我的微信"},
}

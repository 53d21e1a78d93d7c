package customers

// The customer fields by name: the columns an import fills, the fields a
// correction names.
const (
	FieldExternalRef  = "external_ref"
	FieldName         = "name"
	FieldPhone        = "phone"
	FieldEmail        = "email"
	FieldWeChatOpenID = "wechat_openid"
	FieldCompany      = "company"
	FieldAddress      = "address"
	FieldRegion       = "region"
	FieldTags         = "tags"
	FieldLocale       = "locale"
	FieldTimeZone     = "time_zone"
)

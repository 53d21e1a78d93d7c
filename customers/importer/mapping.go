package importer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
)

// importFields lists the fields in column order for messages.
var importFields = []string{customers.FieldExternalRef, customers.FieldName, customers.FieldPhone, customers.FieldEmail, customers.FieldWeChatOpenID,
	customers.FieldCompany, customers.FieldAddress, customers.FieldRegion, customers.FieldTags, customers.FieldLocale, customers.FieldTimeZone}

// fieldIndex numbers the fields for the per-row value array.
var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(importFields))
	for i, f := range importFields {
		m[f] = i
	}
	return m
}()

// headerAliases maps normalised header text (see headerKey) to a field.
var headerAliases = func() map[string]string {
	m := map[string]string{}
	for field, names := range map[string][]string{
		customers.FieldName:         {"姓名", "名称", "客户名称", "客户姓名", "联系人", "name", "fullname", "customer", "customername", "contact", "contactname"},
		customers.FieldPhone:        {"手机", "手机号", "手机号码", "电话", "联系电话", "电话号码", "移动电话", "phone", "mobile", "mobilephone", "cell", "cellphone", "tel", "telephone", "phonenumber"},
		customers.FieldEmail:        {"邮箱", "电子邮箱", "邮件", "电子邮件", "邮箱地址", "email", "mail", "emailaddress"},
		customers.FieldCompany:      {"公司", "单位", "公司名称", "单位名称", "企业", "company", "companyname", "organization", "organisation"},
		customers.FieldAddress:      {"地址", "联系地址", "详细地址", "通讯地址", "address"},
		customers.FieldRegion:       {"地区", "区域", "省份", "省", "城市", "region", "province", "area", "city"},
		customers.FieldTags:         {"标签", "tags", "tag", "labels"},
		customers.FieldWeChatOpenID: {"微信", "openid", "微信openid", "wechat", "wechatopenid", "wxopenid"},
		customers.FieldExternalRef:  {"编号", "客户编号", "客户id", "客户代码", "externalref", "externalid", "id", "ref", "customerid", "code"},
		customers.FieldLocale:       {"语言", "locale", "language", "lang"},
		customers.FieldTimeZone:     {"时区", "time_zone", "timezone", "tz"},
	} {
		for _, n := range names {
			m[headerKey(n)] = field
		}
	}
	return m
}()

// headerKey folds a header for matching: full-width to half-width,
// lowercase, without spaces, underscores, dashes and dots.
func headerKey(h string) string {
	h = strings.TrimPrefix(h, "\ufeff")
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '.' || r == '*' || unicode.IsControl(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, width.Narrow.String(h))
}

// Mapping maps a source column header to a customer field name, overriding
// the built-in header recognition. An empty field name ignores the column.
type Mapping map[string]string

// ParseMapping reads a mapping from a JSON object such as
// {"客户名称":"name","手机":"phone"}. An empty string is an empty mapping.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, handover.Errorf(handover.EINVALID, "mapping must be a JSON object of column header to field name")
	}
	return m, m.validate()
}

func (m Mapping) validate() error {
	for header, field := range m {
		if _, ok := fieldIndex[field]; !ok && field != "" {
			return handover.Errorf(handover.EINVALID, "mapping for column %q names unknown field %q; fields are %s",
				handover.Clip(header, 40), handover.Clip(field, 40), strings.Join(importFields, ", "))
		}
	}
	return nil
}

// columns says which column feeds which field: cols[fieldIndex] lists the
// column positions, in file order, that feed that field.
type columns [][]int

// resolveColumns matches a header row against the mapping and the built-in
// aliases. It fails when no column gives a name, phone, email or openid.
func resolveColumns(header []string, m Mapping) (columns, error) {
	explicit := make(map[string]string, len(m))
	for h, f := range m {
		explicit[headerKey(h)] = f
	}
	cols := make(columns, len(importFields))
	for pos, h := range header {
		key := headerKey(h)
		field, ok := explicit[key]
		if !ok {
			field, ok = headerAliases[key]
		}
		if !ok || field == "" {
			continue
		}
		i := fieldIndex[field]
		cols[i] = append(cols[i], pos)
	}
	for _, f := range []string{customers.FieldName, customers.FieldPhone, customers.FieldEmail, customers.FieldWeChatOpenID} {
		if len(cols[fieldIndex[f]]) > 0 {
			return cols, nil
		}
	}
	return nil, handover.Errorf(handover.EINVALID,
		"no column for name, phone, email or WeChat openid was recognised; the first row has: %s. Name the columns (e.g. 姓名, 手机, 邮箱) or give a mapping",
		describeHeaders(header))
}

// describeHeaders lists a header row for an error message. When the first
// row looks like data (a phone number or email in it) the file has no
// header row, and listing it would put personal data in the message.
func describeHeaders(header []string) string {
	if len(header) == 0 {
		return "(nothing)"
	}
	var parts []string
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if looksLikeData(h) {
			return fmt.Sprintf("%d columns that look like data, not column names (is the header row missing?)", len(header))
		}
		switch {
		case i >= 20:
			continue
		case h == "":
			parts = append(parts, fmt.Sprintf("(column %d: empty)", i+1))
		default:
			parts = append(parts, fmt.Sprintf("%q", handover.Clip(h, 30)))
		}
	}
	if len(header) > 20 {
		parts = append(parts, fmt.Sprintf("… (%d columns)", len(header)))
	}
	return strings.Join(parts, ", ")
}

func looksLikeData(s string) bool {
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			digits++
		}
	}
	return digits >= 5 || strings.ContainsAny(s, "@＠")
}

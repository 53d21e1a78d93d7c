// Package kit is what every area of the web server shares: the error
// renderer of each audience, strict JSON binding, the text-input check,
// the cookie policy and the one CSRF scheme, staff authentication and the
// governance gate, the access log and the client-address extractor. The
// areas (web/portal, web/public, web/api, the dashboard) import it; it
// imports none of them.
package kit

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
)

var statusOf = map[string]int{
	handover.EINVALID:      http.StatusBadRequest,
	handover.ENOTFOUND:     http.StatusNotFound,
	handover.ECONFLICT:     http.StatusConflict,
	handover.EUNAUTHORIZED: http.StatusUnauthorized,
	handover.EFORBIDDEN:    http.StatusForbidden,
	handover.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	handover.EUNAVAILABLE:  http.StatusServiceUnavailable,
	handover.ETOOMANY:      http.StatusTooManyRequests,
	handover.EINTERNAL:     http.StatusInternalServerError,
}

var codeOfStatus = map[int]string{
	http.StatusBadRequest:            handover.EINVALID,
	http.StatusNotFound:              handover.ENOTFOUND,
	http.StatusMethodNotAllowed:      handover.EINVALID,
	http.StatusConflict:              handover.ECONFLICT,
	http.StatusUnauthorized:          handover.EUNAUTHORIZED,
	http.StatusForbidden:             handover.EFORBIDDEN,
	http.StatusRequestEntityTooLarge: handover.ETOOLARGE,
	http.StatusServiceUnavailable:    handover.EUNAVAILABLE,
	http.StatusTooManyRequests:       handover.ETOOMANY,
}

// titles are short, localised headlines per code; the message carries the
// detail.
var titles = map[string][2]string{ // code → {en, zh-CN}
	handover.EINVALID:      {"Invalid request", "请求无效"},
	handover.ENOTFOUND:     {"Not found", "未找到"},
	handover.ECONFLICT:     {"Conflict", "冲突"},
	handover.EUNAUTHORIZED: {"Sign-in required", "需要登录"},
	handover.EFORBIDDEN:    {"Not allowed", "无权操作"},
	handover.ETOOLARGE:     {"Too large", "内容过大"},
	handover.EUNAVAILABLE:  {"Temporarily unavailable", "暂时不可用"},
	handover.EINTERNAL:     {"Internal error", "内部错误"},
	handover.ETOOMANY:      {"Too many requests", "请求过于频繁"},
}

type errorBody struct {
	Error struct {
		Code      string `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		RequestID string `json:"request_id,omitempty"`
	} `json:"error"`
}

// Status is the HTTP status an error code maps to.
func Status(code string) int { return statusOf[code] }

// PageErrors show an error on a page route as a page, for the routes
// under each path prefix (the portal's under /l/): status is the status
// the error maps to.
type PageErrors map[string]func(c echo.Context, status int, err error)

// ErrorHandler answers every error as {"error":{code,title,message}} with
// the status its code maps to, or as a page on the routes pages covers.
// Internal errors are logged with the request id and shown to the user
// only as "Internal error".
func ErrorHandler(log *slog.Logger, pages PageErrors) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) { handleError(log, pages, err, c) }
}

func handleError(log *slog.Logger, pages PageErrors, err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var body errorBody
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		body.Error.Code = codeOfStatus[status]
		if body.Error.Code == "" {
			body.Error.Code = handover.EINTERNAL
		}
		body.Error.Message, _ = he.Message.(string)
		if status == http.StatusRequestEntityTooLarge {
			body.Error.Message = "The request body is larger than this endpoint accepts."
		}
	case handover.ErrorCode(err) != handover.EINTERNAL:
		body.Error.Code = handover.ErrorCode(err)
		body.Error.Message = handover.ErrorMessage(err)
		status = statusOf[body.Error.Code]
	default:
		body.Error.Code = handover.EINTERNAL
	}
	body.Error.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		log.Error("request failed", "request_id", body.Error.RequestID, "route", c.Path(), "err", err)
	}
	for prefix, page := range pages {
		if strings.HasPrefix(c.Request().URL.Path, prefix) && c.Request().Method != http.MethodHead {
			// Customers get a page in their language, not JSON.
			page(c, status, err)
			return
		}
	}
	if status >= 500 {
		if body.Error.Code == handover.EINTERNAL {
			body.Error.Message = "Something went wrong on our side; the error is logged under the request id."
		}
	}
	t := titles[body.Error.Code]
	body.Error.Title = t[0]
	if PrefersChinese(c.Request().Header.Get("Accept-Language")) {
		body.Error.Title = t[1]
	}
	if body.Error.Message == "" {
		body.Error.Message = body.Error.Title + "."
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	c.JSON(status, body)
}

// PrefersChinese reports whether the first language the client names is
// Chinese.
func PrefersChinese(acceptLanguage string) bool {
	first, _, _ := strings.Cut(acceptLanguage, ",")
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(first)), "zh")
}

package kit

import (
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
)

// BindJSON decodes a JSON body strictly: unknown fields and trailing data
// are errors that name what was wrong.
func BindJSON(c echo.Context, v any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return handover.Errorf(handover.EINVALID, "Send the body as application/json.")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return handover.Errorf(handover.EINVALID, "The request body is empty.")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return handover.Errorf(handover.EINVALID, "The body is not valid JSON (it ends too early).")
		case errors.As(err, &syntax):
			return handover.Errorf(handover.EINVALID, "The body is not valid JSON (at byte %d).", syntax.Offset)
		case errors.As(err, &typeErr):
			return handover.Errorf(handover.EINVALID, "Field %q has the wrong type (want %s).", typeErr.Field, typeErr.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return handover.Errorf(handover.EINVALID, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
		case strings.Contains(err.Error(), "request body too large"):
			return handover.Errorf(handover.ETOOLARGE, "The request body is too large.")
		}
		return handover.Errorf(handover.EINVALID, "The body could not be read as JSON.")
	}
	if dec.More() {
		return handover.Errorf(handover.EINVALID, "The body has data after the JSON object.")
	}
	return nil
}

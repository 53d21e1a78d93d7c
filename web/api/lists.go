package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
)

// Every list the API serves shares one envelope and one cursor rule
// (openapi.yaml's ListLimit, ListCursor and NextCursor): a page of at most
// ?limit= items (1 to 500, default 50) in "data", and in "next_cursor"
// what to send as ?cursor= for the next page, "" after the last. No list
// stops at an internal cap without a next cursor.

// pageQuery reads ?limit= and ?cursor=.
func pageQuery(c echo.Context) (cursor string, limit int, err error) {
	limit = 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return "", 0, handover.Errorf(handover.EINVALID, "limit must be a number from 1 to 500")
		}
		limit = n
	}
	cursor = c.QueryParam("cursor")
	if cursor != "" {
		if _, err := ulid.ParseStrict(cursor); err != nil {
			return "", 0, handover.Errorf(handover.EINVALID, "cursor is not valid")
		}
	}
	return cursor, limit, nil
}

// listJSON answers one page of a list; next is "" on the last page.
func listJSON[T any](c echo.Context, data []T, next string) error {
	if data == nil {
		data = []T{}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": data, "next_cursor": next})
}

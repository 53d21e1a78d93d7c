package database

// Page cuts a list read with LIMIT limit+1 down to one page of limit rows
// and returns the cursor of the next page: the id of the page's last row,
// or "" when the list had no more rows. Lists keyed by ULID use it so a
// caller pages on with "id > cursor" (or "<" newest first) and none stops
// silently at an internal cap.
func Page[T any](list []T, limit int, id func(T) string) ([]T, string) {
	if limit < 1 || len(list) <= limit {
		return list, ""
	}
	list = list[:limit]
	return list, id(list[limit-1])
}

package database

import (
	"context"
	"fmt"
)

// QueryIDs runs a query whose rows are one text column (ids) and returns
// them all. Callers use it to collect work before acting on each item
// outside the query.
func (db *DB) QueryIDs(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("scan id: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// QueryEach runs a query and calls row for each row, with a scan of it;
// the first error (the query's, a scan's or row's own) stops it.
func (db *DB) QueryEach(ctx context.Context, row func(scan func(dest ...any) error) error, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

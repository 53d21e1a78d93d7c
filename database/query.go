package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Querier is what a read needs: a *DB, or a *Tx when the read must see
// the transaction's own writes.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Scanner is one row to read: *sql.Rows (positioned on a row) or *sql.Row.
// It is an alias so that scan functions written against
// interface{ Scan(...any) error } fit QueryAll and QueryOne unchanged.
type Scanner = interface{ Scan(dest ...any) error }

// QueryAll runs query on q and returns what scan makes of each row, in
// order: nil when there are none. The first error (the query's, a scan's
// or the rows') stops it and comes back unwrapped.
func QueryAll[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) ([]T, error) {
	var list []T
	err := EachRow(ctx, q, func(row Scanner) error {
		v, err := scan(row)
		if err != nil {
			return err
		}
		list = append(list, v)
		return nil
	}, query, args...)
	if err != nil {
		return nil, err
	}
	return list, nil
}

// QueryOne runs query on q and returns what scan makes of its first row;
// the error is sql.ErrNoRows (unwrapped, as scan returns it) when there is
// none.
func QueryOne[T any](ctx context.Context, q Querier, scan func(Scanner) (T, error), query string, args ...any) (T, error) {
	return scan(q.QueryRowContext(ctx, query, args...))
}

// EachRow runs query on q and calls row for each row, in order, while the
// rows are open (so row must not query the same transaction on
// PostgreSQL; collect with QueryAll first). The first error (the query's,
// row's or the rows') stops it and comes back unwrapped.
func EachRow(ctx context.Context, q Querier, row func(Scanner) error, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ScanString reads a row of one text column, such as an id: the scan
// function of QueryAll for "collect the ids".
func ScanString(row Scanner) (string, error) {
	var s string
	err := row.Scan(&s)
	return s, err
}

// In appends values to args and returns the parenthesised list of their
// placeholders, "($n,$n+1,…)" numbered after the args already there, with
// the grown args: the IN list of a statement whose other parameters come
// first. Both databases take $n (SQLite reads it as a named parameter), so
// the list is the same text on either. values must not be empty
// (PostgreSQL rejects "IN ()"), and callers cut long lists into chunks
// (PostgreSQL takes at most 65,535 parameters).
func In[T any](args []any, values []T) (string, []any) {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		args = append(args, v)
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(len(args)))
	}
	b.WriteByte(')')
	return b.String(), args
}

// InList is In for a statement run on q, with the operator: on
// PostgreSQL "= ANY($n)" with the values as one array parameter, so the
// statement's text and its cached plan are one whatever the count (a list
// of 500 placeholders was parsed and planned on every call); on SQLite
// "IN ($n,…)".
func InList[T any](q Querier, args []any, values []T) (string, []any) {
	if dialectOf(q) == Postgres {
		return "= ANY($" + strconv.Itoa(len(args)+1) + ")", append(args, values)
	}
	in, args := In(args, values)
	return "IN " + in, args
}

// dialectOf is the engine q runs on (SQLite for a Querier it cannot tell).
func dialectOf(q Querier) Dialect {
	switch q := q.(type) {
	case *DB:
		return q.Dialect
	case *Tx:
		return q.Dialect()
	}
	return SQLite
}

// Nullable is s as a statement argument, "" as NULL: so that a
// COALESCE keeps the stored value, and unique columns (blind indexes)
// hold NULL rather than "".
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// QueryIDs runs a query whose rows are one text column (ids) and returns
// them all. Callers use it to collect work before acting on each item
// outside the query.
func (db *DB) QueryIDs(ctx context.Context, query string, args ...any) ([]string, error) {
	return QueryAll(ctx, db, func(row Scanner) (string, error) {
		id, err := ScanString(row)
		if err != nil {
			return "", fmt.Errorf("scan id: %w", err)
		}
		return id, nil
	}, query, args...)
}

// QueryEach runs a query and calls row for each row, with a scan of it;
// the first error (the query's, a scan's or row's own) stops it.
func (db *DB) QueryEach(ctx context.Context, row func(scan func(dest ...any) error) error, query string, args ...any) error {
	return EachRow(ctx, db, func(r Scanner) error { return row(r.Scan) }, query, args...)
}

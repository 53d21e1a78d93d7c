package database

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// InsertRows inserts n rows into table, asking row for the values of the
// i-th (appended to dst, in columns order). suffix ends each statement
// (e.g. "ON CONFLICT DO NOTHING"). On SQLite it reuses one prepared
// single-row statement, which is fastest there; on PostgreSQL it sends
// multi-row INSERTs under the 65,535-parameter limit, saving round trips.
func InsertRows(ctx context.Context, tx *Tx, table string, columns []string, suffix string, n int, row func(i int, dst []any) []any) error {
	head := "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES "
	if tx.Dialect() == SQLite {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",")
		stmt, err := tx.PrepareContext(ctx, head+"("+marks+") "+suffix)
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		defer stmt.Close()
		args := make([]any, 0, len(columns))
		for i := 0; i < n; i++ {
			if _, err := stmt.ExecContext(ctx, row(i, args[:0])...); err != nil {
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
		return nil
	}
	perStmt := max(1, min(1000, 65535/len(columns)))
	var b strings.Builder
	for start := 0; start < n; start += perStmt {
		end := min(start+perStmt, n)
		b.Reset()
		b.WriteString(head)
		args := make([]any, 0, (end-start)*len(columns))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := range columns {
				if c > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(len(args) + c + 1))
			}
			b.WriteByte(')')
			args = row(i, args)
		}
		b.WriteByte(' ')
		b.WriteString(suffix)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

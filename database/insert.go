package database

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// InsertRows inserts n rows into table, asking row for the values of the
// i-th (appended to dst, in columns order). suffix ends each statement
// (e.g. "ON CONFLICT DO NOTHING"). On SQLite it reuses one prepared
// single-row statement, which is fastest there; on PostgreSQL it streams
// the rows with COPY inside the transaction, or, when a suffix is needed
// (COPY has none), sends multi-row INSERTs under the 65,535-parameter limit.
func InsertRows(ctx context.Context, tx *Tx, table string, columns []string, suffix string, n int, row func(i int, dst []any) []any) error {
	if tx.Dialect() == Postgres && suffix == "" && n > 1 {
		return copyRows(ctx, tx, table, columns, n, row)
	}
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

// copyRows streams rows with PostgreSQL's COPY on the transaction's own
// connection, so they commit or roll back with it.
func copyRows(ctx context.Context, tx *Tx, table string, columns []string, n int, row func(i int, dst []any) []any) error {
	err := tx.conn.Raw(func(driverConn any) error {
		pgConn := driverConn.(*stdlib.Conn).Conn()
		i := 0
		buf := make([]any, 0, len(columns))
		_, err := pgConn.CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			buf = row(i, buf[:0])
			i++
			return buf, nil
		}))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

package database_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// Both a DB and a transaction serve reads.
var (
	_ database.Querier = (*database.DB)(nil)
	_ database.Querier = (*database.Tx)(nil)
)

type kitRow struct {
	id string
	n  int
}

func scanKitRow(row database.Scanner) (kitRow, error) {
	var r kitRow
	err := row.Scan(&r.id, &r.n)
	return r, err
}

func kitTable(t *testing.T, db *database.DB) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE kit (id TEXT PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
			return err
		}
		for i, id := range []string{"a", "b", "c", "d"} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kit (id, n) VALUES ($1, $2)`, id, i+1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestQueryAllAndQueryOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		kitTable(t, db)
		list, err := database.QueryAll(ctx, db, scanKitRow, `SELECT id, n FROM kit WHERE n > $1 ORDER BY id`, 1)
		if err != nil {
			t.Fatal(err)
		}
		if want := []kitRow{{"b", 2}, {"c", 3}, {"d", 4}}; !slices.Equal(list, want) {
			t.Fatalf("QueryAll = %v, want %v", list, want)
		}
		list, err = database.QueryAll(ctx, db, scanKitRow, `SELECT id, n FROM kit WHERE n > 10`)
		if err != nil || list != nil {
			t.Fatalf("no rows: QueryAll = %#v, %v; want nil, nil", list, err)
		}
		boom := errors.New("boom")
		calls := 0
		_, err = database.QueryAll(ctx, db, func(row database.Scanner) (kitRow, error) {
			calls++
			return kitRow{}, boom
		}, `SELECT id, n FROM kit`)
		if !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("scan error: %v after %d calls; want boom after 1", err, calls)
		}
		if _, err := database.QueryAll(ctx, db, scanKitRow, `SELECT id, n FROM no_such_table`); err == nil {
			t.Fatal("query error: got nil")
		}
		ids, err := database.QueryAll(ctx, db, database.ScanString, `SELECT id FROM kit ORDER BY id DESC`)
		if err != nil || !slices.Equal(ids, []string{"d", "c", "b", "a"}) {
			t.Fatalf("ScanString: %v, %v", ids, err)
		}
		ids, err = db.QueryIDs(ctx, `SELECT id FROM kit WHERE n <= $1 ORDER BY id`, 2)
		if err != nil || !slices.Equal(ids, []string{"a", "b"}) {
			t.Fatalf("QueryIDs: %v, %v", ids, err)
		}

		one, err := database.QueryOne(ctx, db, scanKitRow, `SELECT id, n FROM kit WHERE id = $1`, "c")
		if err != nil || one != (kitRow{"c", 3}) {
			t.Fatalf("QueryOne = %v, %v", one, err)
		}
		if _, err := database.QueryOne(ctx, db, scanKitRow, `SELECT id, n FROM kit WHERE id = $1`, "z"); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("QueryOne of nothing: %v, want sql.ErrNoRows", err)
		}

		// In a transaction, reads see its own writes.
		err = db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO kit (id, n) VALUES ('e', 5)`); err != nil {
				return err
			}
			list, err := database.QueryAll(ctx, tx, scanKitRow, `SELECT id, n FROM kit WHERE n >= 4 ORDER BY n`)
			if err != nil {
				return err
			}
			if want := []kitRow{{"d", 4}, {"e", 5}}; !slices.Equal(list, want) {
				return fmt.Errorf("in tx: QueryAll = %v, want %v", list, want)
			}
			one, err := database.QueryOne(ctx, tx, scanKitRow, `SELECT id, n FROM kit WHERE id = 'e'`)
			if err != nil || one.n != 5 {
				return fmt.Errorf("in tx: QueryOne = %v, %v", one, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestEachRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		kitTable(t, db)
		sum := map[bool]int{}
		err := database.EachRow(ctx, db, func(row database.Scanner) error {
			r, err := scanKitRow(row)
			sum[r.n%2 == 0] += r.n
			return err
		}, `SELECT id, n FROM kit`)
		if err != nil || sum[true] != 6 || sum[false] != 4 {
			t.Fatalf("EachRow: sums %v, %v; want even 6, odd 4", sum, err)
		}
		stop := errors.New("stop")
		seen := 0
		err = database.EachRow(ctx, db, func(row database.Scanner) error {
			seen++
			return stop
		}, `SELECT id, n FROM kit`)
		if !errors.Is(err, stop) || seen != 1 {
			t.Fatalf("EachRow stop: %v after %d rows", err, seen)
		}
		n := 0
		err = db.QueryEach(ctx, func(scan func(...any) error) error {
			var r kitRow
			n++
			return scan(&r.id, &r.n)
		}, `SELECT id, n FROM kit`)
		if err != nil || n != 4 {
			t.Fatalf("QueryEach: %d rows, %v", n, err)
		}
	})
}

func TestIn(t *testing.T) {
	list, args := database.In([]any{"x", 7}, []string{"a", "b", "c"})
	if list != "($3,$4,$5)" || !slices.Equal(args, []any{"x", 7, "a", "b", "c"}) {
		t.Fatalf("In = %q, %v", list, args)
	}
	if list, args := database.In(nil, []int{9}); list != "($1)" || !slices.Equal(args, []any{9}) {
		t.Fatalf("In of one = %q, %v", list, args)
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		kitTable(t, db)
		// An IN list after other parameters, and a parameter after it.
		odd, args := database.In([]any{0}, []string{"a", "c", "d", "z"})
		args = append(args, 4)
		ids, err := db.QueryIDs(ctx, `SELECT id FROM kit WHERE n > $1 AND id IN `+odd+` AND n < $6 ORDER BY id`, args...)
		if err != nil || !slices.Equal(ids, []string{"a", "c"}) {
			t.Fatalf("IN query: %v, %v; want [a c]", ids, err)
		}
		// Two lists in one statement.
		first, args := database.In(nil, []string{"a", "b"})
		second, args := database.In(args, []int{2, 3})
		ids, err = db.QueryIDs(ctx, `SELECT id FROM kit WHERE id IN `+first+` AND n IN `+second, args...)
		if err != nil || !slices.Equal(ids, []string{"b"}) {
			t.Fatalf("two IN lists: %v, %v; want [b]", ids, err)
		}
	})
}

// TestInList: one array parameter on PostgreSQL, a list of placeholders
// on SQLite, the same rows either way, on the database and in a
// transaction.
func TestInList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		kitTable(t, db)
		in, args := database.InList(db, []any{0}, []string{"a", "c", "d", "z"})
		want := "IN ($2,$3,$4,$5)"
		if db.Dialect == database.Postgres {
			want = "= ANY($2)"
		}
		if in != want {
			t.Fatalf("InList = %q; want %q", in, want)
		}
		args = append(args, 4)
		ids, err := database.QueryAll(ctx, db, func(row database.Scanner) (string, error) {
			var id string
			return id, row.Scan(&id)
		}, `SELECT id FROM kit WHERE n > $1 AND id `+in+` AND n < $`+strconv.Itoa(len(args))+` ORDER BY id`, args...)
		if err != nil || !slices.Equal(ids, []string{"a", "c"}) {
			t.Fatalf("InList query: %v, %v; want [a c]", ids, err)
		}
		err = db.InTx(ctx, func(tx *database.Tx) error {
			in, args := database.InList(tx, nil, []string{"b"})
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM kit WHERE id `+in, args...).Scan(&n); err != nil || n != 1 {
				return fmt.Errorf("in a transaction: %d rows, %v; want 1", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestPage(t *testing.T) {
	id := func(s string) string { return s }
	for _, c := range []struct {
		list  []string
		limit int
		page  []string
		next  string
	}{
		{nil, 2, nil, ""},
		{[]string{"a", "b"}, 2, []string{"a", "b"}, ""},
		{[]string{"a", "b", "c"}, 2, []string{"a", "b"}, "b"},
		{[]string{"a", "b", "c"}, 0, []string{"a", "b", "c"}, ""},
	} {
		page, next := database.Page(c.list, c.limit, id)
		if !slices.Equal(page, c.page) || next != c.next {
			t.Errorf("Page(%v, %d) = %v, %q; want %v, %q", c.list, c.limit, page, next, c.page, c.next)
		}
	}
}

package database

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Tx is a write transaction with one timestamp for everything it records.
type Tx struct {
	*sql.Tx
	db   *DB
	conn *sql.Conn // the connection the transaction runs on (for COPY)
	// queued: the transaction holds db.writers' place until it ends.
	queued bool
	// Now is the transaction's single timestamp (UTC).
	Now time.Time
}

// AuditKey is the DB's audit chain key (nil when it has none).
func (tx *Tx) AuditKey() []byte { return tx.db.AuditKey }

// Dialect reports the engine the transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// writerWait is how long a write transaction waits for its turn on
// SQLite before it fails, as SQLite's busy timeout would.
const writerWait = 10 * time.Second

// queueWriter takes this process's place to write on SQLite (db.writers),
// waiting in order behind the writers before it.
func (db *DB) queueWriter(ctx context.Context) error {
	wait := time.NewTimer(writerWait)
	defer wait.Stop()
	select {
	case db.writers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return fmt.Errorf("database is locked: another write has held it for %s", writerWait)
	}
}

// ExecContext runs one statement outside a transaction. On SQLite it takes
// its turn with the write transactions (BeginTx): left to SQLite's busy
// wait, it would find the lock taken by the next queued transaction every
// time it looked. A long statement that only reads (VACUUM INTO) goes to
// db.DB.ExecContext, so as not to hold the writers' place.
func (db *DB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Write(ctx, func() (err error) {
		res, err = db.DB.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// Write runs fn, one write outside a transaction that ExecContext cannot
// run (a prepared statement, or QueryRowContext with RETURNING), in its
// turn with the others on SQLite; on PostgreSQL it just runs fn.
func (db *DB) Write(ctx context.Context, fn func() error) error {
	if db.writers != nil {
		if err := db.queueWriter(ctx); err != nil {
			return err
		}
		defer func() { <-db.writers }()
	}
	return fn()
}

// BeginTx starts a write transaction. Callers must Commit or Rollback.
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	if db.writers != nil {
		if err := db.queueWriter(ctx); err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
	}
	tx := &Tx{db: db, queued: db.writers != nil}
	conn, err := db.Conn(ctx)
	if err != nil {
		tx.end()
		return nil, fmt.Errorf("begin: %w", MapError(err))
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		tx.end()
		return nil, fmt.Errorf("begin: %w", MapError(err))
	}
	tx.Tx, tx.conn, tx.Now = sqlTx, conn, db.Now()
	return tx, nil
}

// end gives the transaction's place in the writers' queue to the next.
func (tx *Tx) end() {
	if tx.queued {
		tx.queued = false
		<-tx.db.writers
	}
}

// Commit commits and hands the connection back to the pool.
func (tx *Tx) Commit() error {
	defer tx.end()
	defer tx.conn.Close()
	return tx.Tx.Commit()
}

// Rollback rolls back and hands the connection back to the pool.
func (tx *Tx) Rollback() error {
	defer tx.end()
	defer tx.conn.Close()
	return tx.Tx.Rollback()
}

// InTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise. Database errors come back mapped by MapError.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return MapError(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", MapError(err))
	}
	return nil
}

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
	db *DB
	// Now is the transaction's single timestamp (UTC).
	Now time.Time
}

// Dialect reports the engine the transaction runs on.
func (tx *Tx) Dialect() Dialect { return tx.db.Dialect }

// BeginTx starts a write transaction. Callers must Commit or Rollback.
func (db *DB) BeginTx(ctx context.Context) (*Tx, error) {
	sqlTx, err := db.DB.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", MapError(err))
	}
	return &Tx{Tx: sqlTx, db: db, Now: db.Now()}, nil
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

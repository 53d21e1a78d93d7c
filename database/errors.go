package database

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/handoverhq/handover"
)

// MapError turns constraint violations into application errors: a unique
// violation is a conflict, a foreign-key or check violation is invalid
// input, sql.ErrNoRows is not found. Other errors pass through unchanged.
// The messages name no values, so no personal data leaks through them.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var appErr *handover.Error
	if errors.As(err, &appErr) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return handover.Errorf(handover.ENOTFOUND, "Not found.")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return handover.Errorf(handover.ECONFLICT, "This already exists.")
		case "23503", "23514", "23502":
			return handover.Errorf(handover.EINVALID, "This refers to something that does not exist or breaks a rule.")
		}
		return err
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return handover.Errorf(handover.ECONFLICT, "This already exists.")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return handover.Errorf(handover.EINVALID, "This refers to something that does not exist or breaks a rule.")
		}
	}
	return err
}

// Package database opens Handover's database — SQLite (embedded default) or
// PostgreSQL (production) — runs the embedded migrations, and offers the
// transaction helper and error mapping every store uses. One SQL text serves
// both databases; the few dialect differences live in this package.
//
// Stores write their SQL inline and leave the plumbing to a small query
// kit: Querier (a *DB or a *Tx), QueryAll and QueryOne with a scan
// function, EachRow for rows that fill a map or a total, In for an IN
// list and Page for a cursor page (read LIMIT n+1, keep n).
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/handoverhq/handover"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. Reads may use the embedded *sql.DB directly;
// writes go through InTx so that each change and its audit entry commit
// together.
type DB struct {
	*sql.DB
	Dialect Dialect
	// Now is the clock; tests replace it. Times are always UTC.
	Now func() time.Time
	// AuditKey is the key the audit chain is MACed under (audit.UseKey);
	// it is derived from a key the master key wraps, so the database alone
	// never holds it. Nil: this process cannot write to a keyed chain.
	AuditKey []byte
	// writers queues this process's writes on SQLite (nil on PostgreSQL):
	// one transaction or statement at a time, in the order they asked
	// (BeginTx, ExecContext).
	// SQLite's own wait is a busy handler that sleeps and tries again, so
	// a writer that commits and begins again at once (planning a campaign
	// in chunks) kept the lock for seconds while a batch's claim slept:
	// the first messages waited for the whole plan.
	writers chan struct{}
}

// Open opens the database named by url. An empty url opens (creating it if
// needed) the SQLite file handover.db in dataDir; a postgres:// or
// postgresql:// url opens PostgreSQL. Open pings the database but does not
// migrate it.
func Open(ctx context.Context, rawURL, dataDir string) (*DB, error) {
	var db *DB
	switch {
	case rawURL == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		return OpenSQLite(ctx, filepath.Join(dataDir, "handover.db"))
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		sqlDB, err := sql.Open("pgx", rawURL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		db = &DB{DB: sqlDB, Dialect: Postgres, Now: now}
	default:
		return nil, handover.Errorf(handover.EINVALID, "database url must be empty (SQLite) or start with postgres://")
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", redactErr(err, rawURL))
	}
	return db, nil
}

// OpenSQLite opens the SQLite file at path, with the key store keys.db
// beside it attached (see KeyStoreFile), in WAL mode with a busy timeout,
// foreign keys on and immediate write transactions (so two writers queue
// instead of failing on a lock upgrade). The WAL is checkpointed every
// 40,000 pages (160 MB) rather than 1,000: bulk writes dirty index pages
// at random (blind indexes), and checkpointing after every such commit
// copies the same pages again and again. The WAL file keeps its largest
// size on disk (truncating it after each checkpoint cost ~6% of import
// speed).
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)", "cache_size(-131072)", "wal_autocheckpoint(40000)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	sqlDB := sql.OpenDB(newKeyStoreConnector(path, "file:"+path+"?"+q.Encode()))
	// SQLite has one writer; a few connections let reads run beside it.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	sqlDB.SetConnMaxIdleTime(0)
	db := &DB{DB: sqlDB, Dialect: SQLite, Now: now, writers: make(chan struct{}, 1)}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("restrict database file: %w", err)
	}
	if err := restrictKeyStore(path); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// redactErr keeps a connection string's password out of error text.
func redactErr(err error, rawURL string) error {
	u, perr := url.Parse(rawURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// cliOrigin says, for the audit log, that an entry came from a command
// run on the server and by which operating-system account (and, through
// sudo, which person).
func cliOrigin(environ []string) string {
	origin := "cli os_user=" + osUser(environ)
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "SUDO_USER="); ok && v != "" {
			origin += " sudo_user=" + v
		}
	}
	return origin
}

func osUser(environ []string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "USER="); ok && v != "" {
			return v
		}
	}
	return fmt.Sprintf("uid:%d", os.Getuid())
}

// recordCommand audits that a command ran against the database, with its
// subcommand, the names (never the values) of its flags and whether it
// succeeded, so that every command leaves a trace even when what it did
// records nothing of its own (a backup, a report). Its origin says who ran
// it on the server.
func (m *Main) recordCommand(ctx context.Context, name string, args []string, err error) {
	if m.DB == nil {
		return
	}
	var words []string
	for _, a := range args {
		if flag, ok := strings.CutPrefix(a, "-"); ok {
			words = append(words, "-"+strings.SplitN(flag, "=", 2)[0])
		} else if len(words) == 0 && isSubcommand(a) {
			words = append(words, a)
		}
	}
	detail, _ := json.Marshal(map[string]any{"args": words, "ok": err == nil})
	ctx = context.WithoutCancel(ctx)
	rerr := m.DB.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: "cli", Action: "cli.command", ObjectType: "command", ObjectID: name, Detail: string(detail)})
	})
	if rerr != nil {
		fmt.Fprintf(m.Stderr, "handover %s: could not audit the command: %v\n", name, rerr)
	}
}

// isSubcommand tells a subcommand ("add", "run-due") from a positional
// value such as a file name, which stays out of the audit log.
func isSubcommand(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz-") == ""
}

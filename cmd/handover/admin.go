package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/pii/aliyunkms"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/staff"
)

// subcommand splits "user add …" into "add" and the rest.
func subcommand(m *Main, group string, args []string, known ...string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(m.Stderr, "Usage: handover %s %s\n", group, strings.Join(known, "|"))
		return "", nil, errUsage
	}
	for _, k := range known {
		if args[0] == k {
			return k, args[1:], nil
		}
	}
	fmt.Fprintf(m.Stderr, "handover %s: unknown subcommand %q (want %s)\n", group, args[0], strings.Join(known, ", "))
	return "", nil, errUsage
}

func runUser(ctx context.Context, m *Main, args []string) error {
	if sub, args, err := subcommand(m, "user", args, "add", "unlock"); err != nil {
		return err
	} else if sub == "unlock" {
		return runUserUnlock(ctx, m, args)
	} else {
		fs := newFlags(m, "user add", "user add --email E --role admin|agent|marketer|auditor [--name N] [--expires YYYY-MM-DD] [--password-stdin]")
		email := fs.String("email", "", "the staff member's email (required)")
		role := fs.String("role", "", "admin, agent, marketer or auditor (required)")
		name := fs.String("name", "", "display name")
		expires := fs.String("expires", "", "third-party account (the buyer's staff, an agency): disabled from this date, Asia/Shanghai midnight; must be in the future")
		fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
		if err := parse(fs, args); err != nil {
			return err
		}
		if *email == "" || *role == "" {
			fs.Usage()
			return errUsage
		}
		r, err := staff.ParseRole(*role)
		if err != nil {
			return err
		}
		mem := &staff.Member{Email: *email, Name: *name, Role: r}
		if *expires != "" {
			t, err := time.ParseInLocation("2006-01-02", *expires, time.FixedZone("CST", 8*3600))
			if err != nil {
				return handover.Errorf(handover.EINVALID, "--expires must be a date such as 2027-03-31.")
			}
			t = t.UTC()
			mem.ExpiresAt = &t
		}
		password := ""
		if *fromStdin {
			line, _ := bufio.NewReader(m.Stdin).ReadString('\n')
			password = strings.TrimRight(line, "\r\n")
		} else {
			password = staff.GeneratePassword()
		}
		if err := m.openStores(ctx); err != nil {
			return err
		}
		if err := m.Staff.CreateMember(ctx, mem, password, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "created %s (%s), id %s\n", mem.Email, mem.Role, mem.ID)
		if !*fromStdin {
			fmt.Fprintf(m.Stdout, "password (shown once): %s\n", password)
		}
		return nil
	}
}

func runToken(ctx context.Context, m *Main, args []string) error {
	_, args, err := subcommand(m, "token", args, "create")
	if err != nil {
		return err
	}
	fs := newFlags(m, "token create", "token create --email E [--name N] [--days D]")
	email := fs.String("email", "", "the staff member who will own the token (required)")
	name := fs.String("name", "cli", "a label for the token")
	days := fs.Int("days", int(staff.DefaultTokenTTL/(24*time.Hour)), "how many days the token works (1 to 366)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		fs.Usage()
		return errUsage
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	token, err := m.Staff.CreateAPITokenFor(ctx, *email, *name, "cli", time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s\n", token)
	fmt.Fprintln(m.Stderr, "This token is shown once; only its hash is stored.")
	return nil
}

func runAudit(ctx context.Context, m *Main, args []string) error {
	sub, args, err := subcommand(m, "audit", args, "verify", "rekey")
	if err != nil {
		return err
	}
	if err := parse(newFlags(m, "audit "+sub, "audit verify | audit rekey"), args); err != nil {
		return err
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	if sub == "rekey" {
		r, err := audit.Rekey(ctx, m.DB)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "audit chain verified (%d entries) and keyed: each link is now an HMAC under key %s\n", r.Checked, audit.KeyID(m.DB.AuditKey))
		return nil
	}
	r, err := audit.Verify(ctx, m.DB)
	if err != nil {
		return err
	}
	if !r.OK() {
		fmt.Fprintf(m.Stdout, "audit chain BROKEN at entry %d: %s (%d entries checked)\n", r.BrokenSeq, r.Reason, r.Checked)
		return fmt.Errorf("audit chain is broken at entry %d", r.BrokenSeq)
	}
	fmt.Fprintf(m.Stdout, "audit chain OK: %d entries, head %s\n", r.Checked, r.Head)
	if !r.Keyed && r.Checked > 0 {
		fmt.Fprintln(m.Stdout, "The chain is hashed with plain SHA-256 (made before keyed chains): run handover audit rekey once to key it.")
	}
	return nil
}

func runKeys(ctx context.Context, m *Main, args []string) error {
	sub, args, err := subcommand(m, "keys", args, "generate", "rotate")
	if err != nil {
		return err
	}
	fs := newFlags(m, "keys "+sub, "keys generate [--kms-key-id K] | keys rotate")
	kmsKey := fs.String("kms-key-id", "", "generate: print the new key encrypted by this Aliyun KMS key, for HANDOVER_MASTER_KEY_KMS_BLOB")
	if err := parse(fs, args); err != nil {
		return err
	}
	if sub == "generate" {
		key := masterkey.Generate()
		if *kmsKey == "" {
			fmt.Fprintln(m.Stdout, key)
			return nil
		}
		if err := m.loadConfig(); err != nil {
			return err
		}
		blob, err := aliyunkms.EncryptMasterKey(m.KMSConfig(), *kmsKey, key)
		if err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, blob)
		return nil
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	if len(m.Config.PreviousMasterKeys) == 0 {
		fmt.Fprintln(m.Stderr, "To rotate: set HANDOVER_MASTER_KEY to a new key (handover keys generate) and HANDOVER_PREVIOUS_MASTER_KEYS to the old one, then run this again.")
	}
	n, err := m.Vault.Rotate(ctx, m.DB, func(done int) { fmt.Fprintf(m.Stderr, "\rre-wrapped %d keys", done) })
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\nre-wrapped %d keys under master key %s; old keys may now be removed from HANDOVER_PREVIOUS_MASTER_KEYS\n", n, m.Vault.Keys.CurrentKeyID())
	return nil
}

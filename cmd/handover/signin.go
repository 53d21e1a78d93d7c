package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"golang.org/x/term"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
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

// signIn proves that the person acting from the command line is the staff
// member with email: their API token in HANDOVER_CLI_TOKEN, or else their
// password and, when enrolled, their authenticator code on standard input
// (one per line, read without echo on a terminal). Never a flag: flags
// land in shell history and in every user's process list. The sign-in is
// throttled and audited as on the dashboard.
func (m *Main) signIn(ctx context.Context, email string) (*staff.Member, error) {
	if token := m.Config.CLIToken; token != "" {
		who, err := m.Staff.Authenticate(ctx, token)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(who.Email, strings.TrimSpace(email)) {
			return nil, handover.Errorf(handover.EUNAUTHORIZED, "HANDOVER_CLI_TOKEN belongs to another staff member than --as.")
		}
		return who, nil
	}
	member, err := m.Staff.FindMemberByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	totp, err := m.Staff.TOTPEnabled(ctx, member.ID)
	if err != nil {
		return nil, err
	}
	in := bufio.NewReader(m.Stdin)
	login := staff.LoginInput{Email: email, IP: "cli"}
	login.Password, err = m.readSecret(in, fmt.Sprintf("Password for %s: ", email))
	if err == nil && totp {
		login.Code, err = m.readSecret(in, "Authenticator code: ")
	}
	if err != nil || login.Password == "" {
		return nil, handover.Errorf(handover.EUNAUTHORIZED, "This action needs the credentials of %s: their password (and authenticator code) on standard input, one a line, or their API token in HANDOVER_CLI_TOKEN.", email)
	}
	sess, who, err := m.Staff.Login(ctx, login, staff.SessionPolicy{})
	if err != nil {
		return nil, err
	}
	// The command needed the proof, not a dashboard session.
	if err := m.Staff.EndSession(ctx, sess.Token); err != nil {
		return nil, err
	}
	return who, nil
}

// readSecret reads one line from standard input: without echo, after a
// prompt on stderr, when it is a terminal.
func (m *Main) readSecret(in *bufio.Reader, prompt string) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		return strings.TrimSpace(string(b)), err
	}
	line, err := in.ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

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

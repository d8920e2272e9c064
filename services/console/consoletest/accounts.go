package consoletest

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Accounts is an in-memory console.Accounts.
type Accounts struct {
	mu    sync.Mutex
	users map[string]*account
}

type account struct {
	password string
	disabled bool
}

func NewAccounts() *Accounts { return &Accounts{users: map[string]*account{}} }

func (a *Accounts) Create(ctx context.Context, localpart, password string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.users[localpart]; ok {
		return fmt.Errorf("consoletest: account %s exists", localpart)
	}
	a.users[localpart] = &account{password: password}
	return nil
}

func (a *Accounts) SetPassword(ctx context.Context, localpart, password string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[localpart]
	if !ok {
		return fmt.Errorf("consoletest: no account %s", localpart)
	}
	u.password = password
	return nil
}

func (a *Accounts) SetDisabled(ctx context.Context, localpart string, disabled bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[localpart]
	if !ok {
		return fmt.Errorf("consoletest: no account %s", localpart)
	}
	u.disabled = disabled
	return nil
}

func (a *Accounts) Delete(ctx context.Context, localpart string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.users[localpart]; !ok {
		return fmt.Errorf("consoletest: no account %s", localpart)
	}
	delete(a.users, localpart)
	return nil
}

// Password returns the account's password and whether it exists.
func (a *Accounts) Password(localpart string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[localpart]
	if !ok {
		return "", false
	}
	return u.password, true
}

// Disabled reports whether the account is disabled.
func (a *Accounts) Disabled(localpart string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[localpart]
	return ok && u.disabled
}

// Names lists the accounts, sorted.
func (a *Accounts) Names() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for n := range a.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Rosters is an in-memory console.Rosters recording mutual contacts.
type Rosters struct {
	mu    sync.Mutex
	pairs [][2]string
}

func (r *Rosters) AddMutual(ctx context.Context, a, b string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pairs = append(r.pairs, [2]string{a, b})
	return nil
}

// Contacts reports whether a and b were made contacts of each other.
func (r *Rosters) Contacts(a, b string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pairs {
		if (p[0] == a && p[1] == b) || (p[0] == b && p[1] == a) {
			return true
		}
	}
	return false
}

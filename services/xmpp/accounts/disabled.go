package accounts

import (
	"context"
	"fmt"
)

// SetDisabled stops (disabled true) or allows again an account's logins.
// Disabling ends the user's open sessions (through OnChange); the roster,
// offline messages and the rest stay.
func (a *Accounts) SetDisabled(ctx context.Context, user string, disabled bool) error {
	u, err := a.Normalize(user)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE xmpp_accounts SET disabled = ? WHERE username = ?`, b2i(disabled), u)
	a.forget(u)
	if err != nil {
		return fmt.Errorf("accounts: disable %s: %w", u, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNotFound, u)
	}
	if disabled {
		a.changed(u, Disabled)
	}
	return nil
}

// Disabled reports whether a normalized username's account is disabled;
// false for an unknown one. It is answered from the cache (SetDisabled
// drops the entry) and so costs no query on a login.
func (a *Accounts) Disabled(ctx context.Context, username string) (bool, error) {
	e, _, err := a.load(ctx, username)
	if err != nil {
		return false, fmt.Errorf("accounts: disabled %s: %w", username, err)
	}
	return e.disabled, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

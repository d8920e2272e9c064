package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chatsecure/box/services/invites"
	"github.com/chatsecure/box/services/xmpp/accounts"
)

// InviteStore adapts the box's invite store to Invites, sorting its errors
// into what the registering client is told: the invite is not good
// (ErrInviteInvalid), the name is taken (accounts.ErrExists) or the name or
// password was refused (ErrNotAcceptable), each with a plain reason.
func InviteStore(st *invites.Store) Invites { return inviteStore{st} }

type inviteStore struct{ st *invites.Store }

func (a inviteStore) Check(ctx context.Context, token string) error {
	_, err := a.st.Check(ctx, token)
	return inviteErr(err)
}

func (a inviteStore) Redeem(ctx context.Context, token, localpart, password string) (string, error) {
	inv, err := a.st.Redeem(ctx, token, localpart, password)
	if err != nil && inv.Token != "" {
		// The account was made; only making the contacts failed. The
		// server retries that with AddMutual.
		return inv.CreatedBy, nil
	}
	if err := inviteErr(err); err != nil {
		return "", err
	}
	return inv.CreatedBy, nil
}

func inviteErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, invites.ErrNotFound):
		return fmt.Errorf("%w: no such invite", ErrInviteInvalid)
	case errors.Is(err, invites.ErrExpired), errors.Is(err, invites.ErrRevoked), errors.Is(err, invites.ErrUsedUp):
		return fmt.Errorf("%w: %s", ErrInviteInvalid, strings.TrimPrefix(err.Error(), "invites: "))
	case errors.Is(err, accounts.ErrExists):
		return err
	case errors.Is(err, invites.ErrBadLocalpart), errors.Is(err, accounts.ErrBadUsername):
		return fmt.Errorf("%w: %s", ErrNotAcceptable, strings.TrimPrefix(invites.ErrBadLocalpart.Error(), "invites: "))
	case errors.Is(err, accounts.ErrBadPassword):
		return fmt.Errorf("%w: the password is not acceptable", ErrNotAcceptable)
	}
	// What else Redeem returns comes from the account maker (the console
	// refuses short passwords and names of existing people in plain
	// words) or from the database; the first kind is for the user.
	msg := err.Error()
	if strings.Contains(msg, "sql") || strings.Contains(msg, "database") {
		return err
	}
	return fmt.Errorf("%w: %s", ErrNotAcceptable, strings.TrimPrefix(msg, "invites: redeem: "))
}

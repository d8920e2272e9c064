package appliance

import (
	"context"
	"errors"

	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/console"
	"github.com/chatsecure/box/services/xmpp"
)

// serviceFactories lists the services boxd runs, in start order: the console
// comes after XMPP because it manages XMPP's accounts.
func serviceFactories() []ServiceFactory {
	return []ServiceFactory{
		{"xmpp", func(env ServiceEnv) (services.Service, error) {
			x, err := xmpp.New(env.Config.XMPP, env.Store, env.TLS, env.Logger.With("service", "xmpp"))
			if err == nil {
				env.SetSessions(x.Sessions)
				if env.SetMessagesPerMinute != nil {
					env.SetMessagesPerMinute(x.MessagesPerMinute)
				}
			}
			return x, err
		}},
		{"console", func(env ServiceEnv) (services.Service, error) {
			if env.Config.Console.Listen == "" {
				return nil, errors.New("console: no listener configured")
			}
			x, ok := env.Made["xmpp"].(*xmpp.Server)
			if !ok {
				return nil, errors.New("console: needs the XMPP service, which is not running")
			}
			svc, err := console.New(context.Background(), console.Options{
				Config:   env.Config.Console,
				Domain:   env.Config.XMPP.Domain,
				DataDir:  env.Config.DataDir,
				Store:    env.Store,
				TLS:      env.TLS,
				Box:      env.Box,
				Accounts: xmppAccounts{x},
				Rosters:  x,
				Log:      env.Logger.With("service", "console"),
			})
			if err != nil {
				return nil, err
			}
			// In-band registration goes through the console's invite
			// store, which exists only now: accounts made by invite are
			// console people too, and the inviter becomes a contact.
			x.SetInvites(xmpp.InviteStore(svc.Invites()))
			return svc, nil
		}},
	}
}

// xmppAccounts is the XMPP account table as the console manages it.
type xmppAccounts struct{ x *xmpp.Server }

func (a xmppAccounts) Create(ctx context.Context, localpart, password string) error {
	return a.x.Accounts().Create(ctx, localpart, password)
}

func (a xmppAccounts) SetPassword(ctx context.Context, localpart, password string) error {
	return a.x.Accounts().SetPassword(ctx, localpart, password)
}

func (a xmppAccounts) SetDisabled(ctx context.Context, localpart string, disabled bool) error {
	return a.x.Accounts().SetDisabled(ctx, localpart, disabled)
}

func (a xmppAccounts) Delete(ctx context.Context, localpart string) error {
	return a.x.Accounts().Delete(ctx, localpart)
}

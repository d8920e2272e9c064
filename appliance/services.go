package appliance

import (
	"github.com/chatsecure/box/services"
	"github.com/chatsecure/box/services/xmpp"
)

// serviceFactories lists the services boxd runs, in start order.
func serviceFactories() []ServiceFactory {
	return []ServiceFactory{
		func(env ServiceEnv) (services.Service, error) {
			return xmpp.New(env.Config.XMPP, env.Store, env.TLS, env.Logger.With("service", "xmpp"))
		},
	}
}

package appliance

// serviceFactories lists the services boxd runs, in start order.
func serviceFactories() []ServiceFactory {
	return nil
}

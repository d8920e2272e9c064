package appliance

import (
	"context"
	"errors"
)

// errShuttingDown refuses an apply asked for while boxd stops or erases.
var errShuttingDown = errors.New("updates: the box is shutting down or being reset; try again once it is back")

// goApply runs an apply that outlives its console request on the
// center's own context, so that stopApplies can cancel it and wait.
func (c *updateCenter) goApply(apply func(ctx context.Context)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return errShuttingDown
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		apply(c.bgCtx)
	}()
	return nil
}

// stopApplies cancels the console's applies and waits for them to end (an
// interrupted apply records why, and the slot it wrote stays unbootable).
// It must be called without s.mu: an ending apply audits under it.
func (c *updateCenter) stopApplies() {
	c.mu.Lock()
	c.stopped = true
	c.mu.Unlock()
	c.bgCancel()
	c.bg.Wait()
}

// stopUpdateApplies stops the current center's background applies; s.mu
// must not be held.
func (s *System) stopUpdateApplies() {
	s.mu.Lock()
	c := s.updCenter
	s.mu.Unlock()
	if c != nil {
		c.stopApplies()
	}
}

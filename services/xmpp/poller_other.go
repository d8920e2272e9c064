//go:build !linux

package xmpp

import "errors"

// Elsewhere sessions never park (canPark is false); these keep the
// parking code compiling.
type poller struct{}

var errNoPoller = errors.New("xmpp: no epoll")

func sharedPoller() (*poller, error) { return nil, errNoPoller }

func (p *poller) newGen() uint32    { return 0 }
func (p *poller) arm(c *conn) error { return errNoPoller }
func (p *poller) forget(c *conn)    {}

package xmpp

import (
	"github.com/chatsecure/box/services/xmpp/accounts"
)

// Accounts is the account table, for the console's people pages.
func (s *Server) Accounts() *accounts.Accounts { return s.acc }

// Sessions is how many client sessions are bound now (dashboard, metrics).
func (s *Server) Sessions() int { return s.router.Sessions() }

// MessagesPerMinute is how many messages clients sent in the last minute
// (dashboard, metrics).
func (s *Server) MessagesPerMinute() int { return s.router.MessagesPerMinute() }

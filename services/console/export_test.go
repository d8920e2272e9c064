package console

// RouteAccess lists every route pattern with whether it is public, for
// signed-in people, or admins only; the tests walk it.
func (s *Service) RouteAccess() map[string]string {
	out := map[string]string{}
	for _, rt := range s.routeTable() {
		out[rt.pattern] = map[access]string{public: "public", self: "self", admin: "admin"}[rt.access]
	}
	return out
}

var (
	Hotp           = hotp
	VerifyTOTP     = verifyTOTP
	ParseTOTPCode  = parseTOTPCode
	VerifyPassword = verifyPassword
	ParsePHC       = func(s string) error { _, err := parsePHC(s); return err }
	Redact         = redact
	Backoff        = backoff
	CheckKeyPair   = checkKeyPair
)

func (p Argon2) Hash(pw string) (string, error) { return p.hash(pw) }

var RedirectHandler = redirectHandler

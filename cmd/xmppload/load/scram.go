package load

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"sync"
)

// scramHash returns the hash constructor for a SCRAM mechanism name
// (SCRAM-SHA-1 or SCRAM-SHA-256; the -PLUS variants are not offered by the
// load tool because channel binding is not what it measures).
func scramHash(mech string) (func() hash.Hash, error) {
	switch mech {
	case "SCRAM-SHA-1":
		return sha1.New, nil
	case "SCRAM-SHA-256":
		return sha256.New, nil
	}
	return nil, fmt.Errorf("scram: unsupported mechanism %q", mech)
}

// serverFirst is the parsed server-first-message of RFC 5802 §5.1.
type serverFirst struct {
	Nonce string
	Salt  []byte
	Iter  int
}

// maxIterations bounds the PBKDF2 work a hostile or broken server can ask of us.
const maxIterations = 1 << 20

// parseServerFirst parses "r=...,s=...,i=..." and checks that the nonce
// extends ours.
func parseServerFirst(msg, clientNonce string) (serverFirst, error) {
	var sf serverFirst
	if strings.HasPrefix(msg, "m=") {
		return sf, errors.New("scram: server-first: mandatory extension not supported")
	}
	parts := strings.Split(msg, ",")
	if len(parts) < 3 {
		return sf, fmt.Errorf("scram: server-first: want r=,s=,i=, got %d fields", len(parts))
	}
	for i, want := range []string{"r=", "s=", "i="} {
		if !strings.HasPrefix(parts[i], want) {
			return sf, fmt.Errorf("scram: server-first: field %d: want %q prefix", i, want)
		}
	}
	sf.Nonce = parts[0][2:]
	if !strings.HasPrefix(sf.Nonce, clientNonce) || len(sf.Nonce) == len(clientNonce) {
		return sf, errors.New("scram: server-first: server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(parts[1][2:])
	if err != nil {
		return sf, fmt.Errorf("scram: server-first: salt: %w", err)
	}
	if len(salt) == 0 {
		return sf, errors.New("scram: server-first: empty salt")
	}
	sf.Salt = salt
	it, err := strconv.Atoi(parts[2][2:])
	if err != nil {
		return sf, fmt.Errorf("scram: server-first: iteration count: %w", err)
	}
	if it < 1 || it > maxIterations {
		return sf, fmt.Errorf("scram: server-first: iteration count %d out of range", it)
	}
	sf.Iter = it
	return sf, nil
}

// saslName escapes a username for the n= attribute (RFC 5802 §5.1).
func saslName(user string) string {
	if !strings.ContainsAny(user, "=,") {
		return user
	}
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
}

// scramKeys are what a client derives from the password: ClientKey and
// ServerKey. Deriving them costs the PBKDF2 iterations, which is why they are
// cached (real clients cache them too).
type scramKeys struct {
	ClientKey []byte `json:"c"`
	ServerKey []byte `json:"s"`
}

// ScramCache remembers derived keys per (mechanism, salt, iterations,
// password) so that the load tool's own PBKDF2 work is paid once per account,
// not once per login: otherwise the tool, not the server, would be measured.
// It is safe for concurrent use.
type ScramCache struct {
	mu sync.Mutex
	m  map[string]scramKeys
}

// NewScramCache returns an empty cache.
func NewScramCache() *ScramCache { return &ScramCache{m: make(map[string]scramKeys)} }

func cacheKey(mech string, salt []byte, iter int, password string) string {
	ph := sha256.Sum256([]byte(password))
	return mech + "|" + strconv.Itoa(iter) + "|" + base64.StdEncoding.EncodeToString(salt) + "|" +
		base64.StdEncoding.EncodeToString(ph[:8])
}

func (c *ScramCache) keys(mech string, h func() hash.Hash, salt []byte, iter int, password string) (scramKeys, error) {
	var k string
	if c != nil {
		k = cacheKey(mech, salt, iter, password)
		c.mu.Lock()
		v, ok := c.m[k]
		c.mu.Unlock()
		if ok {
			return v, nil
		}
	}
	salted, err := pbkdf2.Key(h, password, salt, iter, h().Size())
	if err != nil {
		return scramKeys{}, fmt.Errorf("scram: pbkdf2: %w", err)
	}
	v := scramKeys{ClientKey: hmacSum(h, salted, "Client Key"), ServerKey: hmacSum(h, salted, "Server Key")}
	if c != nil {
		c.mu.Lock()
		c.m[k] = v
		c.mu.Unlock()
	}
	return v, nil
}

// Len reports how many derived keys are cached.
func (c *ScramCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Load merges a cache file written by Save; a missing file is not an error.
func (c *ScramCache) Load(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scram: load cache: %w", err)
	}
	m := map[string]scramKeys{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scram: load cache %s: %w", path, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range m {
		c.m[k] = v
	}
	return nil
}

// Save writes the cache atomically.
func (c *ScramCache) Save(path string) error {
	c.mu.Lock()
	b, err := json.Marshal(c.m)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("scram: save cache: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("scram: save cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("scram: save cache: %w", err)
	}
	return nil
}

func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// scramClient runs one SCRAM exchange without channel binding.
type scramClient struct {
	mech        string
	h           func() hash.Hash
	user, pass  string
	cache       *ScramCache
	nonce       string
	clientFirst string // bare
	serverSig   []byte
}

func newScramClient(mech, user, pass string, cache *ScramCache) (*scramClient, error) {
	h, err := scramHash(mech)
	if err != nil {
		return nil, err
	}
	var nb [18]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, fmt.Errorf("scram: nonce: %w", err)
	}
	s := &scramClient{mech: mech, h: h, user: user, pass: pass, cache: cache,
		nonce: base64.RawStdEncoding.EncodeToString(nb[:])}
	s.clientFirst = "n=" + saslName(user) + ",r=" + s.nonce
	return s, nil
}

// First returns the client-first-message (gs2 header "n,," : no binding).
func (s *scramClient) First() []byte { return []byte("n,," + s.clientFirst) }

// Final answers the server-first-message with the client-final-message.
func (s *scramClient) Final(serverFirstMsg []byte) ([]byte, error) {
	sf, err := parseServerFirst(string(serverFirstMsg), s.nonce)
	if err != nil {
		return nil, err
	}
	keys, err := s.cache.keys(s.mech, s.h, sf.Salt, sf.Iter, s.pass)
	if err != nil {
		return nil, err
	}
	withoutProof := "c=biws,r=" + sf.Nonce
	authMsg := s.clientFirst + "," + string(serverFirstMsg) + "," + withoutProof
	hh := s.h()
	hh.Write(keys.ClientKey)
	storedKey := hh.Sum(nil)
	sig := hmacSum(s.h, storedKey, authMsg)
	proof := make([]byte, len(sig))
	for i := range sig {
		proof[i] = keys.ClientKey[i] ^ sig[i]
	}
	s.serverSig = hmacSum(s.h, keys.ServerKey, authMsg)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// Verify checks the server-final-message "v=..." so that a server that does
// not know the password cannot pass for one that does.
func (s *scramClient) Verify(serverFinal []byte) error {
	msg := string(serverFinal)
	if strings.HasPrefix(msg, "e=") {
		return fmt.Errorf("scram: server error %q", msg[2:])
	}
	if !strings.HasPrefix(msg, "v=") {
		return fmt.Errorf("scram: server-final: want v=, got %q", truncate(msg, 40))
	}
	v := msg[2:]
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("scram: server-final: %w", err)
	}
	if s.serverSig == nil || subtle.ConstantTimeCompare(got, s.serverSig) != 1 {
		return errors.New("scram: server signature mismatch")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

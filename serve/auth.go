package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
)

// TokenEnv is the environment variable the services and their clients read
// the bearer token from when no --token flag is given. The environment is
// the better place: a flag is visible to every user of the machine in the
// process list.
const TokenEnv = "URLVR_TOKEN"

// Auth checks bearer tokens. A service started with tokens answers 401 to
// every request that does not carry one of them in an
// "Authorization: Bearer <token>" header, except the health probes that
// load balancers and orchestrators call without credentials. A service
// without tokens accepts every request, so it must only listen where every
// client is trusted (loopback); Exposed says when that is not so.
//
// Each token is a principal: the reward service keeps the rollouts of
// different principals apart, so a trainer given its own token cannot have
// its groups joined by another's rollouts.
type Auth struct {
	// digests of the tokens: comparing fixed-length digests in constant
	// time reveals neither a token's bytes nor its length through timing.
	digests [][sha256.Size]byte
}

// NewAuth returns a checker for the given tokens; none means every request
// is accepted. A token must be at least 16 characters of printable ASCII
// without spaces (a header value that survives every proxy); the error
// says which is wrong without printing it.
func NewAuth(tokens ...string) (*Auth, error) {
	a := &Auth{}
	for i, t := range tokens {
		if len(t) < 16 {
			return nil, fmt.Errorf("token %d is %d characters; use at least 16 (for example: openssl rand -hex 32)", i+1, len(t))
		}
		for _, c := range []byte(t) {
			if c <= ' ' || c > '~' {
				return nil, fmt.Errorf("token %d has a character outside printable ASCII or a space", i+1)
			}
		}
		a.digests = append(a.digests, sha256.Sum256([]byte(t)))
	}
	return a, nil
}

// TokensFromEnv splits the value of URLVR_TOKEN: one token, or several
// separated by commas (one per trainer).
func TokensFromEnv() []string {
	var out []string
	for _, t := range strings.Split(os.Getenv(TokenEnv), ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// Enabled reports whether requests must carry a token.
func (a *Auth) Enabled() bool { return a != nil && len(a.digests) > 0 }

// Principal returns which token the request carries: its 1-based index, or
// 0 when tokens are off. ok is false when tokens are on and the request
// carries none of them.
func (a *Auth) Principal(r *http.Request) (principal int, ok bool) {
	if !a.Enabled() {
		return 0, true
	}
	tok, found := bearer(r.Header.Get("Authorization"))
	if !found {
		return 0, false
	}
	d := sha256.Sum256([]byte(tok))
	// Compare against every token, without stopping early, so that the
	// time taken does not say which one matched.
	match := 0
	for i := range a.digests {
		if subtle.ConstantTimeCompare(d[:], a.digests[i][:]) == 1 {
			match = i + 1
		}
	}
	return match, match > 0
}

// bearer extracts the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive, as RFC 9110 says).
func bearer(h string) (string, bool) {
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(h[len(scheme):]), true
}

// ErrUnauthorized is the 401 of a request without a valid token.
var ErrUnauthorized = Errorf(http.StatusUnauthorized,
	`missing or wrong bearer token: send the header "Authorization: Bearer <token>" with the token the service was started with (--token or %s)`, TokenEnv)

// Require wraps next so that, with tokens on, every request except those
// to the open paths (health probes, matched exactly) needs a valid token.
// The 401 names what to send and carries WWW-Authenticate, as RFC 6750
// asks; it is written before the body is read.
func (a *Auth) Require(next http.Handler, open ...string) http.Handler {
	if !a.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			for _, p := range open {
				if r.URL.Path == p {
					next.ServeHTTP(w, r)
					return
				}
			}
		}
		if _, ok := a.Principal(r); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="urlvr"`)
			// The body is not read: close the connection rather than drain
			// an unauthenticated upload.
			Refuse(w)
			r.Pattern = "unauthorized"
			WriteError(w, ErrUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Exposed reports whether addr (a listener's address) is reachable from
// other machines: any address but a loopback one, the unspecified
// addresses 0.0.0.0 and :: included.
func Exposed(addr net.Addr) bool {
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// WarnIfExposed logs a warning when a service without tokens listens on an
// address other machines can reach.
func WarnIfExposed(log *slog.Logger, addr net.Addr, auth *Auth) {
	if auth.Enabled() || !Exposed(addr) {
		return
	}
	log.Warn("listening on a non-loopback address without a token: anyone who reaches this port can use every endpoint; set "+TokenEnv+" (or --token) or listen on 127.0.0.1",
		"addr", addr.String())
}

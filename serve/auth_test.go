package serve

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAuthRequire(t *testing.T) {
	a, err := NewAuth("first-token-0123456789", "second-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	var principal int
	h := a.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		principal, _ = a.Principal(r)
		w.WriteHeader(http.StatusNoContent)
	}), "/healthz")
	cases := []struct {
		method, path, header string
		code, principal      int
	}{
		{"GET", "/healthz", "", 204, 0},                                  // probes need no token
		{"POST", "/healthz", "", 401, 0},                                 // only reads of a probe are open
		{"GET", "/healthz/x", "", 401, 0},                                // open paths match exactly
		{"GET", "/metrics", "", 401, 0},                                  // every other endpoint needs one
		{"POST", "/v1/rewards", "Bearer wrong-token-0123456789", 401, 0}, // a wrong token
		{"POST", "/v1/rewards", "Basic Zmlyc3QtdG9rZW4=", 401, 0},        // another scheme
		{"POST", "/v1/rewards", "Bearer", 401, 0},
		{"POST", "/v1/rewards", "Bearer first-token-012345678", 401, 0}, // a prefix of a token
		{"POST", "/v1/rewards", "Bearer first-token-0123456789", 204, 1},
		{"POST", "/v1/rewards", "bearer  second-token-0123456789 ", 204, 2}, // scheme case and spaces
	}
	for _, c := range cases {
		principal = -1
		req := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		if c.header != "" {
			req.Header.Set("Authorization", c.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s %s %q: status %d, want %d", c.method, c.path, c.header, rec.Code, c.code)
			continue
		}
		if c.code == 401 {
			if !strings.Contains(rec.Body.String(), "missing or wrong bearer token") || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: 401 body %q, WWW-Authenticate %q", c.method, c.path, rec.Body.String(), rec.Header().Get("WWW-Authenticate"))
			}
		} else if principal != c.principal {
			t.Errorf("%s %s %q: principal %d, want %d", c.method, c.path, c.header, principal, c.principal)
		}
	}
}

func TestAuthOffAcceptsEverything(t *testing.T) {
	a, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	if a.Enabled() {
		t.Fatal("no tokens must mean no checks")
	}
	req := httptest.NewRequest("POST", "/v1/rewards", nil)
	if p, ok := a.Principal(req); !ok || p != 0 {
		t.Errorf("principal %d %v", p, ok)
	}
	var nilAuth *Auth
	if nilAuth.Enabled() {
		t.Error("a nil checker has no tokens")
	}
}

func TestNewAuthRejectsWeakTokens(t *testing.T) {
	for _, tok := range []string{"short", "has a space in it ok", "tab\tinside-0123456789", "é-not-ascii-0123456789"} {
		if _, err := NewAuth(tok); err == nil {
			t.Errorf("token %q accepted", tok)
		} else if strings.Contains(err.Error(), tok) {
			t.Errorf("the error prints the token: %v", err)
		}
	}
}

func TestExposed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8000": false, "127.1.2.3:1": false, "[::1]:8000": false,
		"0.0.0.0:8000": true, "[::]:8000": true, "10.0.0.7:8000": true, "192.168.1.2:80": true,
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := Exposed(a); got != want {
			t.Errorf("Exposed(%s) = %v, want %v", addr, got, want)
		}
	}
}

// FuzzBearer checks that no Authorization header but the exact token is
// accepted, and that parsing never panics.
func FuzzBearer(f *testing.F) {
	const token = "the-right-token-0123456789"
	for _, s := range []string{"Bearer " + token, "bearer " + token, "Bearer " + token + "x", "Bearer", "", "Bearer  ", "BEARER " + token[:10]} {
		f.Add(s)
	}
	a, err := NewAuth(token)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Authorization"] = []string{header}
		_, ok := a.Principal(req)
		tok, found := bearer(header)
		if ok != (found && tok == token) {
			t.Fatalf("header %q: accepted %v", header, ok)
		}
	})
}

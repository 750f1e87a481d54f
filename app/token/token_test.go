package token

import (
	"strings"
	"testing"
)

func TestAPITokensCarryAChecksum(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		tok := NewAPI()
		if len(tok) != APILength || !strings.HasPrefix(tok, APIPrefix) {
			t.Fatalf("token %q: want %d characters starting %s", tok, APILength, APIPrefix)
		}
		if !ValidAPI(tok) {
			t.Fatalf("a fresh token %q fails its own checksum", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
		// Every single-character typo is caught by the checksum.
		body := []byte(tok)
		for i := len(APIPrefix); i < len(body); i++ {
			orig := body[i]
			body[i] = base62[(strings.IndexByte(base62, orig)+1)%len(base62)]
			if ValidAPI(string(body)) {
				t.Fatalf("typo at %d of %q passes the checksum", i, tok)
			}
			body[i] = orig
		}
	}
	tok := NewAPI()
	for _, bad := range []string{"", APIPrefix, tok[:len(tok)-1], tok + "0", "ghp_" + tok[len(APIPrefix):], strings.Replace(tok, tok[10:11], "-", 1), " " + tok[1:]} {
		if ValidAPI(bad) {
			t.Errorf("ValidAPI(%q) = true", bad)
		}
	}
}

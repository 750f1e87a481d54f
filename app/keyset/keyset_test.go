package keyset_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"moat/app/keyset"
)

func TestCursorsRoundTripAndRefuseTampering(t *testing.T) {
	c := keyset.Cursor{Sort: "name", Desc: true, Value: "ada lovelace", At: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), ID: uuid.New()}
	got, ok := keyset.Decode(c.Encode(), "name", "number")
	if !ok || got != c {
		t.Fatalf("round trip: %+v %v, want %+v", got, ok, c)
	}
	forged := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	for name, s := range map[string]string{
		"empty":         "",
		"not base64":    "%%%",
		"not JSON":      forged("nope"),
		"no id":         forged(`{"s":"name","v":"x"}`),
		"another order": keyset.Cursor{Sort: "secret", ID: uuid.New()}.Encode(),
		"NUL in value":  forged(`{"s":"name","v":"a\u0000b","i":"` + uuid.NewString() + `"}`),
		"oversized":     keyset.Cursor{Sort: "name", Value: strings.Repeat("x", 2000), ID: uuid.New()}.Encode(),
	} {
		if _, ok := keyset.Decode(s, "name", "number"); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, ok := keyset.Decode(keyset.Cursor{At: time.Now(), ID: uuid.New()}.Encode()); !ok {
		t.Error("a cursor of a list with one order (no sort named) was refused")
	}
}

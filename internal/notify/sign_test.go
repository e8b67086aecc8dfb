package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnerops/license-operator/internal/notify"
)

func TestSign(t *testing.T) {
	ts := time.Unix(1773480600, 0)
	body := []byte(`{"key":"abc","event":"OrderFulfilled"}`)

	// printf '%s' "1773480600.$body" | openssl dgst -sha256 -hmac secret
	const openssl = "sha256=daf5597fdd87bc6a00f5a73c9e0243c1bbeda87e0ff6ebf7da064493a7ed8f87"
	if got := notify.Sign([]byte("secret"), ts, body); got != openssl {
		t.Errorf("Sign = %s, want %s (openssl's)", got, openssl)
	}

	// The same, computed here with crypto/hmac over another secret and body.
	secret, other := []byte("hook-secret-2"), []byte(`{"key":"k2"}`)
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(strconv.FormatInt(ts.Unix(), 10) + "." + string(other)))
	want := "sha256=" + hex.EncodeToString(h.Sum(nil))
	if got := notify.Sign(secret, ts, other); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
	if notify.Sign(secret, ts.Add(time.Second), other) == want {
		t.Error("the signature does not cover the timestamp")
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("secret")
	body := []byte(`{"key":"abc","event":"OrderFulfilled"}`)
	sent := time.Unix(1773480600, 0)
	ts := "1773480600"
	sig := notify.Sign(secret, sent, body)
	tolerance := 5 * time.Minute

	cases := []struct {
		name           string
		secret         []byte
		timestamp, sig string
		body           []byte
		now            time.Time
		wantErr        string
	}{
		{name: "as sent", secret: secret, timestamp: ts, sig: sig, body: body, now: sent.Add(time.Minute)},
		{name: "openssl's signature", secret: secret, timestamp: ts,
			sig: "sha256=daf5597fdd87bc6a00f5a73c9e0243c1bbeda87e0ff6ebf7da064493a7ed8f87", body: body, now: sent},
		{name: "at the tolerance", secret: secret, timestamp: ts, sig: sig, body: body, now: sent.Add(tolerance)},
		{name: "a clock behind the sender's", secret: secret, timestamp: ts, sig: sig, body: body, now: sent.Add(-time.Minute)},
		{name: "tampered body", secret: secret, timestamp: ts, sig: sig,
			body: []byte(`{"key":"abd","event":"OrderFulfilled"}`), now: sent, wantErr: "does not match"},
		{name: "wrong secret", secret: []byte("secreT"), timestamp: ts, sig: sig, body: body, now: sent, wantErr: "does not match"},
		{name: "another timestamp", secret: secret, timestamp: "1773480601", sig: sig, body: body, now: sent, wantErr: "does not match"},
		{name: "stale", secret: secret, timestamp: ts, sig: sig, body: body, now: sent.Add(tolerance + time.Second),
			wantErr: "beyond the tolerance"},
		{name: "from the future", secret: secret, timestamp: ts, sig: sig, body: body, now: sent.Add(-tolerance - time.Second),
			wantErr: "beyond the tolerance"},
		{name: "no prefix", secret: secret, timestamp: ts, sig: strings.TrimPrefix(sig, "sha256="), body: body, now: sent,
			wantErr: "want sha256="},
		{name: "not hex", secret: secret, timestamp: ts, sig: "sha256=zz", body: body, now: sent, wantErr: "not hex"},
		{name: "not a timestamp", secret: secret, timestamp: "2026-03-14", sig: sig, body: body, now: sent,
			wantErr: "want Unix seconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := notify.Verify(tc.secret, tc.timestamp, tc.sig, tc.body, tc.now, tolerance)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Verify: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Verify: %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

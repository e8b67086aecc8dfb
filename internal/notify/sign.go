package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a webhook's request, and the prefix of a CloudEvent's type.
const (
	// HeaderIdempotencyKey carries the notice's key: the same on every attempt; receivers dedupe on it.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderEvent carries the event, such as OrderFulfilled.
	HeaderEvent = "X-License-Event"
	// HeaderTimestamp carries the time of sending, in Unix seconds; it is signed with the body.
	HeaderTimestamp = "X-License-Timestamp"
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256, keyed with the sink's secret, of
	// the timestamp header's value, ".", and the body.
	HeaderSignature = "X-License-Signature"
	// EventTypePrefix prefixes a CloudEvent's type: io.partnerops.licensing.OrderFulfilled.
	EventTypePrefix = "io.partnerops.licensing."
)

const signaturePrefix = "sha256="

// Sign returns the X-License-Signature of body sent at timestamp: "sha256=" and the hex
// HMAC-SHA256, keyed with secret, of the Unix seconds of timestamp, ".", and body.
func Sign(secret []byte, timestamp time.Time, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp.Unix(), 10), body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a webhook request as a receiver would: signature (the X-License-Signature header)
// must be the HMAC of timestamp (the X-License-Timestamp header, Unix seconds) and body, and
// timestamp within tolerance of now, so that a recorded request cannot be replayed later.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q: want Unix seconds", HeaderTimestamp, timestamp)
	}
	sent := time.Unix(secs, 0)
	if skew := now.Sub(sent); skew > tolerance || -skew > tolerance {
		return fmt.Errorf("%s %q is %s away from now, beyond the tolerance of %s", HeaderTimestamp, timestamp,
			skew.Abs(), tolerance)
	}
	hexSum, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return fmt.Errorf("%s %q: want %s<hex HMAC-SHA256>", HeaderSignature, signature, signaturePrefix)
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil {
		return fmt.Errorf("%s %q: not hex", HeaderSignature, signature)
	}
	if !hmac.Equal(sum, mac(secret, timestamp, body)) {
		return fmt.Errorf("%s does not match the body and timestamp: wrong secret, or the request was changed", HeaderSignature)
	}
	return nil
}

package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// GiveUpAfter is how old an event may be and still be told: a notice not delivered by then (the
// sink failed or was suspended all along) is not attempted any more.
const GiveUpAfter = 72 * time.Hour

// Data is what a notice says: the portal's order-history fields and more. Templates read it; the
// webhook's and the CloudEvent's data carry it as JSON.
type Data struct {
	// Event is what happened.
	Event v1alpha1.NoticeEvent `json:"event"`
	// Namespace is the plan's and its orders' namespace.
	Namespace string `json:"namespace"`
	// Customer is the plan's customer (spec.customer).
	Customer string `json:"customer,omitempty"`
	// CostCenter is the cost center billed.
	CostCenter string `json:"costCenter,omitempty"`
	// Plan is the CustomerLicensePlan's name.
	Plan string `json:"plan"`
	// Order is the order the notice is recorded on: the order told of, or for a plan event the
	// plan's latest applied order.
	Order string `json:"order,omitempty"`
	// Time is when it happened, in UTC: the order's fulfilledAt (OrderFulfilled), the order's
	// creation (the other order events), or the day of a plan event (the first day of the notice
	// window for RenewalComing and TrialEnding, expiredOn for PlanExpired).
	Time time.Time `json:"time"`
	// User is who asked for the change (the order's spec.requestedBy), or "System".
	User string `json:"user"`
	// SKU is the product's SKU.
	SKU string `json:"sku,omitempty"`
	// Product is the LicenseProduct's name.
	Product string `json:"product,omitempty"`
	// PaymentPlan is the payment plan ordered, or in force for a plan event.
	PaymentPlan string `json:"paymentPlan,omitempty"`
	// Reference is the purchaser's reference.
	Reference string `json:"reference,omitempty"`
	// Change is the kind of change the order records (New, IncreaseQuantity, Renewal...).
	Change string `json:"change,omitempty"`
	// Quantity is the number of licenses after the order, or in force for a plan event.
	Quantity int32 `json:"quantity"`
	// Charge is the order's charge with its currency, such as "21.29 EUR"; for RenewalComing the
	// next invoice's amount.
	Charge string `json:"charge,omitempty"`
	// RenewalDate is the plan's (new) renewal date, YYYY-MM-DD.
	RenewalDate string `json:"renewalDate,omitempty"`
	// Reason is the machine-readable cause of a rejection or denial.
	Reason string `json:"reason,omitempty"`
	// Message explains a rejection or denial to a person.
	Message string `json:"message,omitempty"`
	// Approve is the command that approves an order awaiting approval.
	Approve string `json:"approve,omitempty"`
	// DaysLeft is, for RenewalComing and TrialEnding, the days until the renewal date.
	DaysLeft int `json:"daysLeft,omitempty"`
}

// Pending is a notice due to a sink.
type Pending struct {
	// Order is the order whose status.notices records the notice.
	Order string
	// Notice is the notice's record so far: Sink, Event, Key, and the attempts made (from the
	// order's status).
	Notice v1alpha1.Notice
	// Data is what the notice says.
	Data Data
}

// Key is a notice's idempotency key: the lowercase hex SHA-256 of uid, event, occurrence and sink
// joined by "\n", cut to 32 characters. uid is the order's UID for an order event, the plan's for a
// plan event; occurrence is "" for order events, the renewal date for RenewalComing and TrialEnding
// and expiredOn for PlanExpired, so that each term is told once.
func Key(uid types.UID, event v1alpha1.NoticeEvent, occurrence, sink string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{string(uid), string(event), occurrence, sink}, "\n")))
	return hex.EncodeToString(sum[:])[:32]
}

// maxErrorLength bounds the lastError recorded on an order's status.
const maxErrorLength = 512

// Attempted returns n after one more attempt at now: delivered when err is nil (deliveredAt = now,
// lastError cleared), failed with err's text otherwise.
func Attempted(n v1alpha1.Notice, now time.Time, err error) v1alpha1.Notice {
	at := metav1.NewTime(now.UTC())
	n.Attempts++
	n.LastAttempt = &at
	if err == nil {
		n.DeliveredAt = &at
		n.LastError = ""
		return n
	}
	n.DeliveredAt = nil
	msg := err.Error()
	if len(msg) > maxErrorLength {
		msg = msg[:maxErrorLength-3] + "..."
	}
	n.LastError = msg
	return n
}

// Record returns notices with n in place of the entry of the same key, or appended: a new slice,
// notices is not changed.
func Record(notices []v1alpha1.Notice, n v1alpha1.Notice) []v1alpha1.Notice {
	out := make([]v1alpha1.Notice, 0, len(notices)+1)
	replaced := false
	for _, o := range notices {
		if o.Key == n.Key {
			if !replaced {
				out = append(out, n)
				replaced = true
			}
			continue
		}
		out = append(out, o)
	}
	if !replaced {
		out = append(out, n)
	}
	return out
}

// firstBackoff and maxBackoff bound the waits between attempts.
const (
	firstBackoff = 30 * time.Second
	maxBackoff   = time.Hour
)

// Backoff is how long to wait after the attempts-th failed attempt before the next: 30s, 1m, 2m,
// 4m... doubling up to 1h. Zero before any attempt.
func Backoff(attempts int32) time.Duration {
	if attempts <= 0 {
		return 0
	}
	d := firstBackoff
	for i := int32(1); i < attempts; i++ {
		d *= 2
		if d >= maxBackoff {
			return maxBackoff
		}
	}
	return d
}

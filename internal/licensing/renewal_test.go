package licensing

import (
	"testing"
	"time"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestTermOrderFirst(t *testing.T) {
	st := v1alpha1.CustomerLicensePlanStatus{Revision: 1, Product: "p", Licenses: 1, Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}}
	inWindow := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)
	ended := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name        string
		changeAsked bool
		now         time.Time
		want        bool
	}{
		{"no change asked: the renewal goes", false, inWindow, true},
		{"a change asked before the term ends: the change goes first", true, inWindow, false},
		{"a change asked after the term ended: the renewal goes first", true, ended, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := TermOrderFirst(st, tt.changeAsked, tt.now); got != tt.want {
				t.Errorf("TermOrderFirst = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTermOrder(t *testing.T) {
	six := int32(6)
	st := v1alpha1.CustomerLicensePlanStatus{Revision: 2, Product: "p", Licenses: 10, PaymentPlan: v1alpha1.Monthly,
		Term: &v1alpha1.Term{Start: "2026-03-01", End: "2026-04-01"}, PendingChange: &v1alpha1.PendingChange{Quantity: &six, EffectiveDate: "2026-04-01"}}
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	renewal := ChangeRequest{Change: v1alpha1.ChangeRenewal, Product: "p", PaymentPlan: v1alpha1.Monthly, Quantity: 6, PreviousQuantity: 10, EffectiveDate: end}
	expiry := ChangeRequest{Change: v1alpha1.ChangeExpiry, Product: "p", PaymentPlan: v1alpha1.Monthly, Quantity: 0, PreviousQuantity: 10, EffectiveDate: end}
	notInForce := st
	notInForce.ExpiredOn = "2026-03-01"
	for _, tt := range []struct {
		name     string
		st       v1alpha1.CustomerLicensePlanStatus
		action   v1alpha1.RenewalAction
		now      time.Time
		want     ChangeRequest
		wantDue  bool
		wantNext time.Time
	}{
		{"before the renewal time: due at term end minus renewBefore", st, v1alpha1.RenewalActionRenew, end.Add(-8 * 24 * time.Hour), ChangeRequest{}, false, end.Add(-week)},
		{"at the renewal time: a renewal with the pending change", st, v1alpha1.RenewalActionRenew, end.Add(-week), renewal, true, time.Time{}},
		{"after the term ended: still the renewal of that term", st, v1alpha1.RenewalActionRenew, end.Add(50 * 24 * time.Hour), renewal, true, time.Time{}},
		{"expiring, before the term ends: due at term end", st, v1alpha1.RenewalActionExpire, end.Add(-time.Hour), ChangeRequest{}, false, end},
		{"expiring, at the term end: an expiry", st, v1alpha1.RenewalActionExpire, end, expiry, true, time.Time{}},
		{"no renewal action: nothing, ever", st, v1alpha1.RenewalActionNone, end, ChangeRequest{}, false, time.Time{}},
		{"not in force: nothing", notInForce, v1alpha1.RenewalActionRenew, end, ChangeRequest{}, false, time.Time{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, due, next := TermOrder(TermInput{Status: tt.st, Action: tt.action, RenewBefore: week, Now: tt.now})
			if got != tt.want || due != tt.wantDue || !next.Equal(tt.wantNext) {
				t.Errorf("TermOrder = %+v, %v, %v; want %+v, %v, %v", got, due, next, tt.want, tt.wantDue, tt.wantNext)
			}
		})
	}
	if d := DueAt(v1alpha1.LicenseOrderSpec{Change: v1alpha1.ChangeRenewal, EffectiveDate: "2026-04-01"}); !d.Equal(end) {
		t.Errorf("DueAt(renewal) = %v, want the term end", d)
	}
	if d := DueAt(v1alpha1.LicenseOrderSpec{Change: v1alpha1.ChangeIncreaseQuantity, EffectiveDate: "2026-04-01"}); !d.IsZero() {
		t.Errorf("DueAt(increase) = %v, want at once", d)
	}
}

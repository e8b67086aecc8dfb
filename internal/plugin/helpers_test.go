package plugin

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// order is a LicenseOrder of the tests: placed at created, fulfilled at fulfilled (if not zero)
// with the charge (if not "").
func order(ns, name string, created time.Time, change v1alpha1.OrderChange, charge string, fulfilled time.Time) v1alpha1.LicenseOrder {
	o := v1alpha1.LicenseOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec: v1alpha1.LicenseOrderSpec{Plan: "eul", Revision: 1, Change: change, Product: "t-eul", SKU: "T-EUL", PaymentPlan: v1alpha1.Monthly,
			Quantity: 13, PreviousQuantity: 10, EffectiveDate: "2026-03-10", Customer: "Acme Corporation", CostCenter: "sales-emea",
			PurchaseReference: "PO-1", RequestedBy: "alice"},
		Status: v1alpha1.LicenseOrderStatus{State: v1alpha1.OrderPending},
	}
	if charge != "" {
		o.Status.Charge = &v1alpha1.Charge{Amount: v1alpha1.Amount(charge), Currency: "EUR"}
	}
	if !fulfilled.IsZero() {
		o.Status.State = v1alpha1.OrderFulfilled
		o.Status.FulfilledAt = &metav1.Time{Time: fulfilled}
	}
	return o
}

var march10 = time.Date(2026, time.March, 10, 9, 30, 15, 0, time.UTC)

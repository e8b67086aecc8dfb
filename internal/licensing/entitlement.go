package licensing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// EntitlementRevision identifies what a plan holds in force, as its namespace's entitlement
// states it: a digest of the product, SKU, licenses, payment plan, term end and renewal action of
// the status. It is empty when nothing is in force (a plan not ordered yet, expired or cancelled).
// Being a function of the status alone, it is written with the status write that changes what is
// in force, and costs no write of its own; the entitlement's entry for the plan carries the same
// value.
func EntitlementRevision(st v1alpha1.CustomerLicensePlanStatus) string {
	if !HasPlanInForce(st) {
		return ""
	}
	end := v1alpha1.Date("")
	if st.Term != nil {
		end = st.Term.End
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s\x00%s\x00%s", st.Product, st.SKU, st.Licenses, st.PaymentPlan, end, st.RenewalAction))
	return hex.EncodeToString(sum[:6])
}

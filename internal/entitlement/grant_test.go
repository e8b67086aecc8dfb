package entitlement

import (
	"crypto/rand"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/pkg/entitlement"
)

var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

var catalog = map[string]*v1alpha1.LicenseProductSpec{
	"connect-std-ms": {SKU: "CON-STD-MS", Family: "Connect", Includes: []v1alpha1.Inclusion{{Product: "domain-hosting", Quantity: 1}}},
	"ep-plus":        {SKU: "EP-PLUS", Family: "Endpoint"},
}

func inForce(name, product string, licenses int32, pp v1alpha1.PaymentPlan, end v1alpha1.Date) v1alpha1.CustomerLicensePlan {
	return v1alpha1.CustomerLicensePlan{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "acme"},
		Spec:       v1alpha1.CustomerLicensePlanSpec{Customer: "Acme", Product: product, Quantity: licenses, PaymentPlan: pp},
		Status: v1alpha1.CustomerLicensePlanStatus{Revision: 1, Product: product, SKU: catalog[product].SKU, Licenses: licenses, PaymentPlan: pp,
			Term: &v1alpha1.Term{Start: "2026-03-01", End: end}, RenewalDate: end, RenewalAction: v1alpha1.RenewalActionRenew},
	}
}

func TestGrantStatesWhatIsInForce(t *testing.T) {
	connect := inForce("connect", "connect-std-ms", 10, v1alpha1.Monthly, "2026-04-01")
	// The spec asks for more, and a decrease is pending: neither is in force.
	connect.Spec.Quantity = 25
	connect.Status.PendingChange = &v1alpha1.PendingChange{Quantity: new(int32(5)), EffectiveDate: "2026-04-01"}
	trial := inForce("a-trial", "ep-plus", 3, v1alpha1.Trial, "2026-03-31")
	trial.Status.RenewalAction = v1alpha1.RenewalActionExpire
	expired := inForce("expired", "ep-plus", 7, v1alpha1.Monthly, "2026-03-01")
	expired.Status.ExpiredOn = "2026-03-01"
	cancelled := inForce("cancelled", "ep-plus", 2, v1alpha1.Monthly, "2026-04-01")
	cancelled.Status.CancelledOn = "2026-03-05"
	unordered := v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "new"}, Spec: connect.Spec}

	c := Grant("acme", []v1alpha1.CustomerLicensePlan{connect, trial, expired, cancelled, unordered}, catalog, DefaultPolicy(), now)
	want := []entitlement.Product{
		{Plan: "a-trial", Customer: "Acme", Name: "ep-plus", SKU: "EP-PLUS", Family: "Endpoint", Licenses: 3, PaymentPlan: "Trial", Trial: true, TermEnd: "2026-03-31", RenewalAction: "Expire"},
		{Plan: "connect", Customer: "Acme", Name: "connect-std-ms", SKU: "CON-STD-MS", Family: "Connect", Licenses: 10, PaymentPlan: "Monthly",
			Includes: []entitlement.Included{{Product: "domain-hosting", Quantity: 1}}, TermEnd: "2026-04-01", RenewalAction: "Renew"},
	}
	if len(c.Products) != len(want) {
		t.Fatalf("products: %+v, want %+v", c.Products, want)
	}
	for i := range want {
		want[i].Revision = c.Products[i].Revision
		if !equalJSON(c.Products[i], want[i]) {
			t.Errorf("product %d: %+v, want %+v", i, c.Products[i], want[i])
		}
		if c.Products[i].Revision == "" {
			t.Errorf("product %d has no revision", i)
		}
	}
	if c.Customer != "Acme" || c.Namespace != "acme" || c.Subject != "acme" || c.Issuer != DefaultIssuer {
		t.Errorf("claims: customer %q namespace %q sub %q iss %q", c.Customer, c.Namespace, c.Subject, c.Issuer)
	}
	if c.Licenses("connect-std-ms") != 10 || !c.MayUse("domain-hosting", 1) {
		t.Errorf("licenses: connect %d, domain hosting %d", c.Licenses("connect-std-ms"), c.Licenses("domain-hosting"))
	}
}

func TestGrantDropsATermEndedBeyondTheGrace(t *testing.T) {
	p := DefaultPolicy()
	stale := inForce("stale", "ep-plus", 4, v1alpha1.Monthly, "2026-03-03") // ended 7 days and 9.5 hours ago
	within := inForce("within", "ep-plus", 4, v1alpha1.Monthly, "2026-03-04")
	c := Grant("acme", []v1alpha1.CustomerLicensePlan{stale, within}, catalog, p, now)
	if len(c.Products) != 1 || c.Products[0].Plan != "within" {
		t.Errorf("products: %+v, want the plan within its grace alone", c.Products)
	}
}

func TestGrantOfSeveralCustomersNamesEachOnItsProduct(t *testing.T) {
	a := inForce("a", "ep-plus", 1, v1alpha1.Monthly, "2026-04-01")
	b := inForce("b", "ep-plus", 1, v1alpha1.Monthly, "2026-04-01")
	b.Spec.Customer = "Other"
	c := Grant("acme", []v1alpha1.CustomerLicensePlan{a, b}, catalog, DefaultPolicy(), now)
	if c.Customer != "" || c.Products[1].Customer != "Other" {
		t.Errorf("customer %q, products %+v", c.Customer, c.Products)
	}
}

func TestExpiry(t *testing.T) {
	p := DefaultPolicy()
	for _, tc := range []struct {
		name string
		ends []string
		want time.Time
	}{
		{"no plan", nil, now.Add(30 * 24 * time.Hour)},
		{"OneTime: no term", []string{""}, now.Add(30 * 24 * time.Hour)},
		{"a term end far off", []string{"2027-03-01"}, now.Add(30 * 24 * time.Hour)},
		{"a term end within the lifetime", []string{"2026-04-01"}, time.Date(2026, 4, 8, 0, 0, 0, 0, time.UTC)},
		{"the earliest term end", []string{"2026-04-01", "2026-03-20"}, time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC)},
	} {
		c := entitlement.Claims{}
		for _, e := range tc.ends {
			c.Products = append(c.Products, entitlement.Product{TermEnd: e})
		}
		if got := Expiry(c, p, now); !got.Equal(tc.want) {
			t.Errorf("%s: expiry %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestRenewal(t *testing.T) {
	p := DefaultPolicy()
	day := 24 * time.Hour
	free := entitlement.Claims{}
	bound := entitlement.Claims{Products: []entitlement.Product{{TermEnd: "2026-03-20"}}} // expires 2026-03-27
	boundExp := time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		c         entitlement.Claims
		iat, exp  time.Time
		now       time.Time
		reissue   bool
		wantAfter time.Time
	}{
		{"fresh: look again at two thirds", free, now, now.Add(30 * day), now.Add(time.Hour), false, now.Add(20 * day)},
		{"at two thirds: re-issued", free, now, now.Add(30 * day), now.Add(20 * day), true, time.Time{}},
		{"expired: re-issued", free, now, now.Add(30 * day), now.Add(31 * day), true, time.Time{}},
		{"bound by a term end: a new one would expire as late", bound, now, boundExp, now.Add(15 * day), false, boundExp},
		{"bound by a term end: before two thirds", bound, now, boundExp, now.Add(time.Hour), false, now.Add(boundExp.Sub(now) * 2 / 3)},
		{"bound by a term end: at its expiry", bound, now, boundExp, boundExp, true, time.Time{}},
	} {
		reissue, next := Renewal(p, tc.c, tc.iat, tc.exp, tc.now)
		if reissue != tc.reissue || !next.Equal(tc.wantAfter) {
			t.Errorf("%s: Renewal = %v, %s; want %v, %s", tc.name, reissue, next, tc.reissue, tc.wantAfter)
		}
	}
}

func TestStampAndSignRoundTrip(t *testing.T) {
	k, err := NewKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := Keys{Active: k.ID, Keys: []Key{k}}
	c := Stamp(Grant("acme", []v1alpha1.CustomerLicensePlan{inForce("connect", "connect-std-ms", 10, v1alpha1.Monthly, "2026-04-01")}, catalog, DefaultPolicy(), now), DefaultPolicy(), now)
	tok, err := Sign(c, k)
	if err != nil {
		t.Fatal(err)
	}
	v := entitlement.Verifier{Keys: keys.Public(), Issuer: DefaultIssuer, Now: func() time.Time { return now.Add(time.Hour) }}
	got, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !SameGrant(*got, c) || !got.Expiry.Time().Equal(time.Date(2026, 4, 8, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("verified %+v, want %+v", got, c)
	}
	kid, unverified, err := Unverified(tok)
	if err != nil || kid != k.ID || !SameGrant(unverified, c) {
		t.Errorf("Unverified: %q %+v %v", kid, unverified, err)
	}
}

func TestKeysRoundTripAndRotation(t *testing.T) {
	a, _ := NewKey(rand.Reader)
	b, _ := NewKey(rand.Reader)
	keys := Keys{Active: a.ID, Keys: []Key{a}}.Rotate(b)
	data, err := keys.Data()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Active != b.ID || len(back.Keys) != 2 || !back.Keys[0].Private.Equal(a.Private) {
		t.Fatalf("keys read back: active %s, %d keys", back.Active, len(back.Keys))
	}
	if pub := back.Public(); len(pub.Keys) != 2 || pub.Keys[0].KeyID != b.ID {
		t.Errorf("public keys: %+v, want the active key first", pub.Keys)
	}
	if r := back.Retire(); len(r.Keys) != 1 || r.Keys[0].ID != b.ID {
		t.Errorf("retired: %+v", r)
	}
	data[ActiveData] = []byte("gone")
	if _, err := ParseKeys(data); err == nil {
		t.Error("keys whose active key is missing are accepted")
	}
}

package plugin

import (
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestExplain(t *testing.T) {
	orders := schema.GroupResource{Group: "licensing.partnerops.io", Resource: "licenseorders"}
	rbac := func(msg string) error { return apierrors.NewForbidden(orders, "", errors.New(msg)) }
	tests := []struct {
		name string
		err  error
		want string
	}{{
		name: "a verb refused in a namespace",
		err:  rbac(`User "eve" cannot list resource "licenseorders" in API group "licensing.partnerops.io" in the namespace "acme"`),
		want: "you may not list licenseorders in namespace acme (kubectl auth can-i list licenseorders -n acme)",
	}, {
		name: "in every namespace",
		err:  rbac(`User "eve" cannot list resource "licenseorders" in API group "licensing.partnerops.io" at the cluster scope`),
		want: "you may not list licenseorders in all namespaces (kubectl auth can-i list licenseorders -A)",
	}, {
		name: "a subresource",
		err:  rbac(`User "alice" cannot patch resource "licenseorders/status" in API group "licensing.partnerops.io" in the namespace "acme"`),
		want: "you may not patch licenseorders/status in namespace acme (kubectl auth can-i patch licenseorders --subresource=status -n acme)",
	}, {
		name: "a webhook's refusal is the API server's message as it is",
		err:  apierrors.NewForbidden(orders, "eul-2", errors.New(`user "mallory" may not approve orders in namespace acme: approving needs the verb approve on licenseorders (the license-approver role)`)),
		want: `licenseorders.licensing.partnerops.io "eul-2" is forbidden: user "mallory" may not approve orders in namespace acme: approving needs the verb approve on licenseorders (the license-approver role)`,
	}, {
		name: "another error",
		err:  errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"),
		want: "dial tcp 127.0.0.1:6443: connect: connection refused",
	}}
	for _, tt := range tests {
		if got := explain(tt.err).Error(); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if got := notFound(apierrors.NewNotFound(schema.GroupResource{Resource: "customerlicenseplans"}, "x"), "plan", "x", "y"); got.Error() != `plan "x" not found in namespace "y"` {
		t.Errorf("notFound: %v", got)
	}
}

func TestOrderFilter(t *testing.T) {
	o := order("acme", "eul-2", march10, v1alpha1.ChangeIncreaseQuantity, "21.29", march10)
	tests := []struct {
		flags historyFlags
		want  bool
	}{
		{historyFlags{}, true},
		{historyFlags{since: "2026-03-10", until: "2026-03-10"}, true},
		{historyFlags{since: "2026-03-11"}, false},
		{historyFlags{until: "2026-03-09"}, false},
		{historyFlags{until: "2026-03-10T09:30:15Z"}, true},
		{historyFlags{until: "2026-03-10T09:30:14Z"}, false},
		{historyFlags{user: "ALICE"}, true},
		{historyFlags{user: "System"}, false},
		{historyFlags{sku: "t-eul", product: "T-EUL"}, true},
		{historyFlags{customer: "acme"}, true},
		{historyFlags{customer: "globex"}, false},
		{historyFlags{change: "increasequantity", state: "FULFILLED", plan: "eul"}, true},
		{historyFlags{change: "Renewal"}, false},
		{historyFlags{plan: "other"}, false},
	}
	for _, tt := range tests {
		f, err := tt.flags.filter()
		if err != nil {
			t.Fatalf("%+v: %v", tt.flags, err)
		}
		if got := f.matches(&o); got != tt.want {
			t.Errorf("%+v matches: %v, want %v", tt.flags, got, tt.want)
		}
	}
	if _, err := (historyFlags{state: "Done"}).filter(); err == nil || err.Error() != "--state Done: want one of Pending, AwaitingApproval, Rejected, Fulfilled" {
		t.Errorf("a state not known: %v", err)
	}
	if _, err := (historyFlags{since: "2026-03-12", until: "2026-03-10"}).filter(); err == nil {
		t.Error("--since after --until is accepted")
	}
}

func TestSortOrders(t *testing.T) {
	at := func(s int) time.Time { return march10.Add(time.Duration(s) * time.Second) }
	mk := func(name, plan string, rev int64, s int) v1alpha1.LicenseOrder {
		o := order("acme", name, at(s), v1alpha1.ChangeNew, "", time.Time{})
		o.Spec.Plan, o.Spec.Revision = plan, rev
		return o
	}
	orders := []v1alpha1.LicenseOrder{mk("eul-10", "eul", 10, 1), mk("b-1", "b", 1, 2), mk("eul-2", "eul", 2, 1), mk("a-1", "a", 1, 0)}
	sortOrders(orders)
	var got []string
	for _, o := range orders {
		got = append(got, o.Name)
	}
	if want := "a-1 eul-2 eul-10 b-1"; joined(got) != want {
		t.Errorf("sorted %s, want %s", joined(got), want)
	}
}

func joined(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

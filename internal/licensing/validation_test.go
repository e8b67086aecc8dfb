package licensing

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// vtProduct is an Orderable Endpoint product offering Monthly (10.00) and Prepay1Y (100.00).
func vtProduct(avail v1alpha1.Availability) *v1alpha1.LicenseProductSpec {
	return &v1alpha1.LicenseProductSpec{
		SKU:          "EP-PLUS",
		DisplayName:  "Endpoint License Plus",
		Family:       "Endpoint",
		Unit:         "Endpoint",
		Availability: avail,
		Prices: []v1alpha1.Price{
			{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "10.00"},
			{PaymentPlan: v1alpha1.Prepay1Y, PricePerLicense: "100.00"},
		},
	}
}

// vtProfile is a BillingProfile with the cost centers sales and engineering.
func vtProfile() *v1alpha1.BillingProfileSpec {
	return &v1alpha1.BillingProfileSpec{
		Currency:          "EUR",
		CostCenters:       []v1alpha1.CostCenter{{Name: "sales"}, {Name: "engineering"}},
		DefaultCostCenter: "sales",
	}
}

// vtValidInput is an order that passes every rule; cases break one or more rules of it.
func vtValidInput() OrderInput {
	p := vtProduct(v1alpha1.Orderable)
	p.Requires = []v1alpha1.Requirement{{AnyOf: []string{"connect"}, Quantity: v1alpha1.RequireAtMost}}
	return OrderInput{
		Plan:        "web",
		Change:      v1alpha1.ChangeNew,
		ProductName: "ep-plus",
		Product:     p,
		PaymentPlan: v1alpha1.Monthly,
		Quantity:    5,
		CostCenter:  "sales",
		Profile:     vtProfile(),
		OtherPlans:  []ActivePlan{{Name: "conn", Product: "connect", Licenses: 10}},
		Assigned:    3,
	}
}

// vtCheck asserts a verdict's reason and that its message contains every wanted fragment.
func vtCheck(t *testing.T, got Verdict, wantReason string, wantInMessage ...string) {
	t.Helper()
	if got.Reason != wantReason {
		t.Fatalf("reason = %q, want %q (message %q)", got.Reason, wantReason, got.Message)
	}
	if got.Passed() != (wantReason == "") {
		t.Errorf("Passed() = %v with reason %q", got.Passed(), got.Reason)
	}
	if wantReason == "" && got.Message != "" {
		t.Errorf("passing verdict has message %q", got.Message)
	}
	for _, s := range wantInMessage {
		if !strings.Contains(got.Message, s) {
			t.Errorf("message %q does not contain %q", got.Message, s)
		}
	}
}

func TestOrderRulesRunInDocumentedOrder(t *testing.T) {
	var names []string
	for _, r := range OrderRules {
		names = append(names, r.Name)
	}
	want := []string{"ProductExists", "ProductFamily", "Availability", "PaymentPlanOffered", "Trial", "CostCenter", "Requirements", "UsageMinimum"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("OrderRules (-want +got):\n%s", diff)
	}
}

func TestValidateOrder(t *testing.T) {
	tests := []struct {
		name          string
		mutate        func(*OrderInput)
		wantReason    string
		wantInMessage []string
	}{
		{name: "valid order passes", mutate: func(*OrderInput) {}},
		{
			name: "unknown product with a bad payment plan reports UnknownProduct",
			mutate: func(in *OrderInput) {
				in.ProductName, in.Product, in.PaymentPlan = "ep-nope", nil, v1alpha1.Prepay5Y
			},
			wantReason:    v1alpha1.ReasonUnknownProduct,
			wantInMessage: []string{`"ep-nope"`},
		},
		{
			name: "other family and retired reports ProductChangeNotAllowed",
			mutate: func(in *OrderInput) {
				in.Change = v1alpha1.ChangeProduct
				in.Product.Availability = v1alpha1.Retired
				in.CurrentProduct = &v1alpha1.LicenseProductSpec{DisplayName: "VMR Standard", Family: "VMR"}
			},
			wantReason: v1alpha1.ReasonProductChangeNotAllowed,
		},
		{
			name: "retired product with a bad payment plan reports ProductNotOrderable",
			mutate: func(in *OrderInput) {
				in.Product.Availability = v1alpha1.Retired
				in.PaymentPlan = v1alpha1.Prepay5Y
			},
			wantReason: v1alpha1.ReasonProductNotOrderable,
		},
		{
			name: "bad payment plan and unknown cost center reports PaymentPlanNotOffered",
			mutate: func(in *OrderInput) {
				in.PaymentPlan, in.CostCenter = v1alpha1.Prepay5Y, "marketing"
			},
			wantReason:    v1alpha1.ReasonPaymentPlanNotOffered,
			wantInMessage: []string{"Prepay5Y"},
		},
		{
			name: "bad payment plan and unmet requirement reports PaymentPlanNotOffered",
			mutate: func(in *OrderInput) {
				in.PaymentPlan, in.OtherPlans = v1alpha1.Prepay5Y, nil
			},
			wantReason:    v1alpha1.ReasonPaymentPlanNotOffered,
			wantInMessage: []string{"Prepay5Y"},
		},
		{
			name: "unknown cost center and unmet requirement reports UnknownCostCenter",
			mutate: func(in *OrderInput) {
				in.CostCenter, in.OtherPlans = "marketing", nil
			},
			wantReason:    v1alpha1.ReasonUnknownCostCenter,
			wantInMessage: []string{`"marketing"`},
		},
		{
			name: "unmet requirement and usage below minimum reports RequirementNotMet",
			mutate: func(in *OrderInput) {
				in.OtherPlans, in.Assigned = nil, 9
			},
			wantReason:    v1alpha1.ReasonRequirementNotMet,
			wantInMessage: []string{`"connect"`},
		},
		{
			name:          "usage below minimum alone reports UsageBelowMinimum",
			mutate:        func(in *OrderInput) { in.Assigned = 7 },
			wantReason:    v1alpha1.ReasonUsageBelowMinimum,
			wantInMessage: []string{"remove at least 2 LicenseAssignments"},
		},
		{
			name: "expiry passes whatever is wrong",
			mutate: func(in *OrderInput) {
				in.Change, in.Product, in.PaymentPlan, in.CostCenter, in.Assigned = v1alpha1.ChangeExpiry, nil, v1alpha1.Prepay5Y, "marketing", 99
			},
		},
		{
			name: "cancellation passes whatever is wrong",
			mutate: func(in *OrderInput) {
				in.Change, in.Product, in.PaymentPlan, in.CostCenter, in.Assigned = v1alpha1.ChangeCancellation, nil, v1alpha1.Prepay5Y, "marketing", 99
			},
		},
		{
			name: "expiry of a retired product with usage over quantity passes",
			mutate: func(in *OrderInput) {
				in.Change, in.Quantity, in.Assigned = v1alpha1.ChangeExpiry, 0, 4
				in.Product.Availability = v1alpha1.Retired
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			tt.mutate(&in)
			vtCheck(t, ValidateOrder(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestCheckProductExists(t *testing.T) {
	t.Run("product in catalog passes", func(t *testing.T) {
		vtCheck(t, CheckProductExists(vtValidInput()), "")
	})
	t.Run("missing product names it and how to list products", func(t *testing.T) {
		in := vtValidInput()
		in.ProductName, in.Product = "ep-nope", nil
		vtCheck(t, CheckProductExists(in), v1alpha1.ReasonUnknownProduct, `product "ep-nope"`, "spec.product", "kubectl get lprod")
	})
}

func TestCheckProductFamily(t *testing.T) {
	vmr := &v1alpha1.LicenseProductSpec{DisplayName: "VMR Standard", Family: "VMR"}
	basic := &v1alpha1.LicenseProductSpec{DisplayName: "Endpoint License Basic", Family: "Endpoint"}
	tests := []struct {
		name          string
		change        v1alpha1.OrderChange
		current       *v1alpha1.LicenseProductSpec
		nilProduct    bool
		wantReason    string
		wantInMessage []string
	}{
		{name: "same family passes", change: v1alpha1.ChangeProduct, current: basic},
		{name: "other family fails", change: v1alpha1.ChangeProduct, current: vmr,
			wantReason:    v1alpha1.ReasonProductChangeNotAllowed,
			wantInMessage: []string{`product "ep-plus" is of family Endpoint`, "VMR Standard of family VMR", "order a new plan instead"}},
		{name: "other family on a non product change passes", change: v1alpha1.ChangeIncreaseQuantity, current: vmr},
		{name: "no current product passes", change: v1alpha1.ChangeProduct, current: nil},
		{name: "unknown new product is left to ProductExists", change: v1alpha1.ChangeProduct, current: vmr, nilProduct: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			in.Change, in.CurrentProduct = tt.change, tt.current
			if tt.nilProduct {
				in.Product = nil
			}
			vtCheck(t, CheckProductFamily(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestCheckAvailability(t *testing.T) {
	changes := []v1alpha1.OrderChange{
		v1alpha1.ChangeNew, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeDecreaseQuantity,
		v1alpha1.ChangePaymentPlan, v1alpha1.ChangeProduct, v1alpha1.ChangeRenewal,
	}
	// refused lists the changes each availability refuses.
	refused := map[v1alpha1.Availability][]v1alpha1.OrderChange{
		"":                   nil, // defaults to Orderable
		v1alpha1.Orderable:   nil,
		v1alpha1.RenewalOnly: {v1alpha1.ChangeNew},
		v1alpha1.Retired: {v1alpha1.ChangeNew, v1alpha1.ChangeIncreaseQuantity,
			v1alpha1.ChangeRenewal, v1alpha1.ChangeProduct},
	}
	for _, avail := range []v1alpha1.Availability{"", v1alpha1.Orderable, v1alpha1.RenewalOnly, v1alpha1.Retired} {
		for _, change := range changes {
			wantFail := false
			for _, c := range refused[avail] {
				wantFail = wantFail || c == change
			}
			name := string(avail)
			if name == "" {
				name = "unset"
			}
			verb := "allows"
			if wantFail {
				verb = "refuses"
			}
			t.Run(name+" "+verb+" "+string(change), func(t *testing.T) {
				in := vtValidInput()
				in.Change, in.Product = change, vtProduct(avail)
				got := CheckAvailability(in)
				if !wantFail {
					vtCheck(t, got, "")
					return
				}
				vtCheck(t, got, v1alpha1.ReasonProductNotOrderable, `product "ep-plus" (Endpoint License Plus)`, string(avail))
			})
		}
	}
	t.Run("unknown product is left to ProductExists", func(t *testing.T) {
		in := vtValidInput()
		in.Product = nil
		vtCheck(t, CheckAvailability(in), "")
	})
}

func TestCheckPaymentPlanOffered(t *testing.T) {
	tests := []struct {
		name          string
		pp            v1alpha1.PaymentPlan
		nilProduct    bool
		wantReason    string
		wantInMessage []string
	}{
		{name: "Monthly offered", pp: v1alpha1.Monthly},
		{name: "Prepay1Y offered", pp: v1alpha1.Prepay1Y},
		{name: "Prepay5Y not offered", pp: v1alpha1.Prepay5Y, wantReason: v1alpha1.ReasonPaymentPlanNotOffered,
			wantInMessage: []string{"paymentPlan Prepay5Y", `product "ep-plus"`, "choose one of Monthly, Prepay1Y"}},
		{name: "OneTime not offered", pp: v1alpha1.OneTime, wantReason: v1alpha1.ReasonPaymentPlanNotOffered,
			wantInMessage: []string{"paymentPlan OneTime"}},
		{name: "unknown product is left to ProductExists", pp: v1alpha1.Prepay5Y, nilProduct: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			in.PaymentPlan = tt.pp
			if tt.nilProduct {
				in.Product = nil
			}
			vtCheck(t, CheckPaymentPlanOffered(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestPriceFor(t *testing.T) {
	tests := []struct {
		name      string
		pp        v1alpha1.PaymentPlan
		wantPrice v1alpha1.Amount
		wantOK    bool
	}{
		{name: "Monthly", pp: v1alpha1.Monthly, wantPrice: "10.00", wantOK: true},
		{name: "Prepay1Y", pp: v1alpha1.Prepay1Y, wantPrice: "100.00", wantOK: true},
		{name: "not offered", pp: v1alpha1.Prepay3Y, wantPrice: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			price, ok := PriceFor(vtProduct(v1alpha1.Orderable), tt.pp)
			if price != tt.wantPrice || ok != tt.wantOK {
				t.Errorf("PriceFor(%s) = %q, %v; want %q, %v", tt.pp, price, ok, tt.wantPrice, tt.wantOK)
			}
		})
	}
}

func TestOfferedPaymentPlans(t *testing.T) {
	tests := []struct {
		name   string
		prices []v1alpha1.Price
		want   []string
	}{
		{name: "in catalog order", prices: []v1alpha1.Price{
			{PaymentPlan: v1alpha1.Prepay3Y, PricePerLicense: "1"},
			{PaymentPlan: v1alpha1.Monthly, PricePerLicense: "1"},
			{PaymentPlan: v1alpha1.OneTime, PricePerLicense: "1"},
		}, want: []string{"Prepay3Y", "Monthly", "OneTime"}},
		{name: "none", prices: nil, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OfferedPaymentPlans(&v1alpha1.LicenseProductSpec{Prices: tt.prices})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OfferedPaymentPlans (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckCostCenter(t *testing.T) {
	tests := []struct {
		name          string
		costCenter    string
		profile       *v1alpha1.BillingProfileSpec
		wantReason    string
		wantInMessage []string
	}{
		{name: "no profile passes any cost center", costCenter: "marketing", profile: nil},
		{name: "empty cost center passes", costCenter: "", profile: vtProfile()},
		{name: "known cost center passes", costCenter: "engineering", profile: vtProfile()},
		{name: "unknown cost center lists the known ones", costCenter: "marketing", profile: vtProfile(),
			wantReason:    v1alpha1.ReasonUnknownCostCenter,
			wantInMessage: []string{`costCenter "marketing"`, "choose one of sales, engineering", "add it to the BillingProfile"}},
		{name: "cost center names are case sensitive", costCenter: "Sales", profile: vtProfile(),
			wantReason: v1alpha1.ReasonUnknownCostCenter, wantInMessage: []string{`"Sales"`}},
		{name: "profile without cost centers fails", costCenter: "sales", profile: &v1alpha1.BillingProfileSpec{Currency: "EUR"},
			wantReason: v1alpha1.ReasonUnknownCostCenter, wantInMessage: []string{`costCenter "sales"`, "the BillingProfile lists none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			in.CostCenter, in.Profile = tt.costCenter, tt.profile
			vtCheck(t, CheckCostCenter(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestEffectiveCostCenter(t *testing.T) {
	tests := []struct {
		name    string
		plan    string
		profile *v1alpha1.BillingProfileSpec
		want    string
	}{
		{name: "no plan cost center and no profile", plan: "", profile: nil, want: ""},
		{name: "profile default when the plan names none", plan: "", profile: vtProfile(), want: "sales"},
		{name: "plan cost center wins over the default", plan: "engineering", profile: vtProfile(), want: "engineering"},
		{name: "plan cost center without profile", plan: "engineering", profile: nil, want: "engineering"},
		{name: "profile without default", plan: "", profile: &v1alpha1.BillingProfileSpec{Currency: "EUR"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectiveCostCenter(tt.plan, tt.profile); got != tt.want {
				t.Errorf("EffectiveCostCenter(%q) = %q, want %q", tt.plan, got, tt.want)
			}
		})
	}
}

func TestCheckRequirements(t *testing.T) {
	conn := func(n int32) ActivePlan { return ActivePlan{Name: "conn", Product: "connect", Licenses: n} }
	connPro := func(n int32) ActivePlan { return ActivePlan{Name: "conn-pro", Product: "connect-pro", Licenses: n} }
	req := func(q v1alpha1.RequirementQuantity, names ...string) []v1alpha1.Requirement {
		return []v1alpha1.Requirement{{AnyOf: names, Quantity: q}}
	}
	tests := []struct {
		name          string
		requires      []v1alpha1.Requirement
		others        []ActivePlan
		quantity      int32
		wantReason    string
		wantInMessage []string
	}{
		{name: "no requirement passes", requires: nil, others: nil, quantity: 5},
		{name: "Any met by one active plan", requires: req(v1alpha1.RequireAny, "connect"), others: []ActivePlan{conn(1)}, quantity: 50},
		{name: "unset quantity means Any", requires: req("", "connect"), others: []ActivePlan{conn(1)}, quantity: 50},
		{name: "Any met by the second of anyOf", requires: req(v1alpha1.RequireAny, "connect", "connect-pro"), others: []ActivePlan{connPro(2)}, quantity: 5},
		{name: "Any unmet without plans", requires: req(v1alpha1.RequireAny, "connect"), others: nil, quantity: 5,
			wantReason:    v1alpha1.ReasonRequirementNotMet,
			wantInMessage: []string{`product "ep-plus" requires an active plan of "connect"`, "order that plan first"}},
		{name: "Any unmet by a plan with 0 licenses", requires: req(v1alpha1.RequireAny, "connect"), others: []ActivePlan{conn(0)}, quantity: 5,
			wantReason: v1alpha1.ReasonRequirementNotMet, wantInMessage: []string{"there is none"}},
		{name: "Any unmet by plans of other products", requires: req(v1alpha1.RequireAny, "connect"),
			others: []ActivePlan{{Name: "vmr", Product: "vmr-standard", Licenses: 100}}, quantity: 5,
			wantReason: v1alpha1.ReasonRequirementNotMet},
		{name: "Any unmet lists every anyOf", requires: req(v1alpha1.RequireAny, "connect", "connect-pro"), others: nil, quantity: 5,
			wantReason: v1alpha1.ReasonRequirementNotMet, wantInMessage: []string{`one of "connect", "connect-pro"`}},
		{name: "AtMost equal to the sum of several plans", requires: req(v1alpha1.RequireAtMost, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5)}, quantity: 15},
		{name: "AtMost below the sum", requires: req(v1alpha1.RequireAtMost, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5)}, quantity: 1},
		{name: "AtMost above the sum", requires: req(v1alpha1.RequireAtMost, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5)}, quantity: 16,
			wantReason:    v1alpha1.ReasonRequirementNotMet,
			wantInMessage: []string{"quantity 16 is more than the 15 licenses", "connect, connect-pro", `product "ep-plus"`}},
		{name: "AtMost ignores unrelated plans in the sum", requires: req(v1alpha1.RequireAtMost, "connect"),
			others: []ActivePlan{conn(10), {Name: "vmr", Product: "vmr-standard", Licenses: 100}}, quantity: 11,
			wantReason: v1alpha1.ReasonRequirementNotMet, wantInMessage: []string{"quantity 11 is more than the 10 licenses"}},
		{name: "Equal to the sum of several plans", requires: req(v1alpha1.RequireEqual, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5), {Name: "conn-old", Product: "connect", Licenses: 0}}, quantity: 15},
		{name: "Equal below the sum", requires: req(v1alpha1.RequireEqual, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5)}, quantity: 14,
			wantReason:    v1alpha1.ReasonRequirementNotMet,
			wantInMessage: []string{"quantity 14 differs from the 15 licenses", "needs exactly as many licenses"}},
		{name: "Equal above the sum", requires: req(v1alpha1.RequireEqual, "connect", "connect-pro"),
			others: []ActivePlan{conn(10), connPro(5)}, quantity: 16,
			wantReason: v1alpha1.ReasonRequirementNotMet, wantInMessage: []string{"quantity 16 differs from the 15 licenses"}},
		{name: "every entry must be met", requires: []v1alpha1.Requirement{
			{AnyOf: []string{"connect"}},
			{AnyOf: []string{"domain-hosting"}},
		}, others: []ActivePlan{conn(10)}, quantity: 5,
			wantReason: v1alpha1.ReasonRequirementNotMet, wantInMessage: []string{`"domain-hosting"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			in.Product.Requires, in.OtherPlans, in.Quantity = tt.requires, tt.others, tt.quantity
			vtCheck(t, CheckRequirements(in), tt.wantReason, tt.wantInMessage...)
		})
	}
	t.Run("unknown product is left to ProductExists", func(t *testing.T) {
		in := vtValidInput()
		in.Product, in.OtherPlans = nil, nil
		vtCheck(t, CheckRequirements(in), "")
	})
}

func TestCheckUsageMinimum(t *testing.T) {
	tests := []struct {
		name          string
		quantity      int32
		assigned      int32
		wantReason    string
		wantInMessage []string
	}{
		{name: "nothing assigned", quantity: 1, assigned: 0},
		{name: "quantity above usage", quantity: 10, assigned: 7},
		{name: "quantity equal to usage", quantity: 7, assigned: 7},
		{name: "quantity 2 below usage", quantity: 5, assigned: 7, wantReason: v1alpha1.ReasonUsageBelowMinimum,
			wantInMessage: []string{"quantity 5", "the 7 licenses assigned", `plan "web"`,
				"remove at least 2 LicenseAssignments first", "kubectl get lasg --field-selector spec.plan=web"}},
		{name: "quantity 1 below usage", quantity: 6, assigned: 7, wantReason: v1alpha1.ReasonUsageBelowMinimum,
			wantInMessage: []string{"remove at least 1 LicenseAssignment first"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := vtValidInput()
			in.Quantity, in.Assigned = tt.quantity, tt.assigned
			vtCheck(t, CheckUsageMinimum(in), tt.wantReason, tt.wantInMessage...)
		})
	}
}

func TestAwaitedPlans(t *testing.T) {
	byoc := &v1alpha1.LicenseProductSpec{Requires: []v1alpha1.Requirement{{AnyOf: []string{"endpoint-basic"}, Quantity: v1alpha1.RequireAtMost}}}
	in := OrderInput{Plan: "byoc", Change: v1alpha1.ChangeNew, ProductName: "byoc", Product: byoc, Quantity: 5}
	ordering := []ActivePlan{{Name: "endpoints", Product: "endpoint-basic", Licenses: 5}}
	branding := ActivePlan{Name: "x", Product: "branding", Licenses: 9}
	tests := []struct {
		name     string
		others   []ActivePlan
		ordering []ActivePlan
		want     []string
	}{
		{"met already: nothing to wait for", []ActivePlan{{Name: "ep", Product: "endpoint-basic", Licenses: 5}}, ordering, nil},
		{"met by a plan being ordered: wait", nil, ordering, []string{"endpoints"}},
		{"only the required plans being ordered are named", nil, append([]ActivePlan{branding}, ordering...), []string{"endpoints"}},
		{"no plan being ordered: refuse", nil, nil, nil},
		{"the plan being ordered is too small: refuse", nil, []ActivePlan{{Name: "ep", Product: "endpoint-basic", Licenses: 4}}, nil},
		{"a plan of another product is being ordered: refuse", nil, []ActivePlan{branding}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := in
			in.OtherPlans = tt.others
			if got := AwaitedPlans(in, tt.ordering); !slices.Equal(got, tt.want) {
				t.Errorf("AwaitedPlans = %v, want %v", got, tt.want)
			}
		})
	}
	if !isRequired(byoc, "endpoint-basic") || isRequired(byoc, "branding") || isRequired(nil, "endpoint-basic") {
		t.Error("isRequired: want endpoint-basic required by byoc, branding not, nothing by an unknown product")
	}
}

package licensing

import (
	"fmt"
	"slices"
	"strings"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// Verdict is the outcome of a business rule. An empty Reason means the rule passed; otherwise
// Reason is a machine-readable cause (a LicenseOrder reason such as UsageBelowMinimum) and Message
// says what is wrong, with which value, and what to do.
type Verdict struct {
	Reason  string
	Message string
}

// Passed reports whether the rule passed.
func (v Verdict) Passed() bool { return v.Reason == "" }

func pass() Verdict { return Verdict{} }

func fail(reason, format string, args ...any) Verdict {
	return Verdict{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ActivePlan is another plan of the same customer and namespace that has licenses in force.
type ActivePlan struct {
	Name     string
	Product  string
	Licenses int32
}

// OrderInput is everything the validation of an order looks at.
type OrderInput struct {
	// Plan is the name of the plan the order is for.
	Plan string
	// Change is the kind of change ordered.
	Change v1alpha1.OrderChange
	// ProductName is the product ordered; Product is its catalog entry, nil when there is none.
	ProductName string
	Product     *v1alpha1.LicenseProductSpec
	// CurrentProduct is the catalog entry of the product in force, for a product change.
	CurrentProduct *v1alpha1.LicenseProductSpec
	// PaymentPlan and Quantity are the payment plan and licenses after the order.
	PaymentPlan v1alpha1.PaymentPlan
	Quantity    int32
	// CostCenter is the cost center the order bills.
	CostCenter string
	// Profile is the BillingProfile's spec, nil when there is no profile.
	Profile *v1alpha1.BillingProfileSpec
	// OtherPlans are the customer's other active plans in the namespace.
	OtherPlans []ActivePlan
	// Assigned is the number of LicenseAssignments that name the plan.
	Assigned int32
	// HeldPaymentPlan is the payment plan the plan holds, or held last (status.paymentPlan); empty
	// for a plan never in force. A trial only comes before a paid plan.
	HeldPaymentPlan v1alpha1.PaymentPlan
	// PriorTrials names the customer's Trial orders of the product that used up its trial
	// (PriorTrials); read for Trial orders only.
	PriorTrials []string
}

// Rule is one business rule of order validation.
type Rule struct {
	Name  string
	Check func(OrderInput) Verdict
}

// OrderRules are the rules an order must satisfy, in the order they run: the first failure
// rejects the order.
var OrderRules = []Rule{
	{"ProductExists", CheckProductExists},
	{"ProductFamily", CheckProductFamily},
	{"Availability", CheckAvailability},
	{"PaymentPlanOffered", CheckPaymentPlanOffered},
	{"Trial", CheckTrial},
	{"CostCenter", CheckCostCenter},
	{"Requirements", CheckRequirements},
	{"UsageMinimum", CheckUsageMinimum},
}

// ValidateAdmission runs the rules an admission webhook can judge when a plan's spec changes: all
// of OrderRules but the requirements on other plans, because plans declared together (GitOps)
// arrive one by one and their orders wait for each other.
func ValidateAdmission(in OrderInput) Verdict {
	for _, r := range OrderRules {
		if r.Name == "Requirements" {
			continue
		}
		if v := r.Check(in); !v.Passed() {
			return v
		}
	}
	return pass()
}

// SpecRules are the rules a plan's spec satisfies even when it needs no order: a field that no
// order carries on its own (a new costCenter) is judged whenever the spec changes, so that it
// cannot make a later order, or the next renewal, fail for a field the user did not touch then.
var SpecRules = []Rule{
	{"CostCenter", CheckCostCenter},
}

// ValidateSpec runs SpecRules and returns the first failure, or a passing Verdict.
func ValidateSpec(in OrderInput) Verdict {
	for _, r := range SpecRules {
		if v := r.Check(in); !v.Passed() {
			return v
		}
	}
	return pass()
}

// ValidateOrder runs OrderRules and returns the first failure, or a passing Verdict. Expiry and
// Cancellation orders record what happened and are always valid.
func ValidateOrder(in OrderInput) Verdict {
	if in.Change == v1alpha1.ChangeExpiry || in.Change == v1alpha1.ChangeCancellation {
		return pass()
	}
	for _, r := range OrderRules {
		if v := r.Check(in); !v.Passed() {
			return v
		}
	}
	return pass()
}

// CheckProductExists: the product ordered is in the catalog.
func CheckProductExists(in OrderInput) Verdict {
	if in.Product == nil {
		return fail(v1alpha1.ReasonUnknownProduct,
			"product %q is not in the catalog: set spec.product to the name of a LicenseProduct (kubectl get lprod)", in.ProductName)
	}
	return pass()
}

// CheckProductFamily: a product change stays within the family of the product in force.
func CheckProductFamily(in OrderInput) Verdict {
	if in.Change != v1alpha1.ChangeProduct || in.CurrentProduct == nil || in.Product == nil {
		return pass()
	}
	if in.Product.Family != in.CurrentProduct.Family {
		return fail(v1alpha1.ReasonProductChangeNotAllowed,
			"product %q is of family %s but the plan holds %s of family %s: a plan may only change to a product of the same family; order a new plan instead",
			in.ProductName, in.Product.Family, in.CurrentProduct.DisplayName, in.CurrentProduct.Family)
	}
	return pass()
}

// CheckAvailability: new plans need an Orderable product; changes and renewals need Orderable or
// RenewalOnly; a Retired product takes no new plan, no increase and no renewal. A trial and its
// conversion are new plans of the product.
func CheckAvailability(in OrderInput) Verdict {
	p := in.Product
	if p == nil {
		return pass()
	}
	switch availability(p) {
	case v1alpha1.RenewalOnly:
		if isNewPlan(in.Change) {
			return fail(v1alpha1.ReasonProductNotOrderable,
				"product %q (%s) is RenewalOnly: it takes no new plans, only renewals and changes of existing plans; choose another product",
				in.ProductName, p.DisplayName)
		}
	case v1alpha1.Retired:
		switch in.Change {
		case v1alpha1.ChangeNew, v1alpha1.ChangeTrial, v1alpha1.ChangeConversion, v1alpha1.ChangeIncreaseQuantity, v1alpha1.ChangeRenewal, v1alpha1.ChangeProduct:
			return fail(v1alpha1.ReasonProductNotOrderable,
				"product %q (%s) is Retired: it takes no new plans, increases or renewals, and its plans expire at the end of their term",
				in.ProductName, p.DisplayName)
		}
	}
	return pass()
}

// isNewPlan reports whether an order starts a plan of its product: a New order, a Trial, or the
// Conversion of a trial into a paid plan.
func isNewPlan(change v1alpha1.OrderChange) bool {
	return change == v1alpha1.ChangeNew || change == v1alpha1.ChangeTrial || change == v1alpha1.ChangeConversion
}

func availability(p *v1alpha1.LicenseProductSpec) v1alpha1.Availability {
	if p.Availability == "" {
		return v1alpha1.Orderable
	}
	return p.Availability
}

// CheckPaymentPlanOffered: the product lists the payment plan in its prices. Trial is not a price:
// CheckTrial judges it.
func CheckPaymentPlanOffered(in OrderInput) Verdict {
	if in.Product == nil || in.PaymentPlan == v1alpha1.Trial {
		return pass()
	}
	if _, ok := PriceFor(in.Product, in.PaymentPlan); ok {
		return pass()
	}
	return fail(v1alpha1.ReasonPaymentPlanNotOffered,
		"paymentPlan %s is not offered for product %q: choose one of %s",
		in.PaymentPlan, in.ProductName, strings.Join(OfferedPaymentPlans(in.Product), ", "))
}

// PriceFor returns the product's price per license for a payment plan.
func PriceFor(p *v1alpha1.LicenseProductSpec, pp v1alpha1.PaymentPlan) (v1alpha1.Amount, bool) {
	for _, price := range p.Prices {
		if price.PaymentPlan == pp {
			return price.PricePerLicense, true
		}
	}
	return "", false
}

// OfferedPaymentPlans lists the payment plans a product offers.
func OfferedPaymentPlans(p *v1alpha1.LicenseProductSpec) []string {
	plans := make([]string, 0, len(p.Prices))
	for _, price := range p.Prices {
		plans = append(plans, string(price.PaymentPlan))
	}
	return plans
}

// CheckCostCenter: when a BillingProfile exists, the cost center is one of its cost centers.
func CheckCostCenter(in OrderInput) Verdict {
	if in.Profile == nil || in.CostCenter == "" {
		return pass()
	}
	names := make([]string, 0, len(in.Profile.CostCenters))
	for _, cc := range in.Profile.CostCenters {
		if cc.Name == in.CostCenter {
			return pass()
		}
		names = append(names, cc.Name)
	}
	known := "the BillingProfile lists none"
	if len(names) > 0 {
		known = "choose one of " + strings.Join(names, ", ")
	}
	return fail(v1alpha1.ReasonUnknownCostCenter,
		"costCenter %q is not a cost center of the BillingProfile: %s, or add it to the BillingProfile first", in.CostCenter, known)
}

// EffectiveCostCenter is the plan's cost center, or the profile's default when the plan names none.
func EffectiveCostCenter(planCostCenter string, profile *v1alpha1.BillingProfileSpec) string {
	if planCostCenter == "" && profile != nil {
		return profile.DefaultCostCenter
	}
	return planCostCenter
}

// CheckRequirements: every requires entry of the product is met by the customer's other active
// plans in the namespace.
func CheckRequirements(in OrderInput) Verdict {
	if in.Product == nil {
		return pass()
	}
	for _, req := range in.Product.Requires {
		if v := checkRequirement(in, req); !v.Passed() {
			return v
		}
	}
	return pass()
}

func checkRequirement(in OrderInput, req v1alpha1.Requirement) Verdict {
	var held int64
	found := false
	for _, p := range in.OtherPlans {
		if slices.Contains(req.AnyOf, p.Product) && p.Licenses > 0 {
			found = true
			held += int64(p.Licenses)
		}
	}
	names := strings.Join(req.AnyOf, ", ")
	if !found {
		return fail(v1alpha1.ReasonRequirementNotMet,
			"product %q requires an active plan of %s for the same customer in this namespace, and there is none: order that plan first",
			in.ProductName, oneOf(req.AnyOf))
	}
	switch req.Quantity {
	case v1alpha1.RequireAtMost:
		if int64(in.Quantity) > held {
			return fail(v1alpha1.ReasonRequirementNotMet,
				"quantity %d is more than the %d licenses of the customer's %s plans: product %q allows at most one license per license of those; lower the quantity or add licenses to those plans first",
				in.Quantity, held, names, in.ProductName)
		}
	case v1alpha1.RequireEqual:
		if int64(in.Quantity) != held {
			return fail(v1alpha1.ReasonRequirementNotMet,
				"quantity %d differs from the %d licenses of the customer's %s plans: product %q needs exactly as many licenses as those",
				in.Quantity, held, names, in.ProductName)
		}
	}
	return pass()
}

func oneOf(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("%q", names[0])
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return "one of " + strings.Join(quoted, ", ")
}

// CheckUsageMinimum: the quantity covers the licenses assigned to the plan.
func CheckUsageMinimum(in OrderInput) Verdict {
	if in.Quantity >= in.Assigned {
		return pass()
	}
	excess := in.Assigned - in.Quantity
	return fail(v1alpha1.ReasonUsageBelowMinimum,
		"quantity %d does not cover the %d licenses assigned to plan %q: remove at least %d LicenseAssignment%s first (kubectl get lasg --field-selector spec.plan=%s), then order again",
		in.Quantity, in.Assigned, in.Plan, excess, plural(int64(excess)), in.Plan)
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// AwaitedPlans names the customer's plans still being ordered that the order waits for: those of
// a required product, when the order does not meet its requirements but would once they are in
// force. Plans declared together (GitOps) are thus ordered in the order they need, rather than
// refused. It returns nil when the order waits for nothing.
func AwaitedPlans(in OrderInput, ordering []ActivePlan) []string {
	if len(ordering) == 0 || CheckRequirements(in).Passed() {
		return nil
	}
	with := in
	with.OtherPlans = append(slices.Clone(in.OtherPlans), ordering...)
	if !CheckRequirements(with).Passed() {
		return nil
	}
	var names []string
	for _, p := range ordering {
		if isRequired(in.Product, p.Product) {
			names = append(names, p.Name)
		}
	}
	return names
}

// isRequired reports whether a product names another among its requirements.
func isRequired(p *v1alpha1.LicenseProductSpec, product string) bool {
	if p == nil {
		return false
	}
	for _, req := range p.Requires {
		if slices.Contains(req.AnyOf, product) {
			return true
		}
	}
	return false
}

// AssignmentRoom checks that a plan has a license for one more assignment. The plan's spec
// decides: it raises the licenses (the increase is on its way) or keeps or lowers them (a decrease
// takes effect at the next term, and the renewal must cover every assignment, else the plan
// expires). So there is room while fewer than spec.quantity licenses are assigned.
func AssignmentRoom(plan string, spec v1alpha1.CustomerLicensePlanSpec, st v1alpha1.CustomerLicensePlanStatus, assigned int32) Verdict {
	if assigned < spec.Quantity {
		return pass()
	}
	licensed := int32(0)
	if IsActive(st) {
		licensed = st.Licenses
	}
	return fail(v1alpha1.ReasonOverLicensed,
		"plan %q has %d license%s in force and %d assigned, and its spec.quantity is %d: raise the plan's spec.quantity first (kubectl patch clp %s --type merge -p '{\"spec\":{\"quantity\":%d}}')",
		plan, licensed, plural(int64(licensed)), assigned, spec.Quantity, plan, assigned+1)
}

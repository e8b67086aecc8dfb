package v1alpha1

// PlanLabel is set on LicenseOrders and LicenseAssignments; its value is the name of the
// CustomerLicensePlan they belong to. Select a plan's order history with
// `kubectl get lo -l licensing.partnerops.io/plan=<plan>`.
const PlanLabel = "licensing.partnerops.io/plan"

// OverLicensedAssignmentsLabel, set to OverLicensedAssignmentsRefuse on a namespace, makes the API
// server refuse a new LicenseAssignment there when every license of its plan is assigned (the
// operator's validating webhook judges it). Elsewhere every assignment is admitted, as the usage it
// records is a fact, and one that no license covers is reported OverLicensed on its status.
const OverLicensedAssignmentsLabel = "licensing.partnerops.io/over-licensed-assignments"

// OverLicensedAssignmentsRefuse is the value of OverLicensedAssignmentsLabel that refuses them.
const OverLicensedAssignmentsRefuse = "Refuse"

// RequestedByAnnotation records on a plan the user who created it or last changed its spec, as
// admission saw them; the orders that change produces carry it in spec.requestedBy.
const RequestedByAnnotation = "licensing.partnerops.io/requested-by"

// PreviewAnnotation is set by admission on the plan a server-side dry run of a create or a spec
// change answers with (`kubectl apply --dry-run=server -o yaml`): the orders the change would
// place and their charges, as JSON (PlanPreview in internal/licensing: orders, total, rejected,
// approval...). It says as data what the admission warnings say in words, for tools such as
// `kubectl license preview`. Admission removes it from a create or a spec change that is stored.
const PreviewAnnotation = "licensing.partnerops.io/preview"

// PaymentPlan is the billing cadence of a license plan, or Trial: a trial of the product, charged
// nothing, for the product's trial length (spec.trial of its LicenseProduct).
// +kubebuilder:validation:Enum=Monthly;Prepay1Y;Prepay2Y;Prepay3Y;Prepay4Y;Prepay5Y;OneTime;Trial
type PaymentPlan string

const (
	// Monthly bills one calendar month at a time, anchored on the start date's day of month.
	Monthly PaymentPlan = "Monthly"
	// Prepay1Y bills one calendar year in advance.
	Prepay1Y PaymentPlan = "Prepay1Y"
	// Prepay2Y bills two calendar years in advance.
	Prepay2Y PaymentPlan = "Prepay2Y"
	// Prepay3Y bills three calendar years in advance.
	Prepay3Y PaymentPlan = "Prepay3Y"
	// Prepay4Y bills four calendar years in advance.
	Prepay4Y PaymentPlan = "Prepay4Y"
	// Prepay5Y bills five calendar years in advance.
	Prepay5Y PaymentPlan = "Prepay5Y"
	// OneTime bills once and never renews (professional services).
	OneTime PaymentPlan = "OneTime"
	// Trial bills nothing for the product's trial length (spec.trial.days of its LicenseProduct),
	// then expires unless the plan's payment plan is changed to a paid one first (a Conversion).
	// Only products with spec.trial offer it, once per customer, before any paid plan.
	Trial PaymentPlan = "Trial"
)

// Amount is an amount of money as a decimal string with at most two decimals, such as "12.50":
// at most 17 digits before the point, up to 92233720368547758.07, the most that 64-bit whole
// cents (minor units) hold. The operator refuses an amount beyond that, and a charge or total
// that would go beyond it, rather than record it wrong.
// +kubebuilder:validation:Pattern=`^[0-9]{1,17}(\.[0-9]{1,2})?$`
// +kubebuilder:validation:MaxLength=20
type Amount string

// Date is a calendar date in UTC, formatted YYYY-MM-DD.
// +kubebuilder:validation:Format=date
// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
// +kubebuilder:validation:MaxLength=10
type Date string

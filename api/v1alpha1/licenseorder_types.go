package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// OrderChange is the kind of change an order records.
// +kubebuilder:validation:Enum=New;Trial;Conversion;IncreaseQuantity;DecreaseQuantity;ChangePaymentPlan;ChangeProduct;Renewal;Expiry;Cancellation
type OrderChange string

const (
	// ChangeNew orders a new plan.
	ChangeNew OrderChange = "New"
	// ChangeTrial orders a trial of the product as a new plan: charged 0.00, with a term of the
	// product's trial length from the day it is placed, expiring at its end unless converted.
	ChangeTrial OrderChange = "Trial"
	// ChangeConversion turns a trial in force into a paid plan of the payment plan ordered: billing
	// starts on its effective date, with a first term charged like a new plan's.
	ChangeConversion OrderChange = "Conversion"
	// ChangeIncreaseQuantity adds licenses at once, with a prorated charge for the rest of the term.
	ChangeIncreaseQuantity OrderChange = "IncreaseQuantity"
	// ChangeDecreaseQuantity removes licenses from the start of the next term.
	ChangeDecreaseQuantity OrderChange = "DecreaseQuantity"
	// ChangePaymentPlan changes the payment plan from the start of the next term.
	ChangePaymentPlan OrderChange = "ChangePaymentPlan"
	// ChangeProduct moves the plan to another product of the same family.
	ChangeProduct OrderChange = "ChangeProduct"
	// ChangeRenewal renews the plan for another term.
	ChangeRenewal OrderChange = "Renewal"
	// ChangeExpiry records that the plan expired at the end of its term.
	ChangeExpiry OrderChange = "Expiry"
	// ChangeCancellation records that the plan was deleted.
	ChangeCancellation OrderChange = "Cancellation"
)

// OrderChanges lists every OrderChange, in the order of the enum above: tools that accept a
// change by name (kubectl license history --change) take their choices from it.
var OrderChanges = []OrderChange{ChangeNew, ChangeTrial, ChangeConversion, ChangeIncreaseQuantity,
	ChangeDecreaseQuantity, ChangePaymentPlan, ChangeProduct, ChangeRenewal, ChangeExpiry, ChangeCancellation}

// OrderState is where an order is in its life.
// +kubebuilder:validation:Enum=Pending;AwaitingApproval;Rejected;Fulfilled
type OrderState string

const (
	// OrderPending: placed, not yet validated and fulfilled.
	OrderPending OrderState = "Pending"
	// OrderAwaitingApproval: valid, waiting for a person's approval.
	OrderAwaitingApproval OrderState = "AwaitingApproval"
	// OrderRejected: refused; reason and message say why. Terminal.
	OrderRejected OrderState = "Rejected"
	// OrderFulfilled: validated, approved and priced. Terminal.
	OrderFulfilled OrderState = "Fulfilled"
)

// OrderStates lists every OrderState, in the order of the enum above.
var OrderStates = []OrderState{OrderPending, OrderAwaitingApproval, OrderRejected, OrderFulfilled}

// SystemUser is the requestedBy of the orders the operator places on its own (renewals, expiries).
const SystemUser = "System"

// Condition types and reasons of a LicenseOrder.
const (
	// OrderValid is True when the order passed every business rule.
	OrderValid = "Valid"
	// OrderApproved is True when the order was approved; once set it never changes.
	OrderApproved = "Approved"
	// OrderFulfilledCondition is True when the order was fulfilled and charged.
	OrderFulfilledCondition = "Fulfilled"

	// ReasonValid: every rule passed.
	ReasonValid = "Valid"
	// ReasonAutomatic: approved by the billing profile's automatic approval policy.
	ReasonAutomatic = "Automatic"
	// ReasonApproved: a person approved the order.
	ReasonApproved = "Approved"
	// ReasonDenied: a person denied the order; it is rejected.
	ReasonDenied = "Denied"
	// ReasonFulfilled: the order was fulfilled.
	ReasonFulfilled = "Fulfilled"

	// ReasonUnknownProduct: the product does not exist in the catalog.
	ReasonUnknownProduct = "UnknownProduct"
	// ReasonProductNotOrderable: the product's availability does not allow this change.
	ReasonProductNotOrderable = "ProductNotOrderable"
	// ReasonPaymentPlanNotOffered: the product does not offer the payment plan.
	ReasonPaymentPlanNotOffered = "PaymentPlanNotOffered"
	// ReasonUnknownCostCenter: the cost center is not one of the billing profile's.
	ReasonUnknownCostCenter = "UnknownCostCenter"
	// ReasonRequirementNotMet: the customer holds no active plan of a required product, or too few licenses of it.
	ReasonRequirementNotMet = "RequirementNotMet"
	// ReasonUsageBelowMinimum: the quantity does not cover the licenses assigned.
	ReasonUsageBelowMinimum = "UsageBelowMinimum"
	// ReasonProductChangeNotAllowed: the new product is not of the same family as the one in force.
	ReasonProductChangeNotAllowed = "ProductChangeNotAllowed"
	// ReasonTrialNotOffered: the product offers no trial (it has no spec.trial), or the plan is or
	// was on a paid plan (a trial only comes before one), or a trial was to change its product.
	ReasonTrialNotOffered = "TrialNotOffered"
	// ReasonTrialUsed: the customer had a trial of the product already; the message names its order.
	ReasonTrialUsed = "TrialUsed"
	// ReasonTrialTooLarge: the quantity is above the licenses a trial of the product allows
	// (spec.trial.maxLicenses).
	ReasonTrialTooLarge = "TrialTooLarge"

	// ReasonChargeTooLarge: the order's charge, or the plan's total billed with it, is beyond the
	// largest amount there is (92233720368547758.07). The refusal stands until the plan's spec
	// changes: lower spec.quantity.
	ReasonChargeTooLarge = "ChargeTooLarge"

	// Reasons an order is closed without a charge although no rule refused it.

	// ReasonPlanNotFound (shared with LicenseAssignment): the order's plan does not exist.
	// ReasonPlanDeleted: the plan was deleted before the order took effect; its Cancellation
	// order records the deletion.
	ReasonPlanDeleted = "PlanDeleted"
	// ReasonCurrencyChanged: the order, a dearer product taking effect at once and charged the
	// price difference, was placed before the BillingProfile's currency changed, and prices of two
	// currencies cannot be subtracted: it was closed without a charge, and the plan orders the
	// move again, taking effect at the term end.
	ReasonCurrencyChanged = "CurrencyChanged"
	// ReasonSuperseded: the plan no longer needs the order (its spec changed, or the term it
	// renews was renewed or ended already); the plan orders what it needs now.
	ReasonSuperseded = "Superseded"
)

// LicenseOrderSpec is what was ordered. It is written once, by the operator, and never changes.
type LicenseOrderSpec struct {
	// plan is the name of the CustomerLicensePlan the order is for.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Plan string `json:"plan"`

	// planUID is the UID (metadata.uid) of the CustomerLicensePlan the order belongs to. A plan
	// deleted and declared again under the same name is another plan: it never reads or applies
	// the orders of the deleted one, which stay as they were, and numbers its own orders after
	// theirs. Orders placed before this field existed have none: such an order belongs to the
	// plan of its name that was created no later than the order.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=128
	PlanUID types.UID `json:"planUID,omitempty"`

	// customer is the customer account of the plan.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Customer string `json:"customer,omitempty"`

	// revision numbers the plan's orders from 1; the order is named <plan>-<revision>.
	// +required
	// +kubebuilder:validation:Minimum=1
	Revision int64 `json:"revision"`

	// change is the kind of change the order records: New, Trial (a trial instead of a paid plan),
	// Conversion (a trial turned into a paid plan), IncreaseQuantity, DecreaseQuantity,
	// ChangePaymentPlan, ChangeProduct, Renewal, Expiry or Cancellation.
	// +required
	Change OrderChange `json:"change"`

	// product is the LicenseProduct name ordered.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Product string `json:"product"`

	// sku is the product's SKU, when the product is known.
	// +optional
	// +kubebuilder:validation:MaxLength=40
	SKU string `json:"sku,omitempty"`

	// paymentPlan is the payment plan ordered.
	// +required
	PaymentPlan PaymentPlan `json:"paymentPlan"`

	// quantity is the number of licenses after the order (New Qty).
	// +required
	// +kubebuilder:validation:Minimum=0
	Quantity int32 `json:"quantity"`

	// previousQuantity is the number of licenses before the order.
	// +optional
	// +kubebuilder:validation:Minimum=0
	PreviousQuantity int32 `json:"previousQuantity"`

	// effectiveDate is the day the change takes effect: today for new plans, trials, conversions
	// and increases, the end of the term for decreases and payment plan changes.
	// +required
	EffectiveDate Date `json:"effectiveDate"`

	// trialEnd is, on a Trial order, the day the trial ends: the day the order is placed (its
	// effectiveDate) plus the product's spec.trial.days, fixed then. Empty on every other order.
	// +optional
	TrialEnd Date `json:"trialEnd,omitempty"`

	// purchaseReference is the purchaser's reference from the plan.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PurchaseReference string `json:"purchaseReference,omitempty"`

	// costCenter is the cost center billed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CostCenter string `json:"costCenter,omitempty"`

	// requestedBy is the user whose change of the plan produced the order, or System for the
	// operator's own orders (renewals, expiries).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	RequestedBy string `json:"requestedBy,omitempty"`

	// planGeneration is the generation of the plan's spec the order was placed for.
	// +optional
	PlanGeneration int64 `json:"planGeneration,omitempty"`
}

// Charge is what an order costs.
type Charge struct {
	// amount is the charge, a decimal string.
	// +optional
	Amount Amount `json:"amount,omitempty"`
	// currency is the ISO 4217 code of amount.
	// +optional
	Currency string `json:"currency,omitempty"`
	// description shows how amount was computed, so a person can check it by hand.
	// +optional
	Description string `json:"description,omitempty"`
}

// LicenseOrderStatus is where the order is in its life.
type LicenseOrderStatus struct {
	// state is Pending, AwaitingApproval, Rejected or Fulfilled.
	// +optional
	State OrderState `json:"state,omitempty"`

	// conditions: Valid, Approved (never changes once set) and Fulfilled.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// reason is the machine-readable cause of a rejection, such as UsageBelowMinimum or TrialUsed.
	// +optional
	Reason string `json:"reason,omitempty"`
	// message explains a rejection to a person and says what to do.
	// +optional
	Message string `json:"message,omitempty"`

	// usageAtValidation is the number of licenses assigned to the plan when the order was validated.
	// +optional
	UsageAtValidation *int32 `json:"usageAtValidation,omitempty"`

	// pricePerLicense is the price per license the order was priced with; it is locked on the plan.
	// +optional
	PricePerLicense Amount `json:"pricePerLicense,omitempty"`

	// charge is what the order costs.
	// +optional
	Charge *Charge `json:"charge,omitempty"`

	// fulfilledAt is when the order was fulfilled.
	// +optional
	FulfilledAt *metav1.Time `json:"fulfilledAt,omitempty"`

	// notices records what people were told of the order, and of its plan while the order was the
	// plan's latest (RenewalComing, TrialEnding, PlanExpired): one entry per sink and notice.
	// +optional
	// +listType=map
	// +listMapKey=key
	Notices []Notice `json:"notices,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lo,categories=licensing
// +kubebuilder:selectablefield:JSONPath=`.spec.plan`
// +kubebuilder:selectablefield:JSONPath=`.spec.change`
// +kubebuilder:selectablefield:JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Date (UTC)",type=string,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="User",type=string,JSONPath=`.spec.requestedBy`
// +kubebuilder:printcolumn:name="SKU",type=string,JSONPath=`.spec.sku`
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.product`
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.spec.paymentPlan`
// +kubebuilder:printcolumn:name="Reference",type=string,JSONPath=`.spec.purchaseReference`
// +kubebuilder:printcolumn:name="Change",type=string,JSONPath=`.spec.change`
// +kubebuilder:printcolumn:name="New Qty",type=integer,JSONPath=`.spec.quantity`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Charge",type=string,JSONPath=`.status.charge.amount`,priority=1
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`,priority=1
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.status) || !has(oldSelf.status.conditions) || !oldSelf.status.conditions.exists(c, c.type == 'Approved' && (c.status == 'True' || c.status == 'False')) || (has(self.status) && has(self.status.conditions) && self.status.conditions.filter(c, c.type == 'Approved').map(c, c.status) == oldSelf.status.conditions.filter(c, c.type == 'Approved').map(c, c.status))",fieldPath=".status.conditions",message="the Approved condition of an order is an approval (True) or a denial (False) that never changes once set, not even by the operator"

// LicenseOrder is one immutable order event against a plan: an entry of the order history and
// of the billing ledger. The operator creates it; it outlives the plan.
type LicenseOrder struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what was ordered; it never changes.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable: an order is a record of history"
	Spec LicenseOrderSpec `json:"spec"`

	// status is where the order is in its life.
	// +optional
	Status LicenseOrderStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// LicenseOrderList is a list of LicenseOrders.
type LicenseOrderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LicenseOrder `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LicenseOrder{}, &LicenseOrderList{})
}

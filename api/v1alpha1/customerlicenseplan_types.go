package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RenewalPolicy says what happens when a plan's term ends.
// +kubebuilder:validation:Enum=AutoRenew;ExpireAtTermEnd
type RenewalPolicy string

const (
	// AutoRenew places a renewal order before the term ends (the default).
	AutoRenew RenewalPolicy = "AutoRenew"
	// ExpireAtTermEnd lets the plan expire when its term ends.
	ExpireAtTermEnd RenewalPolicy = "ExpireAtTermEnd"
)

// RenewalAction is what will happen at a plan's renewal date.
// +kubebuilder:validation:Enum=Renew;Expire;None
type RenewalAction string

const (
	// RenewalActionRenew: the plan renews for another term.
	RenewalActionRenew RenewalAction = "Renew"
	// RenewalActionExpire: the plan expires at the end of its term.
	RenewalActionExpire RenewalAction = "Expire"
	// RenewalActionNone: the plan has no term (OneTime) or has ended.
	RenewalActionNone RenewalAction = "None"
)

// Condition types and reasons of a CustomerLicensePlan.
const (
	// PlanReady is True when the spec is in force and the plan is active.
	PlanReady = "Ready"
	// PlanUsageCovered is True when the licenses in force cover the assigned usage.
	PlanUsageCovered = "UsageCovered"
	// PlanReconciling is True while the operator is putting the spec in force on its own: an
	// order is being placed or processed, or waits for a person's approval. It is absent otherwise.
	// Together with Stalled it is what kstatus (Flux, kpt, cli-utils) and Argo CD read.
	PlanReconciling = "Reconciling"
	// PlanStalled is True when the spec cannot be put in force without a person changing it: its
	// order was rejected or denied, the spec breaks a rule, or the plan expired. It is absent
	// otherwise. Reason and message are those of Ready.
	PlanStalled = "Stalled"

	// ReasonInForce: the spec is in force and the plan is active.
	ReasonInForce = "InForce"
	// ReasonOrderPending: an order for the spec has been placed and is being processed.
	ReasonOrderPending = "OrderPending"
	// ReasonAwaitingApproval: the order for the spec waits for a person's approval.
	ReasonAwaitingApproval = "AwaitingApproval"
	// ReasonOrderRejected: the order for the spec was rejected; the message says why and what to do.
	ReasonOrderRejected = "OrderRejected"
	// ReasonExpired: the plan's term ended without renewal.
	ReasonExpired = "Expired"
	// ReasonCancelled: the plan was deleted and its cancellation recorded.
	ReasonCancelled = "Cancelled"
	// ReasonOrderNotPlaced: the API server refused to create the plan's order; the message quotes
	// its answer. Nothing was ordered; the operator tries again, at once when the spec changes.
	ReasonOrderNotPlaced = "OrderNotPlaced"
	// ReasonInvalidSpec: a field of the spec that places no order on its own (such as costCenter)
	// breaks a business rule; the message names the field, the value and what to do.
	ReasonInvalidSpec = "InvalidSpec"

	// ReasonStartDateOutOfRange: spec.startDate lies more than 31 days after the day the plan is
	// ordered, or more than 5 years before it; the message names the date and the bounds.
	ReasonStartDateOutOfRange = "StartDateOutOfRange"

	// ReasonCovered: the licenses in force cover the assigned usage.
	ReasonCovered = "Covered"
	// ReasonOverAssigned: more licenses are assigned than are in force.
	ReasonOverAssigned = "OverAssigned"

	// CancellationFinalizer holds a deleted plan until its Cancellation order is recorded.
	CancellationFinalizer = "licensing.partnerops.io/cancellation"
)

// RenewalSpec says how a plan renews.
type RenewalSpec struct {
	// policy is AutoRenew (default: a renewal order is placed before the term ends) or
	// ExpireAtTermEnd (the plan expires when its term ends).
	// +optional
	// +kubebuilder:default=AutoRenew
	Policy RenewalPolicy `json:"policy,omitempty"`

	// renewBefore is how long before the term ends the renewal order is placed (default 168h),
	// as a Go duration such as 168h or 72h30m. It must be shorter than the shortest term of the
	// payment plan: 672h (28 days) for Monthly, 8760h (365 days) for prepaid plans.
	// +optional
	// +kubebuilder:default="168h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$`
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// CustomerLicensePlanSpec is the desired license plan of a customer.
// +kubebuilder:validation:XValidation:rule="!has(self.renewal) || !has(self.renewal.renewBefore) || self.paymentPlan == 'OneTime' || self.paymentPlan == 'Trial' || duration(self.renewal.renewBefore) < duration(self.paymentPlan == 'Monthly' ? '672h' : '8760h')",message="renewal.renewBefore must be shorter than the shortest term of the payment plan: 672h (28 days) for Monthly, 8760h (365 days) for prepaid plans"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.startDate) || (has(self.startDate) && self.startDate == oldSelf.startDate)",message="startDate is immutable once set"
type CustomerLicensePlanSpec struct {
	// customer is the customer account this plan belongs to.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Customer string `json:"customer"`

	// product is the name of the LicenseProduct (plan type) wanted. It may change only to another
	// product of the same family, such as Endpoint License Basic to Plus.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Product string `json:"product"`

	// quantity is the number of licenses wanted. It must cover the licenses assigned to the plan.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Quantity int32 `json:"quantity"`

	// paymentPlan is how the plan is paid: a billing cadence the product lists in its prices
	// (Monthly, Prepay1Y to Prepay5Y, OneTime), or Trial.
	//
	// Trial asks for a trial of the product instead of a paid plan, where the product offers one
	// (its spec.trial): the operator places a Trial order of spec.quantity licenses (at most
	// spec.trial.maxLicenses), charged 0.00, for spec.trial.days days from the day it is
	// ordered (the licenses are in force from then, whatever startDate says). The trial
	// expires at its end (an Expiry order), whatever renewal.policy says, unless paymentPlan is set
	// to a paid plan before then: that places a Conversion order, billed like a new plan from that
	// day, and the plan keeps its assignments. A customer gets one trial per product, and only
	// before a paid plan: a second trial (TrialUsed), a quantity above maxLicenses (TrialTooLarge),
	// a product without a trial, or a paid plan set back to Trial (TrialNotOffered) are refused.
	// Trial is a payment plan rather than a field of its own because it is how the plan is paid
	// (nothing, for a limited term), it shows in the PAYMENT column as the partner portal shows it,
	// and converting is changing the payment plan, which the operator orders like any change.
	// +required
	PaymentPlan PaymentPlan `json:"paymentPlan"`

	// startDate (YYYY-MM-DD, UTC) is the date billing starts. Left empty, billing starts on the day
	// the plan is first ordered: the day it is created, or, when its first order is refused or
	// denied, the day it is ordered again (status.startDate records it). It cannot change once set. The plan is in force as soon as it is ordered, so the
	// start date may lie at most 31 days ahead (a month of lead time; the days until then are not
	// billed) and at most 5 years back (every term since is billed at once); a date outside these
	// bounds is refused (StartDateOutOfRange). A trial's days run from the day it is ordered,
	// whatever startDate says.
	// +optional
	StartDate Date `json:"startDate,omitempty"`

	// renewal says how the plan renews.
	// +optional
	// +kubebuilder:default={}
	Renewal RenewalSpec `json:"renewal,omitempty"`

	// costCenter is the cost center billed; it defaults to the BillingProfile's defaultCostCenter
	// and must be one of its costCenters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	CostCenter string `json:"costCenter,omitempty"`

	// purchaseReference is the purchaser's own reference, such as a purchase order number; it is
	// recorded on every order and shown on billing data.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PurchaseReference string `json:"purchaseReference,omitempty"`
}

// Term is a billing period: from start (inclusive) to end (the renewal date, when the next term starts).
type Term struct {
	// start is the first day of the term.
	// +required
	Start Date `json:"start"`
	// end is the day the term ends and the next one would start.
	// +required
	End Date `json:"end"`
}

// Usage is the number of licenses in use.
type Usage struct {
	// assigned is the number of LicenseAssignments that name the plan.
	// +optional
	Assigned int32 `json:"assigned"`
	// observedAt is when assigned was counted.
	// +optional
	ObservedAt *metav1.Time `json:"observedAt,omitempty"`
}

// ExpiredWith is what an expired plan's spec asked for when it expired.
type ExpiredWith struct {
	// product is the product the spec asked for.
	// +optional
	Product string `json:"product,omitempty"`
	// quantity is the number of licenses the spec asked for.
	// +optional
	Quantity int32 `json:"quantity,omitempty"`
	// paymentPlan is the payment plan the spec asked for.
	// +optional
	PaymentPlan PaymentPlan `json:"paymentPlan,omitempty"`
	// renewalPolicy is the renewal policy the spec had.
	// +optional
	RenewalPolicy RenewalPolicy `json:"renewalPolicy,omitempty"`
}

// PendingChange is a change ordered now that takes effect at the start of the next term.
type PendingChange struct {
	// product is the product from the next term on, when it changes.
	// +optional
	Product string `json:"product,omitempty"`
	// quantity is the number of licenses from the next term on, when it changes.
	// +optional
	Quantity *int32 `json:"quantity,omitempty"`
	// paymentPlan is the payment plan from the next term on, when it changes.
	// +optional
	PaymentPlan PaymentPlan `json:"paymentPlan,omitempty"`
	// effectiveDate is the day the change takes effect: the end of the current term.
	// +optional
	EffectiveDate Date `json:"effectiveDate,omitempty"`
}

// BillingStatus summarizes what the plan costs and what has been billed.
type BillingStatus struct {
	// recurringCharge is the charge of one billing period at the licenses and price in force
	// (0.00 for a trial).
	// +optional
	RecurringCharge Amount `json:"recurringCharge,omitempty"`
	// billedThrough is the last day covered by what has been billed.
	// +optional
	BilledThrough Date `json:"billedThrough,omitempty"`
	// nextInvoiceDate is the day the next term will be billed; empty when the plan expires at the
	// end of its term, as a trial does.
	// +optional
	NextInvoiceDate Date `json:"nextInvoiceDate,omitempty"`
	// nextInvoiceAmount is what the next term will cost, with any pending change applied.
	// +optional
	NextInvoiceAmount Amount `json:"nextInvoiceAmount,omitempty"`
	// nextInvoiceCurrency is the currency of nextInvoiceAmount when it is not status.currency: a
	// renewal is charged at the catalog's price in the BillingProfile's currency, and the
	// profile's currency changed since the plan's price was locked. Empty otherwise.
	// +optional
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	NextInvoiceCurrency string `json:"nextInvoiceCurrency,omitempty"`
	// totalBilled is the sum of the charges of the plan's fulfilled orders, in status.currency,
	// while every charge was in that currency. Once the plan has been charged in another currency
	// (the BillingProfile's currency changed), it is empty and totalsBilled holds the totals:
	// amounts of two currencies are never added.
	// +optional
	TotalBilled Amount `json:"totalBilled,omitempty"`
	// totalsBilled is the sum of the charges of the plan's fulfilled orders per currency, one
	// entry per currency, once the plan has been charged in more than one currency (or in another
	// than status.currency); empty while totalBilled says it all.
	// +optional
	// +listType=map
	// +listMapKey=currency
	TotalsBilled []CurrencyAmount `json:"totalsBilled,omitempty"`
}

// CurrencyAmount is an amount of money in one currency.
type CurrencyAmount struct {
	// currency is the ISO 4217 code of amount, such as EUR.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency"`
	// amount is the amount, a decimal string.
	// +required
	Amount Amount `json:"amount"`
}

// CustomerLicensePlanStatus is the plan in force, as its fulfilled orders made it.
type CustomerLicensePlanStatus struct {
	// observedGeneration is the spec generation the status was computed from: 0 until the
	// operator first writes the status, so that tools that wait for a resource (kstatus, Flux,
	// Argo CD) see a new plan as in progress rather than done.
	// +optional
	// +kubebuilder:default=0
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (True when the spec is in force and the plan is active), UsageCovered
	// (True when the licenses in force cover the assigned usage), and, for kstatus and Argo CD,
	// Reconciling (True while an order is in flight) and Stalled (True when the spec cannot be put
	// in force without a person: rejected, denied, invalid or expired).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// product is the product in force.
	// +optional
	Product string `json:"product,omitempty"`
	// sku is the SKU of the product in force.
	// +optional
	SKU string `json:"sku,omitempty"`
	// licenses is the number of licenses in force.
	// +optional
	Licenses int32 `json:"licenses"`
	// paymentPlan is the payment plan in force: Trial while the plan is a trial.
	// +optional
	PaymentPlan PaymentPlan `json:"paymentPlan,omitempty"`
	// pricePerLicense is the price locked when the order that set it was fulfilled; catalog price
	// changes apply from the next renewal.
	// +optional
	PricePerLicense Amount `json:"pricePerLicense,omitempty"`
	// currency is the currency pricePerLicense was locked in: the BillingProfile's currency when
	// the order that locked it was fulfilled. Charges at that price (more licenses within the
	// term) are in this currency; charges at a catalog price (a new plan, a renewal, a conversion,
	// a new payment plan) are in the BillingProfile's currency of the day, which they lock in turn.
	// recurringCharge and totalBilled are in this currency.
	// +optional
	Currency string `json:"currency,omitempty"`

	// startDate is the day billing started, whose day of month anchors every term: for a trial,
	// the day it started, and from its conversion on, the day of the Conversion; for a OneTime
	// plan moved to a payment plan with terms (Monthly, PrepayNY), the day of that change.
	// +optional
	StartDate Date `json:"startDate,omitempty"`
	// term is the current billing period.
	// +optional
	Term *Term `json:"term,omitempty"`
	// renewalDate is the day the plan renews or expires: the end of the current term (for a trial,
	// the day it ends).
	// +optional
	RenewalDate Date `json:"renewalDate,omitempty"`
	// renewalAction is what happens at renewalDate: Renew, Expire (always, for a trial) or None
	// (OneTime plans).
	// +optional
	RenewalAction RenewalAction `json:"renewalAction,omitempty"`

	// expiredOn is the day the plan expired (its term ended without renewal); no licenses are in
	// force from then on. A spec that asks for something else than expiredWith orders a new plan.
	// +optional
	ExpiredOn Date `json:"expiredOn,omitempty"`

	// expiredWith is what the plan's spec asked for when the plan expired. The expired plan orders
	// again (a New order, billed from that day) once its spec asks for another product, quantity,
	// payment plan or renewal policy; a new costCenter or purchaseReference alone orders nothing.
	// +optional
	ExpiredWith *ExpiredWith `json:"expiredWith,omitempty"`

	// cancelledOn is the day the plan's Cancellation order took effect: the plan was deleted, no
	// licenses are in force, and it orders nothing more.
	// +optional
	CancelledOn Date `json:"cancelledOn,omitempty"`

	// revision is the revision of the last order applied to the plan (0: none yet).
	// +optional
	Revision int64 `json:"revision,omitempty"`
	// lastOrder is the name of the last order applied to the plan.
	// +optional
	LastOrder string `json:"lastOrder,omitempty"`

	// entitlementRevision identifies what the plan holds in force as its namespace's entitlement
	// (the Secret license-entitlement) states it: the entitlement's entry for this plan carries the
	// same revision once it is issued. Empty while nothing is in force.
	// +optional
	EntitlementRevision string `json:"entitlementRevision,omitempty"`

	// usage is the number of licenses assigned.
	// +optional
	Usage Usage `json:"usage,omitempty"`

	// pendingChange holds changes ordered that take effect at the start of the next term.
	// +optional
	PendingChange *PendingChange `json:"pendingChange,omitempty"`

	// billing summarizes what the plan costs and what has been billed.
	// +optional
	Billing *BillingStatus `json:"billing,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=clp,categories=licensing
// +kubebuilder:selectablefield:JSONPath=`.spec.customer`
// +kubebuilder:selectablefield:JSONPath=`.spec.product`
// +kubebuilder:validation:XValidation:rule="oldSelf.hasValue() || size(self.metadata.name) <= 63",optionalOldSelf=true,message="metadata.name: a plan's name is at most 63 characters: it is the value of the licensing.partnerops.io/plan label of the plan's orders and assignments, and a label value holds at most 63 characters"
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customer`
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.product`
// +kubebuilder:printcolumn:name="Licenses",type=integer,JSONPath=`.status.licenses`
// +kubebuilder:printcolumn:name="Used",type=integer,JSONPath=`.status.usage.assigned`
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.status.paymentPlan`
// +kubebuilder:printcolumn:name="Start",type=string,JSONPath=`.status.startDate`
// +kubebuilder:printcolumn:name="Renews/Expires",type=string,JSONPath=`.status.renewalDate`
// +kubebuilder:printcolumn:name="Action",type=string,JSONPath=`.status.renewalAction`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Price",type=string,JSONPath=`.status.pricePerLicense`,priority=1
// +kubebuilder:printcolumn:name="Cost Center",type=string,JSONPath=`.spec.costCenter`,priority=1
// +kubebuilder:printcolumn:name="Reference",type=string,JSONPath=`.spec.purchaseReference`,priority=1

// CustomerLicensePlan is a customer's license plan: the product, quantity and payment plan wanted.
// The operator turns every difference between spec and status into a LicenseOrder.
type CustomerLicensePlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the plan wanted.
	// +required
	Spec CustomerLicensePlanSpec `json:"spec"`

	// status is the plan in force. A plan the operator has not looked at yet reads
	// {observedGeneration: 0}.
	// +optional
	// +kubebuilder:default={observedGeneration: 0}
	Status CustomerLicensePlanStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CustomerLicensePlanList is a list of CustomerLicensePlans.
type CustomerLicensePlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []CustomerLicensePlan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&CustomerLicensePlan{}, &CustomerLicensePlanList{})
}

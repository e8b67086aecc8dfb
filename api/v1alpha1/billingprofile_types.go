package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DefaultBillingProfileName is the name of the one BillingProfile the operator reads.
const DefaultBillingProfileName = "default"

// ApprovalMode says whether orders need a person's approval.
// +kubebuilder:validation:Enum=Automatic;Manual
type ApprovalMode string

const (
	// AutomaticApproval approves valid orders without a person, unless their charge is above manualAbove.
	AutomaticApproval ApprovalMode = "Automatic"
	// ManualApproval leaves every valid order awaiting a person's approval.
	ManualApproval ApprovalMode = "Manual"
)

// CostCenter is a cost center that plans may be billed to.
type CostCenter struct {
	// name identifies the cost center on plans and on billing data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Name string `json:"name"`

	// description says what the cost center is for.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Description string `json:"description,omitempty"`
}

// ApprovalPolicy says which orders need a person's approval.
type ApprovalPolicy struct {
	// mode is Automatic (default) or Manual.
	// +optional
	// +kubebuilder:default=Automatic
	Mode ApprovalMode `json:"mode,omitempty"`

	// manualAbove is an amount: orders whose charge is above it need a person's approval even in
	// Automatic mode.
	// +optional
	ManualAbove Amount `json:"manualAbove,omitempty"`

	// separationOfDuties, when true, keeps the approval of an order from the person who asked for
	// it: an approver may not approve or deny an order whose spec.requestedBy is themselves (the
	// user who created the plan or last changed its spec); another approver decides it. Orders the
	// operator places on its own (requestedBy System: renewals) may be decided by any approver.
	// Default false: an approver may decide their own orders.
	// +optional
	// +kubebuilder:default=false
	SeparationOfDuties bool `json:"separationOfDuties,omitempty"`
}

// BillingProfileSpec holds the partner's company billing settings.
// +kubebuilder:validation:XValidation:rule="!has(self.defaultCostCenter) || (has(self.costCenters) && self.costCenters.exists(c, c.name == self.defaultCostCenter))",message="defaultCostCenter must name one of costCenters"
type BillingProfileSpec struct {
	// currency is the ISO 4217 code charges are expressed in, such as EUR. It may change: a
	// charge at a catalog price (a new plan, a renewal, a conversion, a new payment plan) is in
	// the currency of the day and locks it on the plan with the price (status.currency); a charge
	// at a price locked on the plan is in the currency it was locked in. Totals are kept per
	// currency, never added across currencies.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency"`

	// costCenters lists the cost centers plans may be billed to: a plan's costCenter must be one
	// of them (a profile without cost centers accepts plans that name none).
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=100
	CostCenters []CostCenter `json:"costCenters,omitempty"`

	// defaultCostCenter is the cost center of plans that name none. It must be one of costCenters.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	DefaultCostCenter string `json:"defaultCostCenter,omitempty"`

	// approval says which orders need a person's approval.
	// +optional
	// +kubebuilder:default={}
	Approval ApprovalPolicy `json:"approval,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=bprof,categories=licensing
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'default'",message="the BillingProfile must be named default"
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.spec.currency`
// +kubebuilder:printcolumn:name="Default Cost Center",type=string,JSONPath=`.spec.defaultCostCenter`
// +kubebuilder:printcolumn:name="Approval",type=string,JSONPath=`.spec.approval.mode`
// +kubebuilder:printcolumn:name="Manual Above",type=string,JSONPath=`.spec.approval.manualAbove`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BillingProfile holds the company billing settings: currency, cost centers and approval policy.
// The operator reads the one named default.
type BillingProfile struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the billing settings.
	// +required
	Spec BillingProfileSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// BillingProfileList is a list of BillingProfiles.
type BillingProfileList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BillingProfile `json:"items"`
}

func init() {
	SchemeBuilder.Register(&BillingProfile{}, &BillingProfileList{})
}

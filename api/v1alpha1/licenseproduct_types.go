package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ProductFamily groups products that a plan may switch between.
// +kubebuilder:validation:Enum=Connect;AddOn;Domain;Endpoint;OneTouchJoin;ProfessionalServices;VMR;ERCBasic
type ProductFamily string

// LicenseUnit is what one license of a product covers.
// +kubebuilder:validation:Enum=ConcurrentCall;User;TeamVMR;Endpoint;Domain;Room;Device;Organization;Service
type LicenseUnit string

// Availability says which orders a product still accepts.
// +kubebuilder:validation:Enum=Orderable;RenewalOnly;Retired
type Availability string

const (
	// Orderable products accept new plans, changes and renewals.
	Orderable Availability = "Orderable"
	// RenewalOnly products accept changes and renewals of existing plans, but no new plans.
	RenewalOnly Availability = "RenewalOnly"
	// Retired products accept nothing new: their plans expire at the end of their term, unless a
	// change to another product of the family is scheduled for the next term (they renew onto it).
	Retired Availability = "Retired"
)

// RequirementQuantity says how a plan's licenses relate to the licenses of the plans it requires.
// +kubebuilder:validation:Enum=Any;AtMost;Equal
type RequirementQuantity string

const (
	// RequireAny needs one active plan of a required product, whatever its quantity.
	RequireAny RequirementQuantity = "Any"
	// RequireAtMost needs this plan's licenses to be at most the sum of the required plans' licenses.
	RequireAtMost RequirementQuantity = "AtMost"
	// RequireEqual needs this plan's licenses to equal the sum of the required plans' licenses.
	RequireEqual RequirementQuantity = "Equal"
)

// Price is the price of one license for one billing period of a payment plan.
// +kubebuilder:validation:XValidation:rule="self.paymentPlan != 'Trial'",message="a trial has no price: offer it with spec.trial (days, maxLicenses), not in prices"
type Price struct {
	// paymentPlan is the payment plan this price applies to.
	// +required
	PaymentPlan PaymentPlan `json:"paymentPlan"`

	// pricePerLicense is the price of one license for one billing period of the payment plan:
	// one month for Monthly, the whole prepaid term for PrepayNY, once for OneTime.
	// +required
	PricePerLicense Amount `json:"pricePerLicense"`
}

// Requirement names products of which the customer must hold an active plan.
type Requirement struct {
	// anyOf lists LicenseProduct names; an active plan of any one of them meets the requirement.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +listType=set
	AnyOf []string `json:"anyOf"`

	// quantity relates this plan's licenses to the sum of the licenses of the required plans:
	// Any (default), AtMost or Equal.
	// +optional
	// +kubebuilder:default=Any
	Quantity RequirementQuantity `json:"quantity,omitempty"`
}

// Inclusion is an entitlement bundled with each plan of a product.
type Inclusion struct {
	// product is the LicenseProduct name of the bundled entitlement.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Product string `json:"product"`

	// quantity is how many licenses of that product each plan includes.
	// +required
	// +kubebuilder:validation:Minimum=1
	Quantity int32 `json:"quantity"`
}

// TrialOffer is the trial a product offers: a customer may use its licenses for a number of days,
// charged nothing, before ordering a paid plan.
type TrialOffer struct {
	// days is how long a trial lasts: it starts on the plan's startDate and ends (expires, unless
	// converted to a paid plan) that many days later, at 00:00 UTC. 1 to 90.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=90
	Days int32 `json:"days"`

	// maxLicenses is the most licenses a trial may hold; a trial plan's spec.quantity above it is
	// refused (TrialTooLarge).
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	MaxLicenses int32 `json:"maxLicenses"`
}

// LicenseProductSpec describes a plan type (SKU) that can be ordered.
type LicenseProductSpec struct {
	// sku is the stock keeping unit shown in the order history and on invoices.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Z0-9][A-Z0-9-]{1,39}$`
	SKU string `json:"sku"`

	// displayName is the product's name as people know it, such as "Endpoint License Plus".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`

	// description says what the product provides.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// family groups products a plan may switch between (Endpoint Basic, Plus and Premium).
	// +required
	Family ProductFamily `json:"family"`

	// unit is what one license covers.
	// +required
	Unit LicenseUnit `json:"unit"`

	// availability says which orders the product accepts: Orderable (default), RenewalOnly
	// (existing plans renew and change, no new plans) or Retired (nothing new; plans expire at term end).
	// +optional
	// +kubebuilder:default=Orderable
	Availability Availability `json:"availability,omitempty"`

	// prices lists the payment plans the product offers, each with its price per license.
	// A plan may only use a payment plan listed here.
	// +required
	// +listType=map
	// +listMapKey=paymentPlan
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=7
	Prices []Price `json:"prices"`

	// trial, when set, offers a trial of the product: a plan with spec.paymentPlan Trial holds up to
	// maxLicenses licenses for days days, charged nothing, and then expires unless its payment plan
	// is changed to one of prices first (a Conversion order). A customer gets one trial per
	// product, before any paid plan of it. Without trial, the product offers none.
	// +optional
	Trial *TrialOffer `json:"trial,omitempty"`

	// requires lists products the customer must hold an active plan of before ordering this one.
	// Every entry must be met.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	Requires []Requirement `json:"requires,omitempty"`

	// includes lists entitlements bundled with each plan of this product.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +listType=map
	// +listMapKey=product
	Includes []Inclusion `json:"includes,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=lprod,categories=licensing
// +kubebuilder:printcolumn:name="SKU",type=string,JSONPath=`.spec.sku`
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Family",type=string,JSONPath=`.spec.family`
// +kubebuilder:printcolumn:name="Unit",type=string,JSONPath=`.spec.unit`
// +kubebuilder:printcolumn:name="Availability",type=string,JSONPath=`.spec.availability`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LicenseProduct is a plan type (SKU) of the catalog, with its prices and ordering rules.
type LicenseProduct struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec describes the product.
	// +required
	Spec LicenseProductSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// LicenseProductList is a list of LicenseProducts.
type LicenseProductList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LicenseProduct `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LicenseProduct{}, &LicenseProductList{})
}

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AssigneeType is what kind of thing a license is assigned to.
// +kubebuilder:validation:Enum=User;TeamVMR;Endpoint;Domain;Room;Device;Other
type AssigneeType string

// Condition type and reasons of a LicenseAssignment.
const (
	// AssignmentAssigned is True when the license is covered by the plan's licenses in force.
	AssignmentAssigned = "Assigned"

	// ReasonLicensed: the plan's licenses in force cover this assignment.
	ReasonLicensed = "Licensed"
	// ReasonOverLicensed: every license in force is taken by older assignments.
	ReasonOverLicensed = "OverLicensed"
	// ReasonPlanNotFound: no CustomerLicensePlan of that name exists in the namespace.
	ReasonPlanNotFound = "PlanNotFound"
	// ReasonPlanNotActive: the plan has no licenses in force (not yet ordered, expired or cancelled).
	ReasonPlanNotActive = "PlanNotActive"
)

// Assignee is what a license is assigned to.
type Assignee struct {
	// type is User, TeamVMR, Endpoint, Domain, Room, Device or Other.
	// +required
	Type AssigneeType `json:"type"`

	// name identifies the assignee, such as a user's e-mail address or an endpoint's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// LicenseAssignmentSpec says which plan's license is used by what.
type LicenseAssignmentSpec struct {
	// plan is the name of the CustomerLicensePlan, in the same namespace, whose license is used.
	// It cannot change.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="plan is immutable: delete the assignment and create another"
	Plan string `json:"plan"`

	// assignee is what uses the license.
	// +required
	Assignee Assignee `json:"assignee"`
}

// LicenseAssignmentStatus says whether the license is covered.
type LicenseAssignmentStatus struct {
	// conditions: Assigned (True when the license is covered by the plan's licenses in force,
	// oldest assignments first).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lasg,categories=licensing
// +kubebuilder:selectablefield:JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.assignee.type`
// +kubebuilder:printcolumn:name="Assignee",type=string,JSONPath=`.spec.assignee.name`
// +kubebuilder:printcolumn:name="Assigned",type=string,JSONPath=`.status.conditions[?(@.type=="Assigned")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Assigned")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// LicenseAssignment is one license in use: a user, team VMR, endpoint, domain or other assignee.
// The number of assignments that name a plan is the plan's usage.
type LicenseAssignment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says which plan's license is used by what.
	// +required
	Spec LicenseAssignmentSpec `json:"spec"`

	// status says whether the license is covered.
	// +optional
	Status LicenseAssignmentStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// LicenseAssignmentList is a list of LicenseAssignments.
type LicenseAssignmentList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LicenseAssignment `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LicenseAssignment{}, &LicenseAssignmentList{})
}

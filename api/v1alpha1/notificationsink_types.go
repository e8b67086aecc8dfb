package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NoticeEvent is something that happened to an order or a plan that people may be told of.
// +kubebuilder:validation:Enum=OrderFulfilled;OrderAwaitingApproval;OrderRejected;OrderDenied;RenewalComing;TrialEnding;PlanExpired
type NoticeEvent string

const (
	// NoticeOrderFulfilled is the confirmation of an order: it took effect and was billed.
	NoticeOrderFulfilled NoticeEvent = "OrderFulfilled"
	// NoticeOrderAwaitingApproval tells approvers that an order waits for a person.
	NoticeOrderAwaitingApproval NoticeEvent = "OrderAwaitingApproval"
	// NoticeOrderRejected tells that the operator refused an order, with the reason.
	NoticeOrderRejected NoticeEvent = "OrderRejected"
	// NoticeOrderDenied tells that an approver denied an order.
	NoticeOrderDenied NoticeEvent = "OrderDenied"
	// NoticeRenewalComing tells, daysBefore the term end, that a plan renews.
	NoticeRenewalComing NoticeEvent = "RenewalComing"
	// NoticeTrialEnding tells, daysBefore its end, that a trial ends.
	NoticeTrialEnding NoticeEvent = "TrialEnding"
	// NoticePlanExpired tells that a plan's term ended without renewal.
	NoticePlanExpired NoticeEvent = "PlanExpired"
)

// NoticeEvents lists every NoticeEvent, in the order of the enum.
var NoticeEvents = []NoticeEvent{NoticeOrderFulfilled, NoticeOrderAwaitingApproval, NoticeOrderRejected,
	NoticeOrderDenied, NoticeRenewalComing, NoticeTrialEnding, NoticePlanExpired}

// DefaultNoticeDaysBefore is how many days before a term end RenewalComing and TrialEnding are told
// when an event selection does not say.
const DefaultNoticeDaysBefore = 7

// NoticeSelector selects one event for a sink.
type NoticeSelector struct {
	// type is the event.
	// +required
	Type NoticeEvent `json:"type"`
	// daysBefore is, for RenewalComing and TrialEnding, how many days before the term end the
	// notice is sent (default 7). Other events ignore it.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=90
	DaysBefore *int32 `json:"daysBefore,omitempty"`
}

// NoticeFilter narrows the orders and plans a sink hears of. Every list that is set must match;
// an empty list matches everything.
type NoticeFilter struct {
	// namespaces are the customer namespaces whose plans and orders the sink hears of.
	// +optional
	// +listType=set
	Namespaces []string `json:"namespaces,omitempty"`
	// customers are the values of spec.customer the sink hears of.
	// +optional
	// +listType=set
	Customers []string `json:"customers,omitempty"`
	// costCenters are the cost centers the sink hears of.
	// +optional
	// +listType=set
	CostCenters []string `json:"costCenters,omitempty"`
}

// SecretKeyRef names a key of a Secret in the operator's namespace.
type SecretKeyRef struct {
	// name is the Secret's name, in the operator's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// key is the key of the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// SMTPSecurity is how a connection to an SMTP server is protected.
// +kubebuilder:validation:Enum=StartTLS;TLS;None
type SMTPSecurity string

const (
	// SMTPStartTLS connects in plain text and upgrades with STARTTLS, which the server must offer.
	SMTPStartTLS SMTPSecurity = "StartTLS"
	// SMTPTLS connects over TLS from the first byte (SMTPS, usually port 465).
	SMTPTLS SMTPSecurity = "TLS"
	// SMTPNone sends in plain text: for a relay on the same host or in tests only.
	SMTPNone SMTPSecurity = "None"
)

// Recipients routes notices about some customers or cost centers to other addresses.
// +kubebuilder:validation:XValidation:rule="has(self.customer) != has(self.costCenter)",message="a recipients entry names exactly one of customer or costCenter"
type Recipients struct {
	// customer is a value of spec.customer.
	// +optional
	Customer string `json:"customer,omitempty"`
	// costCenter is a cost center.
	// +optional
	CostCenter string `json:"costCenter,omitempty"`
	// to are the addresses notices about that customer or cost center are sent to, besides the
	// sink's to.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +listType=set
	To []string `json:"to"`
}

// EmailSink sends notices as email over SMTP.
// +kubebuilder:validation:XValidation:rule="size(self.to) > 0 || (has(self.recipients) && size(self.recipients) > 0)",message="an email sink needs to or recipients"
type EmailSink struct {
	// host is the SMTP server.
	// +required
	// +kubebuilder:validation:MinLength=1
	Host string `json:"host"`
	// port is the SMTP server's port (default 587).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// security is StartTLS (default), TLS or None.
	// +optional
	// +kubebuilder:default=StartTLS
	Security SMTPSecurity `json:"security,omitempty"`
	// username authenticates to the server (SMTP AUTH PLAIN, or LOGIN where PLAIN is not
	// offered), with passwordSecretRef.
	// +optional
	Username string `json:"username,omitempty"`
	// passwordSecretRef is the key of a Secret in the operator's namespace holding the password.
	// +optional
	PasswordSecretRef *SecretKeyRef `json:"passwordSecretRef,omitempty"`
	// from is the sender address, such as "Licensing <licensing@partner.example>".
	// +required
	// +kubebuilder:validation:MinLength=3
	From string `json:"from"`
	// to are the addresses every notice is sent to.
	// +optional
	// +listType=set
	To []string `json:"to,omitempty"`
	// recipients sends notices of some customers or cost centers to more addresses.
	// +optional
	Recipients []Recipients `json:"recipients,omitempty"`
}

// WebhookSink posts notices as JSON to a URL, signed with HMAC-SHA256.
type WebhookSink struct {
	// url receives a POST per notice.
	// +required
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
	// secretRef is the key of a Secret in the operator's namespace holding the HMAC key. The
	// X-License-Signature header is "sha256=" and the hex HMAC-SHA256 of the X-License-Timestamp
	// header's value, a ".", and the body.
	// +required
	SecretRef SecretKeyRef `json:"secretRef"`
}

// CloudEventsSink posts notices as CloudEvents (HTTP binding, structured mode).
type CloudEventsSink struct {
	// url receives a POST per notice.
	// +required
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`
	// source is the events' source attribute (default "/license-operator").
	// +optional
	Source string `json:"source,omitempty"`
	// authorizationSecretRef is the key of a Secret in the operator's namespace whose value is sent
	// as the Authorization header, such as "Bearer <token>".
	// +optional
	AuthorizationSecretRef *SecretKeyRef `json:"authorizationSecretRef,omitempty"`
}

// NoticeTemplates overrides the default text of notices: Go text/template over the notice's data
// (see the README, "Notifications").
type NoticeTemplates struct {
	// subject is the template of an email's subject and of the summary of webhooks and events.
	// +optional
	Subject string `json:"subject,omitempty"`
	// body is the template of an email's body and of the text of webhooks and events.
	// +optional
	Body string `json:"body,omitempty"`
}

// NotificationSinkSpec is where notices go and which.
// +kubebuilder:validation:XValidation:rule="(has(self.email) ? 1 : 0) + (has(self.webhook) ? 1 : 0) + (has(self.cloudEvents) ? 1 : 0) == 1",message="a sink is exactly one of email, webhook or cloudEvents"
type NotificationSinkSpec struct {
	// email sends notices over SMTP.
	// +optional
	Email *EmailSink `json:"email,omitempty"`
	// webhook posts notices as signed JSON.
	// +optional
	Webhook *WebhookSink `json:"webhook,omitempty"`
	// cloudEvents posts notices as CloudEvents.
	// +optional
	CloudEvents *CloudEventsSink `json:"cloudEvents,omitempty"`

	// events are the events the sink is told of.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +listType=map
	// +listMapKey=type
	Events []NoticeSelector `json:"events"`
	// filter narrows the plans and orders the sink hears of.
	// +optional
	Filter NoticeFilter `json:"filter,omitempty"`
	// templates overrides the default subject and body.
	// +optional
	Templates *NoticeTemplates `json:"templates,omitempty"`
	// suspend stops deliveries; notices due meanwhile are sent once it is lifted, if they are less
	// than 72 hours old.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// NotificationSinkStatus is how deliveries to the sink go.
type NotificationSinkStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions: Ready (True while the sink's configuration is valid and its last delivery
	// succeeded).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// lastDelivery is when a notice was last delivered.
	// +optional
	LastDelivery *metav1.Time `json:"lastDelivery,omitempty"`
	// lastFailure is when a delivery last failed, and lastError why.
	// +optional
	LastFailure *metav1.Time `json:"lastFailure,omitempty"`
	// lastError is the error of the last failed delivery.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=nsink,categories=licensing
// +kubebuilder:printcolumn:name="Email",type=string,JSONPath=`.spec.email.host`
// +kubebuilder:printcolumn:name="Webhook",type=string,JSONPath=`.spec.webhook.url`
// +kubebuilder:printcolumn:name="CloudEvents",type=string,JSONPath=`.spec.cloudEvents.url`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Last Delivery",type=date,JSONPath=`.status.lastDelivery`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// NotificationSink is where people hear of orders and plans: an email address, a signed webhook or
// a CloudEvents receiver. Each order's status records which notices were delivered to which sink.
// Orders placed and fulfilled before a sink was created are not told to it.
type NotificationSink struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is where notices go and which.
	// +required
	Spec NotificationSinkSpec `json:"spec"`
	// status is how deliveries go.
	// +optional
	Status NotificationSinkStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// NotificationSinkList is a list of NotificationSinks.
type NotificationSinkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []NotificationSink `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NotificationSink{}, &NotificationSinkList{})
}

// Notice records one notice of an order, or of its plan, to one sink.
type Notice struct {
	// sink is the NotificationSink's name.
	// +required
	Sink string `json:"sink"`
	// event is what the notice told.
	// +required
	Event NoticeEvent `json:"event"`
	// key is the notice's idempotency key: the same for every attempt, and sent again with the same
	// value if the operator stopped between sending and recording. Receivers dedupe on it.
	// +required
	Key string `json:"key"`
	// deliveredAt is when the sink accepted the notice; unset while it is being retried.
	// +optional
	DeliveredAt *metav1.Time `json:"deliveredAt,omitempty"`
	// attempts is how many times the notice was sent.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// lastAttempt is when it was last sent.
	// +optional
	LastAttempt *metav1.Time `json:"lastAttempt,omitempty"`
	// lastError is why the last attempt failed.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

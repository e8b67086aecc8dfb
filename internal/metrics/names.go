// Package metrics exports the operator's view of license plans and orders to Prometheus: licenses
// in force and assigned, renewal and expiry dates, readiness, orders by change and state, amounts
// billed, and orders waiting for a person's approval.
//
// Every series but one counter is computed at scrape time from the manager's informer cache, so a
// scrape costs no request to the API server and always shows what the cache holds now. Only the
// elected leader exports them, so that two replicas never double a sum. Orders that are fulfilled
// leave the cache (internal/controller/cachecfg); the order controller counts each order it closes
// with OrderClosed.
//
// Labels follow kube-state-metrics: a series of one plan or order carries its namespace and name;
// what describes a plan (customer, product, cost center) is on license_operator_plan_info, to be
// joined with on(namespace, plan) group_left(...); aggregates carry only labels of bounded
// cardinality.
package metrics

import "github.com/prometheus/client_golang/prometheus"

// The names of the operator's metrics, as alerts and dashboards query them.
const (
	PlanInfo                   = "license_operator_plan_info"
	PlanLicenses               = "license_operator_plan_licenses"
	PlanLicensesAssigned       = "license_operator_plan_licenses_assigned"
	PlanRenewalTimestamp       = "license_operator_plan_renewal_timestamp_seconds"
	PlanStatusCondition        = "license_operator_plan_status_condition"
	PlanRenewalRefused         = "license_operator_plan_renewal_refused"
	Orders                     = "license_operator_orders"
	OrderAwaitingApprovalSince = "license_operator_order_awaiting_approval_created_timestamp_seconds"
	OrdersClosedTotal          = "license_operator_orders_closed_total"
	BilledAmountTotal          = "license_operator_billed_amount_total"
	CollectorListErrorsTotal   = "license_operator_collector_list_errors_total"
	EntitlementExpiry          = "license_operator_entitlement_expiry_timestamp_seconds"
	NoticesTotal               = "license_operator_notices_total"
)

// allNames lists every metric the package exports, for the tests that check that alerts and
// dashboards ask only for metrics that exist.
var allNames = []string{
	PlanInfo, PlanLicenses, PlanLicensesAssigned, PlanRenewalTimestamp, PlanStatusCondition,
	PlanRenewalRefused, Orders, OrderAwaitingApprovalSince, OrdersClosedTotal, BilledAmountTotal,
	CollectorListErrorsTotal, EntitlementExpiry, NoticesTotal,
}

var (
	planInfoDesc = prometheus.NewDesc(PlanInfo,
		"Information about a CustomerLicensePlan, always 1, as kubectl get clp shows it: the customer and product of the spec, "+
			"the payment plan in force (empty until the first order is fulfilled), the cost center billed (spec.costCenter, "+
			"or the BillingProfile's defaultCostCenter) and the currency.",
		[]string{"namespace", "plan", "customer", "product", "payment_plan", "cost_center", "currency"}, nil)

	planLicensesDesc = prometheus.NewDesc(PlanLicenses,
		"Licenses in force on the plan (status.licenses); 0 before its first order is fulfilled and after it expired or was cancelled.",
		[]string{"namespace", "plan"}, nil)

	planAssignedDesc = prometheus.NewDesc(PlanLicensesAssigned,
		"Licenses assigned on the plan: the LicenseAssignments that name it (status.usage.assigned). "+
			"Above license_operator_plan_licenses, usage exceeds the licenses in force.",
		[]string{"namespace", "plan"}, nil)

	planRenewalDesc = prometheus.NewDesc(PlanRenewalTimestamp,
		"The day the plan's term ends (status.renewalDate, 00:00 UTC) as a Unix timestamp; action is what happens then: "+
			"Renew, Expire or None. Absent while the plan has no term.",
		[]string{"namespace", "plan", "action"}, nil)

	planConditionDesc = prometheus.NewDesc(PlanStatusCondition,
		"A condition of the plan, always 1, with its status (True, False, Unknown) and reason. Every plan has a Ready series: "+
			"status Unknown and an empty reason until the operator first writes it.",
		[]string{"namespace", "plan", "condition", "status", "reason"}, nil)

	planRenewalRefusedDesc = prometheus.NewDesc(PlanRenewalRefused,
		"1 when the renewal of the plan's current term was refused (order names the Renewal order, reason why): "+
			"the plan expires at the end of its term unless the refusal is resolved.",
		[]string{"namespace", "plan", "order", "reason"}, nil)

	ordersDesc = prometheus.NewDesc(Orders,
		"LicenseOrders not fulfilled, by change, state (Pending, AwaitingApproval, Rejected) and reason (for Rejected): "+
			"the orders in flight and the refused ones. Fulfilled orders are counted by license_operator_orders_closed_total.",
		[]string{"namespace", "change", "state", "reason"}, nil)

	orderAwaitingDesc = prometheus.NewDesc(OrderAwaitingApprovalSince,
		"Creation time, as a Unix timestamp, of an order that waits for a person's approval (state AwaitingApproval); "+
			"time() minus it is how long the order has existed.",
		[]string{"namespace", "order", "plan", "change"}, nil)

	entitlementExpiryDesc = prometheus.NewDesc(EntitlementExpiry,
		"When the namespace's entitlement (the Secret license-entitlement) expires, as a Unix timestamp. The operator "+
			"re-issues it after two thirds of its lifetime, and whenever what is in force changes: time() coming near it "+
			"while a plan of the namespace is in force means the operator is not re-issuing.",
		[]string{"namespace"}, nil)

	billedDesc = prometheus.NewDesc(BilledAmountTotal,
		"Amount billed, in units of currency: the sum of status.billing.totalBilled of the plans that exist, by currency and "+
			"cost center. A plan that is deleted, or moves to another cost center, takes its total with it: Prometheus sees a "+
			"counter reset.",
		[]string{"currency", "cost_center"}, nil)
)

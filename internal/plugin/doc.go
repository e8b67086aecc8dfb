// Package plugin is the kubectl plugin of license-operator, `kubectl license`: the partner
// portal's License Plans and Order History tables, a plan's status on one screen, approving and
// denying orders, a preview of what a change of plans would order and cost, the billing statement
// of a month, and the renewal action, with spreadsheets (CSV and XLSX) for finance.
//
// Each command is one file: plans.go, history.go, status.go, approve.go, preview.go,
// statement.go and renewal.go. They share the API access of kube.go (the kubectl flags of
// k8s.io/cli-runtime, paging, errors a person can act on) and the output of table.go (aligned
// columns, colour on a terminal) and sheet.go (CSV per RFC 4180, XLSX workbooks). Money is summed
// in integer cents (licensing.Money), never in floating point.
//
// cmd/kubectl-license is the binary; it only calls Main.
package plugin

// Package licensing holds the business rules of license-operator as pure functions: which order a
// plan needs, whether an order is valid, what it costs, and how a fulfilled order changes the plan
// in force. Nothing here reads a clock or talks to the API server: callers pass "now" and the
// objects they gathered, which makes every rule testable with a table.
package licensing

// Package notify decides which notices are due about a plan and its orders, renders them, and
// delivers them to NotificationSinks: email over SMTP, a webhook signed with HMAC-SHA256, or a
// CloudEvent over HTTP.
//
// What is recorded where: every notice is recorded on a LicenseOrder's status.notices, one entry
// per sink and notice (sink, event, key, deliveredAt, attempts, lastAttempt, lastError). Order
// events (OrderFulfilled, OrderAwaitingApproval, OrderRejected, OrderDenied) are recorded on the
// order; plan events (RenewalComing, TrialEnding, PlanExpired) on the plan's latest applied order,
// and a key delivered on any order of the plan is not sent again. Due is a pure function of the
// sinks, the plan and its orders, and the time.
//
// Keys: each notice carries an idempotency key (Key: the order's or the plan's UID, the event,
// the occurrence such as the renewal date, and the sink, hashed), the same on every attempt, as
// the Idempotency-Key header, the CloudEvent's id and the email's Message-ID.
//
// At least once, exactly once to a receiver that dedupes: the controller sends, then records the
// attempt (Attempted, Record) on a fresh copy of the order with an optimistic lock, retrying on
// conflict without sending again. A crash between sending and recording sends the notice again,
// with the same key, after a restart: receivers drop a key they have seen.
//
// Retries: a failed attempt is recorded too and tried again Backoff(attempts) after it (30s,
// 1m, 2m... up to 1h); Due's next says when. An event older than GiveUpAfter is not attempted any
// more; a suspended sink gets nothing until it is resumed. Notices never block billing: they are
// recorded beside it, on a work queue of their own.
package notify

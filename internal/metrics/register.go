package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/licensing"
)

// ordersClosed counts the orders the order controller closed since the process started.
var ordersClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: OrdersClosedTotal,
	Help: "LicenseOrders closed by this process, by change, state (Fulfilled, Rejected) and reason (for Rejected).",
}, []string{"change", "state", "reason"})

// OrderClosed counts an order the order controller has just closed: call it once the status write
// that made the order Fulfilled or Rejected succeeded. An order that is not closed is not counted.
func OrderClosed(order *v1alpha1.LicenseOrder) {
	if !licensing.IsSettled(order) {
		return
	}
	ordersClosed.WithLabelValues(string(order.Spec.Change), string(order.Status.State), order.Status.Reason).Inc()
}

// notices counts the notices this process sent, by sink, event and result.
var notices = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: NoticesTotal,
	Help: "Notices sent by this process, by sink, event and result (Delivered, Failed).",
}, []string{"sink", "event", "result"})

// Notice counts one attempt to deliver a notice of event to sink: delivered or not. The first
// attempt of a sink and event creates the series of both results, the other at 0, so that
// increase() sees the first delivery after failures (and the first failure after deliveries): the
// alert LicenseNotificationSinkFailing resolves on it.
func Notice(sink string, event v1alpha1.NoticeEvent, delivered bool) {
	result, other := "Delivered", "Failed"
	if !delivered {
		result, other = other, result
	}
	notices.WithLabelValues(sink, string(event), other)
	notices.WithLabelValues(sink, string(event), result).Inc()
}

// Register registers the operator's metrics on controller-runtime's registry, which the manager's
// metrics endpoint serves. reader is the manager's cached client (mgr.GetClient()) and elected its
// Elected() channel: the plan and order series are computed from the cache at each scrape, by the
// leader only. Call it once per process; a second collector is refused as already registered.
func Register(reader client.Reader, elected <-chan struct{}) error {
	return register(ctrlmetrics.Registry, reader, elected)
}

func register(reg prometheus.Registerer, reader client.Reader, elected <-chan struct{}) error {
	for _, c := range []prometheus.Collector{ordersClosed, notices} {
		if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return err
		}
	}
	return reg.Register(NewCollector(reader, elected))
}

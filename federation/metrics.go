package federation

import "github.com/prometheus/client_golang/prometheus"

// Metrics count federation traffic.
type Metrics struct {
	Queued    prometheus.Counter
	Delivered prometheus.Counter
	Failed    prometheus.Counter
	Retried   prometheus.Counter
	Received  *prometheus.CounterVec
	Refused   *prometheus.CounterVec
}

// NewMetrics returns unregistered federation metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Queued:    prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_delivery_queued_total", Help: "Deliveries queued (one per destination inbox)."}),
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_delivery_delivered_total", Help: "Deliveries accepted by their inbox."}),
		Failed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_delivery_failed_total", Help: "Deliveries given up."}),
		Retried:   prometheus.NewCounter(prometheus.CounterOpts{Name: "maillage_delivery_retried_total", Help: "Delivery attempts that will be retried."}),
		Received:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "maillage_inbox_received_total", Help: "Activities applied from the inbox, by type."}, []string{"type"}),
		Refused:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "maillage_inbox_refused_total", Help: "Inbox requests refused, by reason."}, []string{"reason"}),
	}
}

// Register adds the metrics to reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Queued, m.Delivered, m.Failed, m.Retried, m.Received, m.Refused} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

package up

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/lattice/wadm"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// startWadm runs wadm in this process when this process started NATS, or when no wadm answers
// the lattice's API on an existing NATS (upstream's rule). The in-process wadm serves every
// lattice it hears host events from, not only this one. The returned stop is never nil.
func startWadm(ctx context.Context, nc *nats.Conn, lattice string, startedNATS bool, logger *slog.Logger, tp trace.TracerProvider) (func(), error) {
	if !startedNATS {
		_, err := nc.Request(model.APISubject(model.DefaultAPIPrefix, lattice, model.OpList, ""), nil, 2*time.Second)
		if err == nil {
			logger.Info("a wadm already serves this lattice; not starting one", "lattice", lattice)
			return func() {}, nil
		}
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
			return func() {}, err
		}
	}
	cfg := wadm.Config{Lattices: []string{lattice}, Logger: logger, TracerProvider: tp}
	// WASH_WADM_HOST_EXPIRY shortens how long a silent host is kept (tests, fast demos).
	if v := os.Getenv("WASH_WADM_HOST_EXPIRY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return func() {}, fmt.Errorf("invalid WASH_WADM_HOST_EXPIRY=%q: expected a duration such as 90s", v)
		}
		cfg.HostExpiry = d
	}
	w, err := wadm.Run(ctx, nc, cfg)
	if err != nil {
		return func() {}, err
	}
	logger.Info("wadm started", "lattice", lattice)
	return w.Stop, nil
}

package up

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/commands/home"
	secretscmd "github.com/wasmlattice/wash/commands/secrets"
	"github.com/wasmlattice/wash/lattice/secrets"
)

// startSecrets runs the NATS-KV backend when asked (unless one already answers on the topic:
// two instances with different keys could not read each other's secrets) and returns what to
// tell the user about secrets. The returned stop is never nil.
func (o *Options) startSecrets(ctx context.Context, d home.Dir, nc *nats.Conn, logger *slog.Logger) (string, func(), error) {
	if !o.SecretsNatsKV {
		if o.SecretsTopic == "" {
			return "", func() {}, nil
		}
		return "backends on " + o.SecretsTopic, func() {}, nil
	}
	if o.SecretsTopic == "" {
		o.SecretsTopic = secrets.DefaultTopic
	}
	note := "nats-kv backend on " + secrets.Subject(o.SecretsTopic, secrets.NatsKVName, "*")
	if _, err := nc.Request(secrets.Subject(o.SecretsTopic, secrets.NatsKVName, "server_xkey"), nil, time.Second); err == nil {
		logger.Info("a nats-kv secrets backend already serves this NATS; not starting one", "topic", o.SecretsTopic)
		return note + " (existing)", func() {}, nil
	}
	k, err := secretscmd.EnsureKeys(d)
	if err != nil {
		return "", func() {}, err
	}
	srv, err := secrets.StartNatsKV(ctx, nc, secrets.NatsKVConfig{TransitSeed: k.TransitSeed, EncryptionSeed: k.EncryptionSeed, Topic: o.SecretsTopic, Logger: logger})
	if err != nil {
		return "", func() {}, err
	}
	return note, srv.Stop, nil
}

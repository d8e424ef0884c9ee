package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// consume prints every message published on <prefix>.> until ctx ends,
// one line each: subject, Ami-Seq header, body. It reads through a core
// NATS subscription, in cfg.queue's queue group if set (each message then
// goes to one member of the group), or through the JetStream durable
// consumer cfg.durable (created if needed), which resumes where it
// stopped.
func consume(ctx context.Context, nc *nats.Conn, cfg config, out io.Writer, logger *slog.Logger) error {
	var mu sync.Mutex // the durable consumer's callbacks may overlap a core one's; one writer at a time
	show := func(subject string, h nats.Header, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "%s seq=%s %s\n", subject, h.Get(HeaderSeq), data)
	}
	subject := cfg.prefix + ".>"
	if cfg.durable == "" {
		sub, err := nc.QueueSubscribe(subject, cfg.queue, func(m *nats.Msg) { show(m.Subject, m.Header, m.Data) })
		if err != nil {
			return err
		}
		logger.Info("consuming with core NATS", "subject", subject, "queue", cfg.queue)
		<-ctx.Done()
		return sub.Unsubscribe()
	}

	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	stream, err := js.StreamNameBySubject(ctx, cfg.prefix+".gaps")
	if err != nil {
		return fmt.Errorf("find the stream of %s (is the bridge running with JetStream?): %w", subject, err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       cfg.durable,
		FilterSubject: subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		show(m.Subject(), m.Headers(), m.Data())
		if err := m.Ack(); err != nil {
			logger.Warn("ack failed", "err", err)
		}
	})
	if err != nil {
		return err
	}
	logger.Info("consuming with a JetStream durable consumer", "stream", stream, "durable", cfg.durable)
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	return nil
}

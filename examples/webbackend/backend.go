package main

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
)

// resyncTimeout bounds one CoreShowChannels; resyncRetryMin and
// resyncRetryMax bound the wait between two attempts when it fails.
const (
	resyncTimeout  = 10 * time.Second
	resyncRetryMin = 500 * time.Millisecond
	resyncRetryMax = 30 * time.Second
)

// A backend is the whole web backend: one Client and one Poller for
// every browser, the hub of live channels, and the HTTP handlers.
type backend struct {
	cfg     config
	client  *httpami.Client
	poller  *poller.Poller
	hub     *hub
	logger  *slog.Logger
	limiter *limiter
	page    *template.Template
	cop     *http.CrossOriginProtection

	cancel    context.CancelFunc
	done      chan struct{} // closed when consume returns
	closeOnce sync.Once
}

// newBackend starts the poller of c's Asterisk (event mask "call"),
// lists the channels once with CoreShowChannels, and keeps the list up
// to date from the events in the background until Close. ctx bounds
// the start only.
func newBackend(ctx context.Context, c *httpami.Client, cfg config, logger *slog.Logger) (*backend, error) {
	page, err := parsePage()
	if err != nil {
		return nil, err
	}
	b := &backend{
		cfg:     cfg,
		client:  c,
		hub:     newHub(cfg.Buffer, logger),
		logger:  logger,
		limiter: newLimiter(cfg.Burst, cfg.Refill),
		page:    page,
		cop:     http.NewCrossOriginProtection(),
		done:    make(chan struct{}),
	}
	b.poller, err = poller.New(c,
		poller.WithEventMask("call"),
		poller.WithFilter(func(m *rawman.Message) bool {
			ev := strings.ToLower(m.Event())
			return trackedEvents[ev] || ev == "originateresponse"
		}),
		poller.WithLogger(logger),
	)
	if err != nil {
		return nil, err
	}
	// The poller runs until Close: its context is not the caller's.
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	if err := b.poller.Start(runCtx); err != nil {
		cancel()
		return nil, err
	}
	// Events that arrive meanwhile wait in the poller's buffer and are
	// applied after the list: they can only make it newer.
	if err := b.resync(ctx, "start"); err != nil {
		cancel()
		b.poller.Close()
		return nil, err
	}
	go b.consume(runCtx)
	return b, nil
}

// Close stops the poller (logging its session off), ends every event
// stream, and waits for the backend's goroutine. The Client is the
// caller's to close. Close may be called more than once.
func (b *backend) Close() {
	b.closeOnce.Do(func() {
		b.cancel()
		b.poller.Close()
		b.hub.close()
		<-b.done
	})
}

// Done returns a channel closed when the backend stops following
// Asterisk's events: after Close, or when the poller stopped for good
// (see Err).
func (b *backend) Done() <-chan struct{} { return b.done }

// Err returns the error that stopped the poller, if one did (refused
// credentials, a permission missing); nil while it runs and after Close.
func (b *backend) Err() error {
	if err := b.poller.Err(); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// consume applies the poller's events to the hub. A gap notice means
// that events may be missing, so the channels are listed afresh, and
// listed again with a growing delay until that works.
func (b *backend) consume(ctx context.Context) {
	defer close(b.done)
	events := b.poller.Events()
	var retry *time.Timer
	var retryC <-chan time.Time
	wait := resyncRetryMin
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	resync := func() {
		err := b.resync(ctx, "gap")
		if err == nil {
			wait = resyncRetryMin
			retryC = nil
			return
		}
		if ctx.Err() != nil {
			return
		}
		b.logger.Warn("listing the channels failed: trying again", "in", wait, "err", err)
		if retry == nil {
			retry = time.NewTimer(wait)
		} else {
			retry.Reset(wait)
		}
		retryC = retry.C
		wait = min(2*wait, resyncRetryMax)
	}
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				if err := b.Err(); err != nil {
					b.logger.Error("the poller stopped", "err", err)
				}
				return
			}
			if ev.Gap != nil {
				b.logger.Warn("events may be missing: listing the channels again", "gap", ev.Gap)
				b.hub.send("gap", ev.Gap)
				resync()
				continue
			}
			b.hub.apply(ev.Message)
		case <-retryC:
			resync()
		case <-ctx.Done():
			return
		}
	}
}

// resync replaces the hub's channels with those CoreShowChannels lists,
// and sends every browser the new list with reason.
func (b *backend) resync(ctx context.Context, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, resyncTimeout)
	defer cancel()
	list, _, err := b.client.CoreShowChannels(ctx)
	if err != nil {
		return err
	}
	b.hub.reset(list, reason)
	b.logger.Debug("channels listed", "reason", reason, "channels", len(list))
	return nil
}

package poller

import "time"

// WithNow makes the poller read the time from now, such as the Now of
// the fake server's FakeClock, so that its sense of session age agrees
// with the server's.
func WithNow(now func() time.Time) Option {
	return func(o *options) error {
		o.now = now
		return nil
	}
}

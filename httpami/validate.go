package httpami

import (
	"context"
	"errors"

	"github.com/amihttp/amihttp/httpami/actions"
)

// versionCall is one CoreSettings exchange that every goroutine needing
// the server's version waits for.
type versionCall struct {
	done    chan struct{}
	version string
	err     error
}

// AsteriskVersion returns the server's Asterisk version, such as
// "23.4.1": Config.AsteriskVersion when set, else the AsteriskVersion of
// a CoreSettings action, sent once (concurrent callers share it). A
// refusal (a user without the system or reporting read class) is
// remembered, and the version stays unknown; a failure to reach Asterisk
// is not, and the next call asks again.
func (c *Client) AsteriskVersion(ctx context.Context) (string, error) {
	if c.cfg.AsteriskVersion != "" {
		return c.cfg.AsteriskVersion, nil
	}
	c.mu.Lock()
	if c.versionDone {
		v, err := c.version, c.versionErr
		c.mu.Unlock()
		return v, err
	}
	if call := c.versionCall; call != nil {
		c.mu.Unlock()
		select {
		case <-call.done:
			return call.version, call.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	call := &versionCall{done: make(chan struct{})}
	c.versionCall = call
	c.mu.Unlock()

	s, err := c.CoreSettings(ctx)
	if s != nil && s.AsteriskVersion != "" {
		// A setting that does not fit its Go type (a *ProtocolError)
		// leaves the version readable.
		call.version, err = s.AsteriskVersion, nil
	}
	call.err = err
	c.mu.Lock()
	c.versionCall = nil
	if err == nil || isActionError(err) {
		c.versionDone, c.version, c.versionErr = true, call.version, err
	}
	c.mu.Unlock()
	close(call.done)
	return call.version, err
}

// isActionError reports an answer of Asterisk, as opposed to a failure
// to get one.
func isActionError(err error) bool {
	_, ok := errors.AsType[*ActionError](err)
	return ok
}

// validate checks a against the catalog as Config.Validate says.
func (c *Client) validate(ctx context.Context, a *Action) error {
	if c.cfg.Validate == ValidateOff {
		return nil
	}
	spec, ok := actions.Lookup(a.Name)
	if !ok {
		return nil
	}
	version := c.cfg.AsteriskVersion
	if version == "" && spec.VersionDependent(a.Params) {
		v, err := c.AsteriskVersion(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			c.log.Debug("httpami: Asterisk version unknown, validating for any version", "action", a.Name, "err", err)
		}
		version = v
	}
	err := spec.Validate(a.Params, version)
	if err == nil {
		return nil
	}
	if c.cfg.Validate == ValidateWarn {
		c.log.Warn("httpami: sending an action that fails the catalog's check", "action", a.Name, "err", err)
		return nil
	}
	ie := &InvalidActionError{Action: a.Name, Reason: err.Error(), Err: err}
	if ve, ok := errors.AsType[*actions.ValidationError](err); ok {
		ie.Key, ie.Reason = ve.Param, reason(ve)
	}
	return ie
}

// reason is the Reason of an InvalidActionError for ve, which names the
// action and parameter already.
func reason(ve *actions.ValidationError) string {
	s := ve.Err.Error()
	switch {
	case ve.Err == actions.ErrUnavailable && ve.Version == "":
		s = "not an action of any Asterisk version"
	case ve.Err == actions.ErrUnavailable:
		s = "not an action of Asterisk " + ve.Version
	case ve.Err == actions.ErrUnknownParam && ve.Version != "":
		s += " in Asterisk " + ve.Version
	}
	if ve.Detail != "" {
		s += " (" + ve.Detail + ")"
	}
	return s
}

// Send sends a, a value of one of the types of package actions, with Do:
//
//	resp, err := c.Send(ctx, &actions.Originate{Channel: "PJSIP/100", Application: "Playback", Data: "hello-world"})
//
// Its non-zero fields become the parameters, in field order, followed by
// its Extra ones.
func (c *Client) Send(ctx context.Context, a actions.Action) (*Response, error) {
	params, err := actions.Params(a)
	if err != nil {
		return nil, &InvalidActionError{Action: a.ActionName(), Reason: err.Error(), Err: err}
	}
	return c.Do(ctx, Action{Name: a.ActionName(), Params: params})
}

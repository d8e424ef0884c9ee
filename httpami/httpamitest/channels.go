package httpamitest

// channels simulates the calls Originate starts (stub: replaced by the
// full simulation).
type channels struct{ m *manager }

func newChannels(m *manager) *channels { return &channels{m: m} }

func (c *channels) shutdown()                                {}
func (c *channels) reset()                                   {}
func (c *channels) counts() (current, processed int)         { return 0, 0 }
func (c *channels) getvar(ch, name string) (string, bool)    { return "", false }
func (c *channels) setvar(ch, name, value string) bool       { return false }
func (c *channels) cliShowChannels() []string                { return nil }
func (c *channels) actOriginate(a *actx) int                 { a.fail("Channel not specified"); return 0 }
func (c *channels) actHangup(a *actx) int                    { a.fail("No channel specified"); return 0 }
func (c *channels) actRedirect(a *actx) int                  { a.fail("Channel not specified"); return 0 }
func (c *channels) actStatus(a *actx) int                    { a.fail("No such channel"); return 0 }
func (c *channels) actCoreShowChannels(a *actx) int          { return 0 }

// Package poller turns Asterisk's WaitEvent action into a Go channel of
// events, for programs that reach Asterisk's manager only over HTTP.
//
//	c, err := httpami.Dial(ctx, "http://hello:world@pbx:8088/")
//	…
//	p, err := poller.New(c)
//	…
//	if err := p.Start(ctx); err != nil { … }
//	defer p.Close()
//	for ev := range p.Events() {
//		if ev.Gap != nil {
//			// events may be missing: list channels again
//			continue
//		}
//		fmt.Println(ev.Name(), ev.Message.Get("Channel"))
//	}
//
// # The loop
//
// Over HTTP, Asterisk hands events only to a pending WaitEvent (spec
// §5). The poller keeps exactly one in flight on its session, since a
// second would kick the first out (§5.4), with a Timeout of 40 s, under
// the 50 s that Asterisk allows with its default httptimeout of 60 s
// (WithHTTPTimeout and WithWaitTimeout change both). Asterisk answers
// as soon as an event is queued, in a few milliseconds; an answer
// without events is normal (Asterisk wakes every WaitEvent for any
// event, even one the session does not receive); an empty body means
// that another WaitEvent took the session's place; "Permission denied"
// means that the session is gone, and the Client logs in again.
//
// While the consumer reads, the next WaitEvent is already on its way:
// events wait for the consumer in a buffer (WithBuffer), and a Policy
// says what happens when it is full: Block (the default) stops asking
// Asterisk, which keeps queueing events for the session as long as the
// session lives; DropOldest discards the oldest events and says so.
//
// # Its own session
//
// The poller logs in a session of its own, made from the Client's
// Config (cookie, MD5 or digest alike), because the event cursor, the
// event mask and the filters belong to a session: sharing the Client's
// would let a Logoff, a Close or another WaitEvent on the Client end or
// split the poller's stream. WithSharedSession shares it anyway. With
// digest auth, the nonce that Asterisk rotates every 62 s is renewed by
// the digest transport without a gap: the session survives rotation.
//
// # Gaps
//
// Events lost are never hidden. When the session was lost (it expired,
// Asterisk restarted, the consumer held the poller past the session's
// life or past Asterisk's age purge of 2.5 × httptimeout), a WaitEvent
// answer was lost on the way (the cursor had moved past its events),
// Asterisk could not be reached for longer than a WaitEvent cycle,
// another WaitEvent kicked the poller's, or the DropOldest policy
// discarded events, the channel carries one Event whose Gap says why,
// since when and for how long, before the events that follow. Several
// causes of one outage make one Gap. The consumer then rebuilds what it
// derives from events, for example with CoreShowChannels.
//
// Digest sessions are renewed by Asterisk without a word when they
// expire or Asterisk restarts (spec §3.5), so for them the poller
// reports a gap whenever the time between two requests may have let the
// session expire, and after any failure, any pause of a second or more
// and any Shutdown event it compares Asterisk's startup time (the
// CoreStatus action) with the one it saw first: a restart takes longer
// than that. If the user may not send CoreStatus, every such doubt is
// reported as a gap.
//
// While Asterisk cannot be reached, the poller tries again after an
// exponential backoff with jitter, from 100 ms up to 10 s
// (WithBackoff), reset by the first answer; the Client under it also
// sends a refused request again a few times.
//
// # Filtering
//
// WithEventMask (the Events action's classes, such as "call,user") and
// WithServerFilter (the Filter action) make Asterisk send fewer events;
// the poller applies them again on every new session. WithFilter is a
// predicate run on each event the poller receives.
//
// # Answers that come as events
//
// Await waits for the event that answers an action, such as the
// OriginateResponse of an Originate with Async set, matched by its
// ActionID, without a second poller.
//
// # Lifecycle
//
// Start logs in and polls in the background until its context ends or
// Close is called; Run does the same and waits. Close stops the poller
// promptly, a WaitEvent in flight included, waits for its goroutines
// and logs its own session off. Err tells what stopped it; Stats counts
// what it did.
package poller

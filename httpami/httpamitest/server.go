package httpamitest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A Server is a fake Asterisk HTTP manager listening on a system-chosen
// port on the loopback interface, for use in end-to-end tests.
type Server struct {
	// URL is the base URL of the server, "http://127.0.0.1:port" (or
	// https), without the http.conf prefix or an endpoint path.
	URL string
	// Listener is the listener the server accepts on.
	Listener net.Listener
	// TLS is the server's TLS configuration after StartTLS; it may be
	// set before StartTLS to use another certificate.
	TLS *tls.Config

	cfg  config
	cert *x509.Certificate

	wg        sync.WaitGroup
	closeOnce sync.Once
	closed    atomic.Bool

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	down     bool   // refusing connections
	addr     string // listen address, kept for reopening after Down
	counts   map[string]int
	runs     map[string]int // actions run, by lower-cased name
	faults   []*faultRule
	handlers map[string]HandlerFunc
	timers   []Timer // pending Up calls of RefuseConnections, stopped by Close

	ami *manager

	afterWrite func(remote string, at time.Time) // test hook: an answer was written

	accepted atomic.Int64 // connections accepted and timed
	received atomic.Int64 // requests whose request line was read
	busy     atomic.Int64 // requests being handled
	parked   atomic.Int64 // requests waiting on the clock
}

// NewServer starts and returns a new Server. The caller should call Close
// when finished, to shut it down.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a new Server whose Listener is open but not
// yet served, as httptest's is: change its TLS field if needed, or replace
// its Listener (closing the one it has) to serve on another address, such
// as Asterisk's own 127.0.0.1:8088, then call Start or StartTLS.
func NewUnstartedServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.users) == 0 {
		cfg.users = []User{{Name: "hello", Secret: "world", Read: "all", Write: "all"}}
	}
	if cfg.ids == nil {
		cfg.ids = randomUint32
	}
	if cfg.challenges == nil {
		cfg.challenges = randomUint32
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("httpamitest: failed to listen on a port: %v", err))
	}
	s := &Server{
		Listener: l,
		cfg:      cfg,
		conns:    make(map[net.Conn]struct{}),
		counts:   make(map[string]int),
		runs:     make(map[string]int),
		handlers: make(map[string]HandlerFunc),
		addr:     l.Addr().String(),
	}
	s.ami = newManager(s)
	return s
}

// Start starts a server from NewUnstartedServer.
func (s *Server) Start() {
	if s.URL != "" {
		panic("httpamitest: Server already started")
	}
	s.addr = s.Listener.Addr().String()
	s.URL = "http://" + s.addr
	s.goServe(s.Listener)
}

// StartTLS starts TLS on a server from NewUnstartedServer, with a
// self-signed certificate for 127.0.0.1 unless TLS was set.
func (s *Server) StartTLS() {
	if s.URL != "" {
		panic("httpamitest: Server already started")
	}
	if s.TLS == nil {
		cert, leaf, err := selfSigned()
		if err != nil {
			panic("httpamitest: " + err.Error())
		}
		s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		s.cert = leaf
	}
	s.addr = s.Listener.Addr().String()
	s.Listener = tls.NewListener(s.Listener, s.TLS)
	s.URL = "https://" + s.addr
	s.goServe(s.Listener)
}

// Certificate returns the certificate used by the server after StartTLS,
// or nil.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Client returns an HTTP client configured for the server: it trusts the
// server's TLS certificate and closes idle connections within Asterisk's
// 15 s keep-alive. It has no cookie jar. With a FakeClock, moving the
// clock 15 s or more closes idle connections as Asterisk does, and a
// POST written on one just closed fails as it would against Asterisk.
func (s *Server) Client() *http.Client {
	tr := &http.Transport{IdleConnTimeout: 10 * time.Second}
	if s.cert != nil {
		pool := x509.NewCertPool()
		pool.AddCert(s.cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr}
}

// Close shuts the server down: it stops accepting, closes every
// connection, ends every pending request and waits for the server's
// goroutines to finish. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		l := s.Listener
		for c := range s.conns {
			c.Close()
		}
		for _, t := range s.timers {
			t.Stop()
		}
		s.mu.Unlock()
		if l != nil {
			l.Close()
		}
		s.ami.shutdown()
		s.wg.Wait()
	})
}

// CloseClientConnections closes every open connection, as a crash of the
// network would, without changing any session.
func (s *Server) CloseClientConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Down closes the listener and every connection: until Up, connecting to
// the server's address is refused by the operating system.
func (s *Server) Down() {
	s.mu.Lock()
	if s.down || s.closed.Load() {
		s.mu.Unlock()
		return
	}
	s.down = true
	l := s.Listener
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	l.Close()
}

// Up reopens the listener closed by Down on the same address. It returns
// an error when the address could not be listened on again.
func (s *Server) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down || s.closed.Load() {
		return nil
	}
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	if s.TLS != nil && strings.HasPrefix(s.URL, "https:") {
		l = tls.NewListener(l, s.TLS)
	}
	s.down = false
	s.Listener = l
	s.wg.Add(1)
	go s.serve(l)
	return nil
}

// AwaitWaiting blocks until at least n requests wait on the server's
// clock (see Waiting), and returns ctx's error if ctx ends first. A test
// with a FakeClock calls it before Advance, so that the time it moves is
// seen by the request it means.
func (s *Server) AwaitWaiting(ctx context.Context, n int) error {
	for s.Waiting() < n {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(200 * time.Microsecond):
		}
	}
	return nil
}

// Waiting returns how many requests are waiting on the server's clock: a
// WaitEvent, a synchronous Originate, the delay of a failed Login or an
// injected stall. A test with a FakeClock waits for this count before
// calling Advance.
func (s *Server) Waiting() int { return int(s.parked.Load()) }

// Requests returns how many requests the server has read on path (as
// "/rawman", "/amxml" or any other path sent, without prefix or query
// string, lower-cased), whatever their answer. With an empty path it
// returns the total.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if path == "" {
		n := 0
		for _, v := range s.counts {
			n += v
		}
		return n
	}
	return s.counts[strings.ToLower(path)]
}

// Executed returns how many times the server ran action (compared
// case-insensitively): requests that passed Asterisk's login and
// permission checks and reached the action, including those whose answer
// a Fault then cut or garbled. A request refused before that (a lost
// session, a FaultStatus or FaultDrop) does not count. Tests use it to
// prove that an action with effects ran once.
func (s *Server) Executed(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[strings.ToLower(action)]
}

func (s *Server) countRun(action string) {
	s.mu.Lock()
	s.runs[strings.ToLower(action)]++
	s.mu.Unlock()
}

// Restart forgets every session, digest nonce, queued event and channel,
// as a restart of Asterisk does; the users and settings stay. Open
// connections are closed.
func (s *Server) Restart() {
	s.CloseClientConnections()
	s.ami.restart()
}

func (s *Server) goServe(l net.Listener) {
	s.ami.start()
	s.wg.Add(1)
	go s.serve(l)
}

func (s *Server) serve(l net.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		s.mu.Lock()
		if s.closed.Load() || s.down {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
		}
		go s.serveConn(c)
	}
}

func (s *Server) forget(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) count(path string) {
	s.mu.Lock()
	s.counts[strings.ToLower(path)]++
	s.mu.Unlock()
}

func randomUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint32(b[:]) & 0x7fffffff
}

func selfSigned() (tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}

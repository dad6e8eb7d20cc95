// Package mail sends Parley's e-mail (password resets, invitations) through an SMTP server.
// Sending happens in the Outbox's worker, so a request never waits on the mail server and a
// reset for an unknown address answers as fast as one for a known address.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// ErrBusy is returned when the outbox is full: too much mail is waiting already.
var ErrBusy = errors.New("mail: too many messages waiting to be sent")

// Config is the SMTP server (the config package's smtp keys).
type Config struct {
	Host, Username, Password, From string
	Port                           int
	Security                       string // starttls | tls | none
}

// Message is one plain-text e-mail.
type Message struct{ To, Subject, Body string }

// Sender speaks SMTP to one server.
type Sender struct {
	cfg     Config
	now     func() time.Time
	timeout time.Duration
}

// NewSender builds a sender; the configuration was validated by the config package.
func NewSender(cfg Config, now func() time.Time) *Sender {
	if now == nil {
		now = time.Now
	}
	return &Sender{cfg: cfg, now: now, timeout: 30 * time.Second}
}

// Send delivers m: connect, TLS as configured, authenticate when a username is set, send.
func (s *Sender) Send(ctx context.Context, m Message) error {
	data, err := s.render(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, fmt.Sprint(s.cfg.Port))
	var conn net.Conn
	if s.cfg.Security == "tls" {
		conn, err = (&tls.Dialer{Config: &tls.Config{ServerName: s.cfg.Host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", addr, err)
	}
	defer c.Close()
	if s.cfg.Security == "starttls" {
		if err := c.StartTLS(&tls.Config{ServerName: s.cfg.Host}); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS (set smtp.security to match the server): %w", addr, err)
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("smtp %s: authenticate as %s: %w", addr, s.cfg.Username, err)
		}
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	to, _ := mail.ParseAddress(m.To)
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", addr, err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO %s: %w", addr, to.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", addr, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("smtp %s: write message: %w", addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: message refused: %w", addr, err)
	}
	return c.Quit()
}

// render builds the message with its headers; a header value with a line break would
// let a name or address add headers of its own, so it is refused.
func (s *Sender) render(m Message) ([]byte, error) {
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return nil, errors.New("mail: line break in a header")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: recipient %q: %w", m.To, err)
	}
	from, err := mail.ParseAddress(s.cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp.from %q: %w", s.cfg.From, err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.parley@%s>\r\n",
		from.String(), to.String(), mime.QEncoding.Encode("utf-8", m.Subject), s.now().Format(time.RFC1123Z), s.now().UnixNano(), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n"))
	return []byte(b.String()), nil
}

// Outbox queues messages for one worker that sends them.
type Outbox struct {
	send func(context.Context, Message) error
	ch   chan Message
	log  *slog.Logger
}

// NewOutbox queues up to 100 messages for send.
func NewOutbox(send func(context.Context, Message) error, log *slog.Logger) *Outbox {
	return &Outbox{send: send, ch: make(chan Message, 100), log: log.With("component", "mail")}
}

// Send queues a message (it satisfies auth.Mailer); ErrBusy when the queue is full.
func (o *Outbox) Send(to, subject, body string) error {
	select {
	case o.ch <- Message{To: to, Subject: subject, Body: body}:
		return nil
	default:
		return ErrBusy
	}
}

// Run sends queued messages until ctx ends. A failed message is logged with its cause and
// dropped: the person asks again, and the log says why the mail did not arrive.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-o.ch:
			if err := o.send(ctx, m); err != nil {
				o.log.Error("mail not sent", "to", m.To, "subject", m.Subject, "err", err)
			} else {
				o.log.Info("mail sent", "to", m.To, "subject", m.Subject)
			}
		}
	}
}

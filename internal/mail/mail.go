// Package mail sends Parley's e-mail (password resets, invitations) through an SMTP server.
// Sending happens in the Outbox's worker, so a request never waits on the mail server and a
// reset for an unknown address answers as fast as one for a known address.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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

// Message is one plain-text e-mail, with attachments if any.
type Message struct {
	To, Subject, Body string
	Attachments       []Attachment
	attempts          int // failed sends so far (the outbox retries)
}

// Attachment is a file sent with a message; ContentType may carry parameters (an
// invitation's text/calendar says its iTIP method).
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

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
	b.WriteString("MIME-Version: 1.0\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if len(m.Attachments) == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
		b.WriteString(body)
		return []byte(b.String()), nil
	}
	if err := writeMultipart(&b, body, m.Attachments); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

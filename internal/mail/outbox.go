package mail

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"
)

// maxAttempts is how often the outbox tries a message before it logs it as lost; the
// waits between tries double from retryBase (a mail server restarting, a greylisting).
const (
	maxAttempts = 5
	retryBase   = 2 * time.Second
)

// Outbox queues messages for one worker that sends them.
type Outbox struct {
	send      func(context.Context, Message) error
	ch        chan Message
	log       *slog.Logger
	retryBase time.Duration
}

// NewOutbox queues up to 100 messages for send.
func NewOutbox(send func(context.Context, Message) error, log *slog.Logger) *Outbox {
	return &Outbox{send: send, ch: make(chan Message, 100), log: log.With("component", "mail"), retryBase: retryBase}
}

// Send queues a plain message (it satisfies auth.Mailer); ErrBusy when the queue is full.
func (o *Outbox) Send(to, subject, body string) error {
	return o.Queue(Message{To: to, Subject: subject, Body: body})
}

// Queue queues a message; ErrBusy when the queue is full. It never waits.
func (o *Outbox) Queue(m Message) error {
	select {
	case o.ch <- m:
		return nil
	default:
		return ErrBusy
	}
}

// Run sends queued messages until ctx ends. A failed message is tried again later (up to
// maxAttempts, without holding up the others), then logged with its cause and dropped:
// the log says why the mail did not arrive.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-o.ch:
			err := o.send(ctx, m)
			switch {
			case err == nil:
				o.log.Info("mail sent", "to", m.To, "subject", m.Subject)
			case m.attempts+1 < maxAttempts && ctx.Err() == nil:
				m.attempts++
				wait := o.retryBase << (m.attempts - 1)
				o.log.Warn("mail not sent, will retry", "to", m.To, "subject", m.Subject, "in", wait, "err", err)
				time.AfterFunc(wait, func() {
					if o.Queue(m) != nil {
						o.log.Error("mail not sent: the queue is full", "to", m.To, "subject", m.Subject)
					}
				})
			default:
				o.log.Error("mail not sent", "to", m.To, "subject", m.Subject, "attempts", m.attempts+1, "err", err)
			}
		}
	}
}

// writeMultipart writes a multipart/mixed body: the text, then each attachment in base64.
func writeMultipart(b *strings.Builder, body string, atts []Attachment) error {
	w := multipart.NewWriter(b)
	fmt.Fprintf(b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", w.Boundary())
	part, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
	if err != nil {
		return err
	}
	if _, err := part.Write([]byte(body)); err != nil {
		return err
	}
	for _, a := range atts {
		if strings.ContainsAny(a.Name+a.ContentType, "\r\n\"") {
			return fmt.Errorf("mail: attachment %q: line break or quote in its name or type", a.Name)
		}
		part, err := w.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType + `; name="` + a.Name + `"`},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			if _, err := part.Write([]byte(enc[:76] + "\r\n")); err != nil {
				return err
			}
			enc = enc[76:]
		}
		if _, err := part.Write([]byte(enc + "\r\n")); err != nil {
			return err
		}
	}
	return w.Close()
}

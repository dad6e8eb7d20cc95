package testenv

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Mailpit is a real SMTP server whose HTTP API lists what it received (tools/mailpit).
type Mailpit struct {
	SMTPPort int
	API      string // http://127.0.0.1:port
}

// StartMailpit runs bin/mailpit on free ports and waits until it answers.
func StartMailpit(t testing.TB) *Mailpit {
	t.Helper()
	bin := filepath.Join(RepoRoot(), "bin", "mailpit")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make bin/mailpit` first (make test-go does it)", bin)
	}
	m := &Mailpit{SMTPPort: FreePort(t)}
	web := FreePort(t)
	m.API = fmt.Sprintf("http://127.0.0.1:%d", web)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--smtp", fmt.Sprintf("127.0.0.1:%d", m.SMTPPort), "--listen", fmt.Sprintf("127.0.0.1:%d", web),
		"--database", filepath.Join(dir, "mail.db"), "--disable-version-check")
	logFile, err := os.Create(filepath.Join(dir, "mailpit.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("mailpit exited: %v\n%s", err, b)
		default:
		}
		if res, err := http.Get(m.API + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not answer /readyz within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Mail is one received message.
type Mail struct {
	ID, Subject, Text string
	To                []string
}

// Messages lists what mailpit received for to (every recipient when ""), newest first.
func (m *Mailpit) Messages(t testing.TB, to string) []Mail {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			To      []struct{ Address string }
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages", &list)
	var out []Mail
	for _, msg := range list.Messages {
		mail := Mail{ID: msg.ID, Subject: msg.Subject}
		for _, a := range msg.To {
			mail.To = append(mail.To, a.Address)
		}
		if to != "" && !strings.EqualFold(strings.Join(mail.To, ","), to) {
			continue
		}
		var full struct{ Text string }
		m.get(t, "/api/v1/message/"+msg.ID, &full)
		mail.Text = full.Text
		out = append(out, mail)
	}
	return out
}

// WaitMessages waits until at least n messages for to have arrived, and returns them.
func (m *Mailpit) WaitMessages(t testing.TB, to string, n int) []Mail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := m.Messages(t, to)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d message(s) for %s after 30s, want %d", len(got), to, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *Mailpit) get(t testing.TB, path string, out any) {
	t.Helper()
	res, err := http.Get(m.API + path)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

// Attachment is the content of the attachment named name of message id.
func (m *Mailpit) Attachment(t testing.TB, id, name string) (contentType string, data []byte) {
	t.Helper()
	var msg struct {
		Attachments []struct{ PartID, FileName, ContentType string }
	}
	m.get(t, "/api/v1/message/"+id, &msg)
	for _, a := range msg.Attachments {
		if a.FileName != name {
			continue
		}
		res, err := http.Get(m.API + "/api/v1/message/" + id + "/part/" + a.PartID)
		if err != nil {
			t.Fatalf("mailpit: attachment %s: %v", name, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("mailpit: attachment %s: %s %v", name, res.Status, err)
		}
		return a.ContentType, b
	}
	t.Fatalf("mailpit: message %s has no attachment %s (it has %+v)", id, name, msg.Attachments)
	return "", nil
}

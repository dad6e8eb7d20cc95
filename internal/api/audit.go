package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/audit"
	"github.com/parley/parley/internal/httpx"
)

// AuditService records audited actions and reads them back (*audit.Log).
type AuditService interface {
	audit.Recorder
	List(ctx context.Context, f audit.Filter) ([]audit.Entry, string, error)
	Each(ctx context.Context, f audit.Filter, fn func(audit.Entry) error) error
}

// auditEntryJSON is one audit entry as listed and exported (JSON lines).
type auditEntryJSON struct {
	ID    string `json:"id"`
	At    string `json:"at"`
	Actor struct {
		Type string `json:"type"`
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"actor"`
	Action   string          `json:"action"`
	Room     string          `json:"room,omitempty"`
	Target   string          `json:"target,omitempty"`
	Address  string          `json:"address"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

func toAuditJSON(e audit.Entry) auditEntryJSON {
	out := auditEntryJSON{ID: strconv.FormatInt(e.Seq, 10), At: e.At.Format(time.RFC3339Nano), Action: e.Action,
		Room: e.Room, Target: e.Target, Address: e.Address, PrevHash: e.PrevHash, Hash: e.Hash}
	out.Actor.Type, out.Actor.ID, out.Actor.Name = e.Actor.Type, e.Actor.ID, e.Actor.Name
	if e.Detail != "" && json.Valid([]byte(e.Detail)) {
		out.Detail = json.RawMessage(e.Detail)
	}
	return out
}

// auditFilter reads ?actor=&action=&room=&target=&from=&to= (RFC 3339 times).
func auditFilter(c *fiber.Ctx) (audit.Filter, error) {
	f := audit.Filter{ActorID: c.Query("actor"), Action: c.Query("action"), Room: c.Query("room"), Target: c.Query("target")}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(t.name); v != "" {
			at, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, httpx.FieldError(t.name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
			}
			*t.dst = at
		}
	}
	return f, nil
}

func (s *server) listAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	page, err := httpx.ParsePage(c, 50, 500)
	if err != nil {
		return err
	}
	f.Limit, f.Cursor = page.Limit, page.Cursor
	entries, next, err := s.d.Audit.List(c.UserContext(), f)
	if errors.Is(err, audit.ErrInvalidField) {
		return httpx.FieldError("cursor", "is not a cursor this list returned")
	}
	if err != nil {
		return err
	}
	out := httpx.List[auditEntryJSON]{Items: make([]auditEntryJSON, len(entries)), NextCursor: next}
	for i, e := range entries {
		out.Items[i] = toAuditJSON(e)
	}
	return c.JSON(out)
}

// auditCSVHeader are the export's columns.
var auditCSVHeader = []string{"id", "at", "actorType", "actorId", "actorName", "action", "room", "target", "address", "detail", "prevHash", "hash"}

// exportAudit streams every matching entry, newest first, as CSV or JSON lines: an
// export of any size in bounded memory.
func (s *server) exportAudit(c *fiber.Ctx) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	format := c.Query("format", "jsonl")
	var write func(w *bufio.Writer, e audit.Entry) error
	switch format {
	case "jsonl":
		c.Set(fiber.HeaderContentType, "application/x-ndjson")
		write = func(w *bufio.Writer, e audit.Entry) error {
			b, err := json.Marshal(toAuditJSON(e))
			if err == nil {
				_, _ = w.Write(append(b, '\n'))
			}
			return err
		}
	case "csv":
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		write = func(w *bufio.Writer, e audit.Entry) error {
			cw := csv.NewWriter(w)
			_ = cw.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), e.Actor.Type, e.Actor.ID,
				csvSafe(e.Actor.Name), e.Action, csvSafe(e.Room), csvSafe(e.Target), e.Address, csvSafe(e.Detail), e.PrevHash, e.Hash})
			cw.Flush()
			return cw.Error()
		}
	default:
		return httpx.FieldError("format", "must be csv or jsonl, not %q", format)
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="parley-audit.`+format+`"`)
	ctx := context.WithoutCancel(c.UserContext())
	log := s.d.Log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if format == "csv" {
			cw := csv.NewWriter(w)
			_ = cw.Write(auditCSVHeader)
			cw.Flush()
		}
		err := s.d.Audit.Each(ctx, f, func(e audit.Entry) error {
			if err := write(w, e); err != nil {
				return err
			}
			return w.Flush() // the client gone ends the export
		})
		if err != nil {
			log.Warn("audit export ended early", "err", err)
		}
	})
	return nil
}

// csvSafe keeps a spreadsheet from running a field as a formula (names and reasons come
// from users).
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

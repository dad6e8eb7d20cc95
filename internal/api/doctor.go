package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/parley/parley/internal/doctor"
	"github.com/parley/parley/internal/httpx"
)

// DoctorService runs the deployment checks (`parley doctor`'s) and returns them in order.
type DoctorService func(ctx context.Context) []doctor.Result

// doctorTimeout bounds the whole run: the checks run at once, the slowest waits for a webhook.
const doctorTimeout = 30 * time.Second

// doctorItem is one row of the doctor's table.
type doctorItem struct {
	Check  string `json:"check"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// adminDoctor: GET /api/admin/doctor, every check with its status, finding and fix.
func (s *server) adminDoctor(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), doctorTimeout)
	defer cancel()
	results := s.d.Doctor(ctx)
	out := httpx.List[doctorItem]{Items: make([]doctorItem, len(results))}
	for i, r := range results {
		out.Items[i] = doctorItem{Check: r.Check, Status: string(r.Status), Detail: r.Detail, Fix: r.Fix}
	}
	return c.JSON(out)
}

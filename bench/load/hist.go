package load

import (
	"math"
	"time"
)

// Histogram records latencies in log-linear buckets of about 1 % relative width from 1 µs
// to ~100 s, like an HDR histogram: constant memory, mergeable, percentiles within 1 %.
type Histogram struct {
	counts [histBuckets]int64
	total  int64
	max    time.Duration
}

const (
	histBuckets = 1900
	histGrowth  = 1.01
)

var logGrowth = math.Log(histGrowth)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us <= 1 {
		return 0
	}
	i := int(math.Log(us)/logGrowth) + 1
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// upper is the largest latency bucket i holds.
func upper(i int) time.Duration {
	return time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.total++
	if d > h.max {
		h.max = d
	}
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	if o.max > h.max {
		h.max = o.max
	}
}

// Count is the number of recorded latencies.
func (h *Histogram) Count() int64 { return h.total }

// Max is the largest recorded latency, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the latency below which a fraction q (0..1) of the samples fall.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if u := upper(i); u < h.max {
				return u
			}
			return h.max
		}
	}
	return h.max
}

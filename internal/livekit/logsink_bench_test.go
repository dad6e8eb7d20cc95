package livekit

import (
	"io"
	"log/slog"
	"testing"
)

// Lines as LiveKit prints them under a meeting's load (logging.json), the two most common
// of a control-plane run.
var benchLines = []byte(`{"level":"info","ts":1796693657.3088,"caller":"sfu/forwarder.go:2255","msg":"starting with dummy forwarding","room":"bench-ctrl-0","roomID":"RM_P7kNCsWvvcHX","participant":"09e897ee-e059-4dc0-8a80-ca7169b6c25f","participantID":"PA_98bwqeY3H9Yd","remote":false,"trackID":"TR_VCCAtYwoKAdmxG","relayed":false,"subscriberID":"PA_98bwqeY3H9Yd:1796693657051165593","preStartTime":1796693657.3088107,"sequenceNumber":36204,"timestamp":2168455907}
{"level":"warn","ts":1796693668.051,"caller":"rtc/transport.go:949","msg":"error reading data channel","room":"bench-ctrl-0","roomID":"RM_P7kNCsWvvcHX","participant":"3b81687b-6a86-4590-b637-8556cec96032","participantID":"PA_yTKW2Livgt86","remote":false,"transport":"PUBLISHER","label":"_lossy","error":"[0x1a76c7c12308] abort chunk, with following errors: (User Initiated Abort: )"}
`)

// BenchmarkLogSink: relaying LiveKit's lines into Parley's log, as text at info.
func BenchmarkLogSink(b *testing.B) {
	s := &logSink{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = s.Write(benchLines)
	}
}

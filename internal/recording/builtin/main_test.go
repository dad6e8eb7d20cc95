package builtin

import (
	"os"
	"testing"

	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

func TestMain(m *testing.M) {
	// The SDK's global logger (used for pion's transports) prints every ICE state change.
	lksdk.SetLogger(protoLogger.GetDiscardLogger())
	os.Exit(m.Run())
}

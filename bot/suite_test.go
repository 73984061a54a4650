package bot_test

import (
	"testing"

	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestConversationSuite runs the conversation suite on the fake platform, in
// both of its shapes: a private channel per case that staff can read too, and
// a DM only the customer reads.
func TestConversationSuite(t *testing.T) {
	t.Run("PrivateChannels", func(t *testing.T) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return bottest.NewDriver(t) })
	})
	t.Run("DMs", func(t *testing.T) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return bottest.NewDriver(t, bottest.DMs()) })
	})
}

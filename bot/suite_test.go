package bot_test

import (
	"testing"

	"github.com/advocate-bot/advocate/bot/bottest"
)

// TestConversationSuite runs the conversation suite on the fake platform, in
// both of its shapes: a private channel per case that staff can read too, and
// a DM only the customer reads; and with modals of text inputs only, where
// yes-or-no choices are buttons.
func TestConversationSuite(t *testing.T) {
	t.Run("PrivateChannels", func(t *testing.T) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return bottest.NewDriver(t) })
	})
	t.Run("DMs", func(t *testing.T) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return bottest.NewDriver(t, bottest.DMs()) })
	})
	t.Run("TextModals", func(t *testing.T) {
		bottest.RunSuite(t, func(t *testing.T) bottest.Driver { return bottest.NewDriver(t, bottest.TextModals()) })
	})
}

// Package discord connects advocate's core to Discord through discordgo: it turns
// gateway events and interactions into bot.Events and delivers the core's actions
// as messages, private threads, edits and interaction responses. It decides
// nothing; the flow lives in package bot.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/advocate-bot/advocate/bot"
)

// Interaction transports (Options.Interactions).
const (
	// InteractionsGateway receives interactions over the gateway websocket: no
	// public URL needed.
	InteractionsGateway = "gateway"
	// InteractionsHTTP receives them at InteractionsHandler, signed by Discord
	// (the "Interactions Endpoint URL" of the Developer Portal).
	InteractionsHTTP = "http"
)

// DefaultAPIURL is Discord's own base URL; api_url replaces its scheme and host.
const DefaultAPIURL = "https://discord.com/"

// Intents are the gateway intents the adapter asks for: guilds (channel and
// thread state), guild and direct messages, and the privileged message content
// intent, without which guild messages arrive with empty text.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages |
	discordgo.IntentsDirectMessages | discordgo.IntentsMessageContent

// Options configure the adapter; they mirror config.Discord plus what the
// adapter needs from the rest of the configuration.
type Options struct {
	// Token is the bot token (with or without the "Bot " prefix).
	Token string
	// ApplicationID registers the commands; when empty the ID from READY is used.
	ApplicationID string
	// PublicKey is the application's Ed25519 public key in hex, which signs HTTP
	// interactions. Required when Interactions is "http".
	PublicKey string
	// APIURL replaces the scheme and host (and prefixes the path) of every REST
	// call, the GET /gateway lookup included: a REST proxy, or a test server.
	// Default DefaultAPIURL.
	APIURL string
	// Guilds get the slash and context-menu commands, registered at start.
	Guilds []string
	// SupportChannels are the public channels whose questions open cases. The
	// first one also hosts the private threads of cases opened from DMs.
	SupportChannels []string
	// StaffRole is mentioned in every new staff thread.
	StaffRole string
	// StaffChannel is a channel only staff can see: each case gets a thread
	// there, the staff side of the case (intro, notes, controls, the
	// customer's messages relayed); it is also bot.StaffChannel, for alerts.
	StaffChannel string
	// ShowcaseChannel is the channel ID behind bot.ShowcaseChannel.
	ShowcaseChannel string
	// PublicURL is where advocate's web server is reachable: link buttons point
	// at its tracking redirect so that a click on a share link is counted.
	PublicURL string
	// Interactions is InteractionsGateway (default) or InteractionsHTTP.
	Interactions string
	// ShardID and ShardCount shard the gateway connection when ShardCount
	// is above 1: this instance receives the events of the guilds whose
	// shard is ShardID (Discord routes by guild ID), as several instances
	// on one shared store share a bot. Each of the ShardCount instances
	// then takes its share of Discord's global REST limit.
	ShardID, ShardCount int
	// Logger receives the adapter's logs, with component=discord.
	Logger *slog.Logger
}

// Adapter is the Discord platform adapter. Create it with New, register it with
// the core, then Run it.
type Adapter struct {
	opts      Options
	log       *slog.Logger
	session   *discordgo.Session
	publicKey ed25519.PublicKey
	support   map[string]bool
	policy    gatewayPolicy

	// disconnected is signalled by every gateway disconnection.
	disconnected chan struct{}
	// connected is true between READY or RESUMED and the next disconnection.
	connected atomic.Bool
	// identifies counts READY events: IDENTIFYs Discord accepted.
	identifies atomic.Int64
	budget     *rate.Limiter

	mu         sync.Mutex
	handler    bot.Handler
	base       context.Context // Run's context, for event handlers
	botID      string
	appID      string
	pauseUntil time.Time
	// opening remembers how far a case's OpenPrivate got before it failed,
	// so that the relay's retry goes on from there.
	opening map[int64]*opening
	// messages and interactions hand gateway traffic to the core in order
	// per conversation (intake.go); apart, so that a flood of messages,
	// which nobody acknowledges, never keeps a click from its 3 s answer.
	messages, interactions *bot.Lanes
}

var (
	_ bot.Adapter = (*Adapter)(nil)
	_ bot.Checker = (*Adapter)(nil)
)

// Connected reports whether the gateway session is up.
func (a *Adapter) Connected() error {
	if !a.connected.Load() {
		return errors.New("discord: gateway not connected")
	}
	return nil
}

// New checks the options and prepares a discordgo session; nothing connects
// before Run.
func New(opts Options) (*Adapter, error) {
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("discord: no bot token (set DISCORD_TOKEN)")
	}
	switch opts.Interactions {
	case "":
		opts.Interactions = InteractionsGateway
	case InteractionsGateway, InteractionsHTTP:
	default:
		return nil, fmt.Errorf("discord: interactions %q: want %q or %q", opts.Interactions, InteractionsGateway, InteractionsHTTP)
	}
	if strings.TrimSpace(opts.StaffChannel) == "" {
		return nil, errors.New("discord: no staff channel: set discord.staff_channel to a channel only staff can see (each case's staff side lives there)")
	}
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	base, err := url.Parse(opts.APIURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("discord: api_url %q: want an http(s) URL", opts.APIURL)
	}
	var key ed25519.PublicKey
	if opts.PublicKey != "" {
		b, err := hex.DecodeString(strings.TrimSpace(opts.PublicKey))
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, errors.New("discord: public_key: want the application's 64-hex-digit public key")
		}
		key = b
	}
	if opts.Interactions == InteractionsHTTP && key == nil {
		return nil, errors.New("discord: interactions over http need public_key")
	}
	if opts.ShardCount > 1 && (opts.ShardID < 0 || opts.ShardID >= opts.ShardCount) {
		return nil, fmt.Errorf("discord: shard %d of %d: want 0 <= shard_id < shard_count", opts.ShardID, opts.ShardCount)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "discord")

	token := strings.TrimSpace(opts.Token)
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord: session: %w", err)
	}
	s.Client = &http.Client{Transport: newGlobalPace(newRewriteTransport(base, nil), opts.ShardCount), Timeout: 20 * time.Second}
	s.Identify.Intents = Intents
	if opts.ShardCount > 1 {
		s.Identify.Shard = &[2]int{opts.ShardID, opts.ShardCount}
	}
	// The adapter supervises reconnection itself (see gateway.go).
	s.ShouldReconnectOnError = false
	s.ShouldReconnectVoiceOnSessionError = false
	// Handlers run in order on the read loop; they only queue the work
	// (intake.go).
	s.SyncEvents = true
	s.State.TrackEmojis = false
	s.State.TrackStickers = false
	s.State.TrackMembers = false
	s.State.TrackThreadMembers = false
	s.State.TrackPresences = false
	s.State.TrackVoice = false
	s.State.TrackRoles = false
	s.State.MaxMessageCount = 0

	a := &Adapter{
		opts:         opts,
		log:          log,
		session:      s,
		publicKey:    key,
		support:      map[string]bool{},
		policy:       defaultPolicy(),
		disconnected: make(chan struct{}, 1),
		appID:        opts.ApplicationID,
		opening:      map[int64]*opening{},
		messages:     bot.NewLanes(intakeWorkers),
		interactions: bot.NewLanes(intakeWorkers),
	}
	a.budget = rate.NewLimiter(rate.Every(a.policy.identifyEvery), a.policy.identifyBurst)
	for _, id := range opts.SupportChannels {
		a.support[id] = true
	}
	if opts.PublicURL == "" {
		log.Warn("no public URL: share link clicks on Discord will not be counted")
	}
	return a, nil
}

// Platform names the platform: bot.Discord.
func (a *Adapter) Platform() string { return bot.Discord }

// Run connects to the gateway, registers the commands in every configured
// guild, and hands events to h until ctx is done. It returns an error only for
// what reconnecting cannot fix: a rejected token, disallowed intents.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	if h == nil {
		return errors.New("discord: run: no handler")
	}
	a.mu.Lock()
	if a.handler != nil {
		a.mu.Unlock()
		return errors.New("discord: run: already running")
	}
	a.handler, a.base = h, ctx
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.handler, a.base = nil, nil
		a.mu.Unlock()
	}()

	s := a.session
	removers := []func(){
		s.AddHandler(a.onReady),
		s.AddHandler(a.onResumed),
		s.AddHandler(a.onDisconnect),
		s.AddHandler(a.onMessageCreate),
		s.AddHandler(a.onInteractionCreate),
	}
	defer func() {
		for _, remove := range removers {
			remove()
		}
		a.messages.Wait()
		a.interactions.Wait()
	}()
	return a.runGateway(ctx)
}

// current returns the handler and context of the running adapter, or nil.
func (a *Adapter) current() (bot.Handler, context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.handler, a.base
}

// botUserID is the bot's own user ID, known from READY.
func (a *Adapter) botUserID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.botID
}

// applicationID is the configured application ID, or the one from READY.
func (a *Adapter) applicationID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.appID
}

// isSupport reports whether a channel is a watched support channel.
func (a *Adapter) isSupport(channelID string) bool { return a.support[channelID] }

// person translates a Discord user (and guild member, when known).
func person(u *discordgo.User, m *discordgo.Member) bot.Person {
	if u == nil && m != nil {
		u = m.User
	}
	if u == nil {
		return bot.Person{Platform: bot.Discord}
	}
	p := bot.Person{Platform: bot.Discord, ID: u.ID, Name: u.GlobalName, Bot: u.Bot}
	if p.Name == "" {
		p.Name = u.Username
	}
	if m != nil && len(m.Roles) > 0 {
		p.Roles = slices.Clone(m.Roles)
	}
	return p
}

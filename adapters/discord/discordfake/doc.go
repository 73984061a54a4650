// Package discordfake is a loopback fake of Discord (REST API v9 and the JSON
// gateway) for end-to-end tests of code that uses the real discordgo client.
//
// A test starts a Server, gives a discordgo.Session the fake's HTTPClient
// (every REST call goes through it, including GET /gateway, which returns
// ws://127.0.0.1:PORT for the client to dial), opens the session and then
// plays the community: users post messages (PostAsUser, ReplyAsUser), click
// buttons (ClickButton, SelectMenu), submit modals (SubmitModal) and run
// commands (SlashCommand, MessageCommand), while the test reads back what the
// bot did (Messages, Channel, ThreadMembers, InteractionResponses, Commands)
// and disturbs it with the fault vocabulary slackfake shares (RateLimit,
// Fail, LoseResponse, Hold per route; DropConnections, RequestReconnect) and
// Discord's own InvalidSession.
//
//	f := discordfake.New(discordfake.Options{Logf: t.Logf})
//	t.Cleanup(f.Close) // registered first: runs after the session is closed
//	f.AddGuild("1", "Acme")
//	f.AddChannel("1", "10", "support")
//	f.AddMember("1", "100", "alice")
//	s, _ := discordgo.New("Bot " + f.Token())
//	s.Client = f.HTTPClient()
//
// # Faithful
//
// Gateway: HELLO with the configured heartbeat interval, IDENTIFY checked
// (token with or without "Bot ", intents valid and allowed: 4004, 4013, 4014,
// a second IDENTIFY 4005), READY (session_id, resume_gateway_url, user,
// application, unavailable guilds) then GUILD_CREATE per guild with the
// GUILDS intent; every heartbeat ACKed; RESUME replays the dispatches after
// the client's sequence, then RESUMED (unknown session: op 9); op 7, op 9 and
// abrupt drops on demand; dispatches made while a client is away are kept for
// its RESUME. MESSAGE_* events need GUILD_MESSAGES or DIRECT_MESSAGES; without
// MESSAGE_CONTENT the content, embeds and components of guild messages are
// blank unless the bot wrote or is mentioned in them (replies mention the
// replied-to author). The bot receives its own messages. Interactions need no
// intent and carry member (with user, roles, permissions) in guilds, user in
// DMs, the component's message, and resolved data. Sharding follows
// (guild_id >> 22) % shards.
//
// REST: Authorization "Bot <token>" (401 {"message":"401: Unauthorized",
// "code":0}); Discord's JSON errors (10003, 10004, 10007, 10008, 10013, 10015,
// 10062, 40060, 50001, 50005, 50006, 50007, 50008, 50024, 50027, 50035 with a
// nested errors object, 160004); message creation with components validated
// (rows, styles, custom_id 1-100 and unique, link buttons), 2000-character
// content, replies checked, nonce with enforce_nonce returning the existing
// message within NonceWindow (discordgo's MessageSend has no nonce field: send
// a struct of your own with RequestWithBucketID); threads (type defaults to
// 12 in v9, invitable kept, ID of a thread started from a message = that
// message's ID, bot is owner and member); thread members must be guild
// members; DMs opened once per user, refused with 50007 after BlockDMs; one
// initial interaction response within InteractionDeadline (types 1, 4, 5, 6,
// 7, 8, 9 with their preconditions; modals validated); follow-ups and
// @original edits for InteractionTokenTTL, only after the initial response,
// the first follow-up after a deferral replacing the "thinking" message;
// command registration validated (names, descriptions, option order,
// duplicates) with stable IDs across overwrites. HTTP interactions
// (DeliverInteractionsOverHTTP): Ed25519-signed POSTs whose response body is
// the initial response, never sent again. Every outward effect is recorded
// (Effects).
//
// Rate limits: X-RateLimit-Limit, -Remaining, -Reset, -Reset-After and
// -Bucket on every authenticated routed response, per route and major
// parameter (channel, guild, interaction, webhook); 429 bodies
// {"message","retry_after","global"} with Retry-After and X-RateLimit-Scope;
// a global limit on bot requests (interaction callbacks and webhooks exempt)
// with X-RateLimit-Global; 401, 403 and 429 counted as invalid requests.
//
// Visibility and permissions: guild roles and channel overwrites
// (SetOverwrite, RestrictChannel; @everyone, then roles, then the member),
// threads taking their parent's; without View Channel nothing else counts. A
// user sees a private thread as its member or with Manage Threads. Users can
// post, click and run commands only where they can see (CanView), and
// VisibleTo lists what a person can read, their ephemeral messages included.
// The bot has Options.BotPermissions (default Administrator) and is refused
// as Discord refuses it: 50001 Missing Access where it cannot see, 50013
// Missing Permissions for posting (Send Messages, in threads Send Messages in
// Threads, replies Read Message History), starting threads, adding thread
// members and deleting others' messages (Manage Messages).
//
// # Not modelled
//
// Permissions not listed above (the bot may edit, pin, mention as it likes),
// the adding of members to a private thread by a mention, message attachments and multipart uploads (refused with 400),
// reactions, pins, presences, member chunking, voice, zlib/ETF encodings
// (frames are JSON text), the server-side heartbeat timeout (a silent client
// is not disconnected), identify concurrency and the daily identify limit,
// thread archiving, private-thread visibility of gateway events, Retry-After
// on 401s, and
// Components V2 validation (flag 1<<15 skips the checks). Rate-limit windows
// use the real clock; everything else uses Options.Now.
package discordfake

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/advocate-bot/advocate/bot"
	"github.com/advocate-bot/advocate/config"
)

// outboxFlags are the filters shared by the list and retry --all-dead.
type outboxFlags struct {
	platform string
	caseID   int64
}

func (o *outboxFlags) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.platform, "platform", "", "only actions for this platform (slack, discord, sandbox)")
	cmd.Flags().Int64Var(&o.caseID, "case", 0, "only actions of this case ID")
}

func (o *outboxFlags) filter() bot.DeadFilter {
	return bot.DeadFilter{Platform: o.platform, CaseID: o.caseID}
}

func outboxCommand(e *env) *cobra.Command {
	var of outboxFlags
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List outgoing messages the bot gave up delivering (dead letters); retry them",
		Long: `outbox lists the outgoing actions the relay gave up on: after 10 failed attempts, or at
once when nothing could deliver them. Each shows its case, platform, kind, attempts, the last
error and when it died, and whether it may be retried; never its message text. The first line
counts the actions still pending and those dead.

"advocate outbox retry" puts dead actions back in the queue; a running bot delivers them on its
next pass, within seconds. It is safe while the bot runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, f, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			var pending, dead int
			err = db.View(cmd.Context(), func(tx bot.Tx) (err error) {
				pending, dead, err = tx.OutboxStats(cmd.Context())
				return err
			})
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			core, err := outboxCore(db, f)
			if err != nil {
				return err
			}
			letters, total, err := core.DeadLetters(cmd.Context(), of.filter(), limit)
			if err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			if asJSON {
				out := outboxJSON{Pending: pending, Dead: dead, Matching: total, Actions: []deadJSON{}}
				for _, d := range letters {
					out.Actions = append(out.Actions, newDeadJSON(d))
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return writeOutbox(e.stdout, pending, dead, total, letters)
		},
	}
	of.flags(cmd)
	cmd.Flags().IntVar(&limit, "limit", 50, "list at most this many, newest first (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	cmd.AddCommand(outboxRetryCommand(e))
	return cmd
}

func outboxRetryCommand(e *env) *cobra.Command {
	var of outboxFlags
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "retry ID... | --all-dead",
		Short: "Put dead outgoing actions back in the queue for the bot to deliver",
		Long: `retry puts the dead actions named by ID (or, with --all-dead, every dead action, narrowed by
--platform and --case) back in the queue: pending, due now, attempts reset. A running bot's relay
delivers them on its next pass, in order within each case. The write waits for the bot's writes
like any other, so this is safe while the bot runs.

Some dead actions are never put back, because sending them now would break a promise to the
customer: anything for a customer erased with "advocate forget", a message whose text was
erased (forget or store.retention), a survey or reminder whose round is over, a share prompt to
a customer who opted out, was prompted again since, or whose offers are closed, and a
testimonial the customer withdrew. "advocate outbox" shows which, and why.

A dead action that timed out may have reached the platform anyway: on Slack the retry looks
for that post (by the nonce in its metadata) before posting; Discord checks a message nonce for
a few minutes only, so retrying a Discord action long after can post it twice. Naming an ID that is refused, unknown or not dead makes the command fail after the others
are retried; --all-dead reports refusals and succeeds.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseIDs(args)
			if err != nil {
				return err
			}
			switch {
			case all && len(ids) > 0:
				return errors.New("give action IDs or --all-dead, not both")
			case !all && len(ids) == 0:
				return errors.New("give the IDs of dead actions (see advocate outbox) or --all-dead")
			case !all && (of.platform != "" || of.caseID != 0):
				return errors.New("--platform and --case narrow --all-dead; with IDs, name only the actions to retry")
			}
			db, f, err := e.openStore(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			core, err := outboxCore(db, f)
			if err != nil {
				return err
			}
			var results []bot.DeadLetter
			if all {
				results, err = core.RetryAllDead(cmd.Context(), of.filter())
			} else {
				results, err = core.RetryDead(cmd.Context(), ids...)
			}
			if err != nil {
				return fmt.Errorf("outbox retry: %w", err)
			}
			retried, refused := splitRetried(results)
			if asJSON {
				out := retryJSON{Retried: []int64{}, Refused: []deadJSON{}}
				for _, d := range retried {
					out.Retried = append(out.Retried, d.ID)
				}
				for _, d := range refused {
					out.Refused = append(out.Refused, newDeadJSON(d))
				}
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else if err := writeRetried(e.stdout, retried, refused); err != nil {
				return err
			}
			warnDisabled(e.stderr, f, retried)
			if !all && len(refused) > 0 {
				return fmt.Errorf("%d of %d action(s) not retried", len(refused), len(results))
			}
			return nil
		},
	}
	of.flags(cmd)
	cmd.Flags().BoolVar(&all, "all-dead", false, "retry every dead action that may be retried")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// outboxCore is the core that decides which dead actions may go out again,
// by the rules a running bot applies. It runs no adapter: the running bot's
// relay delivers what it puts back.
func outboxCore(db bot.Store, f *config.File) (*bot.Core, error) {
	core, err := bot.New(bot.Options{Store: db, Config: f.Config})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return core, nil
}

// parseIDs reads action IDs.
func parseIDs(args []string) ([]int64, error) {
	var ids []int64
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%q is not an action ID", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func splitRetried(results []bot.DeadLetter) (retried, refused []bot.DeadLetter) {
	for _, d := range results {
		if d.Refusal == "" {
			retried = append(retried, d)
		} else {
			refused = append(refused, d)
		}
	}
	return retried, refused
}

// warnDisabled warns about retried actions for a platform this configuration
// does not run: the bot would give them up again at once.
func warnDisabled(w io.Writer, f *config.File, retried []bot.DeadLetter) {
	enabled := map[string]bool{bot.Sandbox: f.Sandbox.Enabled, bot.Slack: f.Slack.Enabled, bot.Discord: f.Discord.Enabled}
	off := map[string]int{}
	for _, d := range retried {
		if !enabled[d.Platform] {
			off[d.Platform]++
		}
	}
	for _, p := range slices.Sorted(maps.Keys(off)) {
		fmt.Fprintf(w, "warning: %d retried action(s) are for %s, which this configuration does not enable; a bot run with it gives them up again\n", off[p], p)
	}
}

// outboxJSON is the list's --json output.
type outboxJSON struct {
	Pending  int        `json:"pending"`
	Dead     int        `json:"dead"`
	Matching int        `json:"matching"` // dead actions the filters select; Actions may be fewer (--limit)
	Actions  []deadJSON `json:"actions"`
}

// retryJSON is retry's --json output.
type retryJSON struct {
	Retried []int64    `json:"retried"`
	Refused []deadJSON `json:"refused"`
}

// deadJSON is one dead action: what it was and why it failed, never its text.
type deadJSON struct {
	ID        int64  `json:"id"`
	CaseID    int64  `json:"case_id,omitempty"`
	Platform  string `json:"platform,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Key       string `json:"key,omitempty"`
	Place     string `json:"place,omitempty"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"last_error"`
	CreatedAt string `json:"created_at,omitempty"`
	DiedAt    string `json:"died_at,omitempty"`
	Retryable bool   `json:"retryable"`
	Refusal   string `json:"refusal,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

func newDeadJSON(d bot.DeadLetter) deadJSON {
	return deadJSON{ID: d.ID, CaseID: d.CaseID, Platform: d.Platform, Kind: d.Kind, Key: d.Key, Place: d.Place,
		Attempts: d.Attempts, LastError: d.LastErr, CreatedAt: stamp(d.CreatedAt), DiedAt: stamp(d.DiedAt),
		Retryable: d.Refusal == "", Refusal: string(d.Refusal), Reason: d.Refusal.Reason()}
}

func writeOutbox(w io.Writer, pending, dead, matching int, letters []bot.DeadLetter) error {
	fmt.Fprintf(w, "outbox: %d pending, %d dead\n", pending, dead)
	if len(letters) == 0 {
		if dead > 0 {
			fmt.Fprintln(w, "no dead actions match the filters")
		}
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCASE\tPLATFORM\tKIND\tKEY\tATTEMPTS\tDIED\tRETRY\tLAST ERROR")
	var refusals []bot.Refusal
	retryable := false
	for _, d := range letters {
		retryable = retryable || d.Refusal == ""
		retry := "yes"
		if d.Refusal != "" {
			retry = "no: " + string(d.Refusal)
			if !slices.Contains(refusals, d.Refusal) {
				refusals = append(refusals, d.Refusal)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, orDash(caseLabel(d.CaseID)), d.Platform,
			d.Kind, orDash(d.Key), d.Attempts, stamp(d.DiedAt), retry, orDash(oneLine(d.LastErr)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(letters) < matching {
		fmt.Fprintf(w, "\nshowing the newest %d of %d; --limit 0 lists all\n", len(letters), matching)
	}
	if len(refusals) > 0 {
		fmt.Fprintln(w, "\nnot retried:")
		for _, r := range refusals {
			fmt.Fprintf(w, "  %s: %s\n", r, r.Reason())
		}
	}
	if retryable {
		fmt.Fprintln(w, "\nretry: advocate outbox retry ID... (or --all-dead)")
	}
	return nil
}

// maxListed bounds the IDs retry prints on its summary line; --json has all.
const maxListed = 20

func writeRetried(w io.Writer, retried, refused []bot.DeadLetter) error {
	for _, d := range refused {
		fmt.Fprintf(w, "not retried %d: %s\n", d.ID, d.Refusal.Reason())
	}
	if len(retried) == 0 {
		_, err := fmt.Fprintln(w, "retried nothing")
		return err
	}
	var ids []string
	for _, d := range retried[:min(len(retried), maxListed)] {
		ids = append(ids, strconv.FormatInt(d.ID, 10))
	}
	if len(retried) > maxListed {
		ids = append(ids, "…")
	}
	_, err := fmt.Fprintf(w, "retried %d action(s): %s; a running bot delivers them on its next pass\n",
		len(retried), strings.Join(ids, " "))
	return err
}

func caseLabel(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps an error on its table row: control characters (newlines,
// tabs) become spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

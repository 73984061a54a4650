package bot

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
)

// Texts holds every word the bot says, as text/template sources. A template sees
// TextData. An empty field in the YAML keeps the English default.
type Texts struct {
	TakenPrivate       string `yaml:"taken_private"`
	AlreadyOpen        string `yaml:"already_open"`
	PrivateIntro       string `yaml:"private_intro"`
	StaffIntro         string `yaml:"staff_intro"`
	SolvedButton       string `yaml:"solved_button"`
	ClaimButton        string `yaml:"claim_button"`
	ResolveButton      string `yaml:"resolve_button"`
	ReopenButton       string `yaml:"reopen_button"`
	Claimed            string `yaml:"claimed"`
	CustomerSays       string `yaml:"customer_says"`
	StaffSays          string `yaml:"staff_says"`
	NoteRecorded       string `yaml:"note_recorded"`
	ResolvedPublic     string `yaml:"resolved_public"`
	ResolvedPrivate    string `yaml:"resolved_private"`
	SurveyCSAT         string `yaml:"survey_csat"`
	SurveyCES          string `yaml:"survey_ces"`
	SurveyNPS          string `yaml:"survey_nps"`
	NotFixedButton     string `yaml:"not_fixed_button"`
	SurveyReminder     string `yaml:"survey_reminder"`
	SurveyDone         string `yaml:"survey_done"`
	SurveyExpired      string `yaml:"survey_expired"`
	CommentButton      string `yaml:"comment_button"`
	CommentTitle       string `yaml:"comment_title"`
	CommentLabel       string `yaml:"comment_label"`
	CommentThanks      string `yaml:"comment_thanks"`
	ThanksSatisfied    string `yaml:"thanks_satisfied"`
	ThanksNeutral      string `yaml:"thanks_neutral"`
	UnhappyReply       string `yaml:"unhappy_reply"`
	UnhappyStaff       string `yaml:"unhappy_staff"`
	Reopened           string `yaml:"reopened"`
	SharePrompt        string `yaml:"share_prompt"`
	ShareNoThanks      string `yaml:"share_no_thanks"`
	ShareNever         string `yaml:"share_never"`
	ShareDone          string `yaml:"share_done"`
	PreviewTitle       string `yaml:"preview_title"`
	PreviewLabel       string `yaml:"preview_label"`
	PreviewSubmit      string `yaml:"preview_submit"`
	Testimonial        string `yaml:"testimonial"`
	Shared             string `yaml:"shared"`
	WithdrawButton     string `yaml:"withdraw_button"`
	Withdrawn          string `yaml:"withdrawn"`
	Declined           string `yaml:"declined"`
	OptedOut           string `yaml:"opted_out"`
	SLANudge           string `yaml:"sla_nudge"`
	Notice             string `yaml:"notice"`
	OnlyCustomer       string `yaml:"only_customer"`
	OnlyStaff          string `yaml:"only_staff"`
	InvalidButton      string `yaml:"invalid_button"`
	AlreadyRated       string `yaml:"already_rated"`
	NoticeSent         string `yaml:"notice_sent"`
	NoCaseHere         string `yaml:"no_case_here"`
	Stats              string `yaml:"stats"`
	ShareNotNow        string `yaml:"share_not_now"`
	PromptExpired      string `yaml:"prompt_expired"`
	CaseClosedExpired  string `yaml:"case_closed_expired"`
	StaffRecovered     string `yaml:"staff_recovered"`
	CustomerReopenedBy string `yaml:"customer_reopened"`
	AskTitle           string `yaml:"ask_title"`
	AskLabel           string `yaml:"ask_label"`
	AlreadyResolved    string `yaml:"already_resolved"`
	Done               string `yaml:"done"`
	ClaimedByYou       string `yaml:"claimed_by_you"`
	ClaimedByOther     string `yaml:"claimed_by_other"`
	AskedAgain         string `yaml:"asked_again"`
	CaseOpen           string `yaml:"case_open"`
	CaseResolved       string `yaml:"case_resolved"`
	CaseClosed         string `yaml:"case_closed"`
	ResolvedStaff      string `yaml:"resolved_staff"`
	ReopenedPublic     string `yaml:"reopened_public"`
	NotResolved        string `yaml:"not_resolved"`
	ReviewPrompt       string `yaml:"review_prompt"`
	LinkCode           string `yaml:"link_code"`
	LinkDone           string `yaml:"link_done"`
	LinkAlready        string `yaml:"link_already"`
	LinkBadCode        string `yaml:"link_bad_code"`
	LinkOwnCode        string `yaml:"link_own_code"`
	LinkTooMany        string `yaml:"link_too_many"`
	WallCheck          string `yaml:"wall_check"`
	WallName           string `yaml:"wall_name"`
	WallOff            string `yaml:"wall_off"`
	WallOn             string `yaml:"wall_on"`
	SharedWall         string `yaml:"shared_wall"`
}

// TextData is what a text template can use.
type TextData struct {
	Brand    string
	Customer string // the customer's display name
	Staff    string // the staff member acting
	Case     int64
	Channel  string
	Question string // the customer's question (in flight; stored only if enabled)
	Text     string // the message, comment or testimonial at hand
	Score    int
	Max      int
	Wait     string
	Target   string
	Stages   string // for stats
}

// DefaultTexts are the English defaults.
func DefaultTexts() Texts {
	return Texts{
		TakenPrivate:       "Thanks {{.Customer}}! We've taken this to a private conversation with our support team, so your details stay private.",
		AlreadyOpen:        "{{.Customer}}, you already have an open case (#{{.Case}}). We'll answer you in your private conversation.",
		PrivateIntro:       "Hi {{.Customer}}, this is a private conversation with the {{.Brand}} support team about your question{{if .Question}}:\n> {{.Question}}\n{{else}}. {{end}}A staff member will reply here.",
		StaffIntro:         "Case #{{.Case}} from {{.Customer}} in {{.Channel}}:\n> {{.Question}}",
		SolvedButton:       "My problem is solved",
		ClaimButton:        "Claim",
		ResolveButton:      "Resolve",
		ReopenButton:       "Reopen",
		Claimed:            "{{.Staff}} is handling case #{{.Case}}.",
		CustomerSays:       "{{.Customer}}: {{.Text}}",
		StaffSays:          "{{.Staff}}: {{.Text}}",
		NoteRecorded:       "Internal note on case #{{.Case}} by {{.Staff}}: {{.Text}}",
		ResolvedPublic:     "✅ Resolved privately. Thanks for asking, {{.Customer}}!",
		ResolvedPrivate:    "This case has been marked as resolved.",
		SurveyCSAT:         "How satisfied are you with the help you got? (1 = very unsatisfied, 5 = very satisfied)",
		SurveyCES:          "How easy was it to get help? (1 = very hard, 7 = very easy)",
		SurveyNPS:          "How likely are you to recommend {{.Brand}} to a friend? (0 = not at all, 10 = extremely likely)",
		NotFixedButton:     "Not fixed yet",
		SurveyReminder:     "A quick reminder: how did we do? One click is enough.",
		SurveyDone:         "Your answer is recorded. Thank you!",
		SurveyExpired:      "This survey has closed.",
		CommentButton:      "Add a comment",
		CommentTitle:       "Your comment",
		CommentLabel:       "Anything you'd like to tell us?",
		CommentThanks:      "Thanks for your comment.",
		ThanksSatisfied:    "Thank you! We're glad we could help.",
		ThanksNeutral:      "Thank you for your feedback.",
		UnhappyReply:       "We're sorry we didn't get this right. We've reopened your case and a staff member will follow up here.",
		UnhappyStaff:       "⚠️ Case #{{.Case}}: {{.Customer}} was not satisfied with the help. Please follow up.",
		Reopened:           "Case #{{.Case}} has been reopened.",
		SharePrompt:        "Would you like to share your experience? Nothing is posted unless you choose to.",
		ShareNoThanks:      "No thanks",
		ShareNever:         "Don't ask me again",
		ShareDone:          "Thanks for your answer.",
		PreviewTitle:       "Preview your post",
		PreviewLabel:       "This exact text will be posted in the community",
		PreviewSubmit:      "Post",
		Testimonial:        "💬 “{{.Text}}” — {{.Customer}}",
		Shared:             "Your post is live in the community. Thank you! You can withdraw it at any time.",
		WithdrawButton:     "Withdraw my post",
		Withdrawn:          "Your post has been removed.",
		Declined:           "No problem. Thanks again!",
		OptedOut:           "Understood: we won't ask you to share again.",
		SLANudge:           "⏰ Case #{{.Case}} from {{.Customer}} has had no staff response for {{.Wait}}.",
		Notice:             "📣 A notice from {{.Brand}} support: {{.Text}}",
		OnlyCustomer:       "Only the customer of this case can use these buttons.",
		OnlyStaff:          "Only staff can do that.",
		InvalidButton:      "This button is not valid.",
		AlreadyRated:       "You've already answered this survey. Thank you!",
		NoticeSent:         "Notice sent to {{.Score}} customer(s) with an open case in {{.Channel}}.",
		NoCaseHere:         "There is no case in this conversation.",
		Stats:              "Advocacy funnel, {{.Text}}:\n{{.Stages}}",
		ShareNotNow:        "This offer is no longer available.",
		PromptExpired:      "This offer has expired.",
		CaseClosedExpired:  "Case #{{.Case}} was closed: the survey expired without an answer.",
		StaffRecovered:     "🎉 Case #{{.Case}}: {{.Customer}} is now satisfied.",
		CustomerReopenedBy: "{{.Customer}} says the problem is not fixed yet: case #{{.Case}} has been reopened.",
		AskTitle:           "Get help",
		AskLabel:           "What do you need help with?",
		AlreadyResolved:    "Case #{{.Case}} is already resolved.",
		Done:               "Done.",
		ClaimedByYou:       "You are already handling case #{{.Case}}.",
		ClaimedByOther:     "{{.Staff}} is already handling case #{{.Case}}.",
		AskedAgain:         "{{.Customer}} asked again in {{.Channel}}: {{.Text}}",
		CaseOpen:           "Case #{{.Case}} is open{{if .Staff}}: {{.Staff}} is handling it{{else}}, not claimed yet{{end}}.",
		CaseResolved:       "Case #{{.Case}} is resolved.",
		CaseClosed:         "Case #{{.Case}} is closed.",
		ResolvedStaff:      "Case #{{.Case}} was resolved by {{.Staff}}.",
		ReopenedPublic:     "🔄 Reopened — we're on it.",
		NotResolved:        "Case #{{.Case}} is not resolved.",
		ReviewPrompt:       "Whatever your experience, you are welcome to review {{.Brand}} publicly. Nothing is posted unless you choose to.",
		LinkCode:           "Your link code is {{.Text}} (only you can see it). Within {{.Wait}}, run /link {{.Text}} on your other account to make both accounts one person for {{.Brand}}: \"Don't ask me again\" and how often we ask you to share will then count for both. The code works once.",
		LinkDone:           "Linked: this account and the one that got the code are now one person for {{.Brand}}. \"Don't ask me again\" and how often we ask you to share now count for both.",
		LinkAlready:        "These accounts are already linked.",
		LinkBadCode:        "That link code is unknown or has expired. Run /link on your other account for a new one.",
		LinkOwnCode:        "That code is for your other account: run /link {{.Text}} there, not here.",
		LinkTooMany:        "Too many wrong link codes were tried. Please wait {{.Wait}}, then try again with the code from your other account.",
		WallCheck:          "Also show it on the {{.Brand}} website",
		WallName:           "Your name on the website (empty: a customer)",
		WallOff:            "Also show on our website: no",
		WallOn:             "Also show on our website: yes",
		SharedWall:         "Your post is live in the community and on our website. Thank you! You can withdraw it at any time.",
	}
}

// textSet is the parsed Texts.
type textSet map[string]*template.Template

// parseTexts parses every template, filling empty fields from the defaults, and
// names the YAML key of any that does not parse.
func parseTexts(t Texts) (textSet, error) {
	def := reflect.ValueOf(DefaultTexts())
	v := reflect.ValueOf(t)
	set := textSet{}
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		src := v.Field(i).String()
		if src == "" {
			src = def.Field(i).String()
		}
		key := f.Tag.Get("yaml")
		tpl, err := template.New(key).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("texts.%s: %w", key, err)
		}
		if err := tpl.Execute(&strings.Builder{}, TextData{}); err != nil {
			return nil, fmt.Errorf("texts.%s: %w", key, err)
		}
		set[f.Name] = tpl
	}
	return set, nil
}

// say renders the named text. Templates were checked at start, so an error here
// is a programming error; the raw source is returned rather than nothing.
func (s textSet) say(name string, d TextData) string {
	tpl, ok := s[name]
	if !ok {
		return name
	}
	var b strings.Builder
	if err := tpl.Execute(&b, d); err != nil {
		return tpl.Root.String()
	}
	return b.String()
}

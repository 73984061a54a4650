package bot

import "time"

// Funnel stages, in order. A case counts at a stage once it has the matching event.
var Stages = []string{
	"asked", "taken_private", "first_response", "resolved", "surveyed",
	"rated", "satisfied", "offered", "clicked", "shared",
}

// FunnelQuery selects cases by the time they were opened and says how to group.
type FunnelQuery struct {
	Since, Until time.Time // opened in [Since, Until); zero means unbounded
	Platform     string
	Channel      string
	// GroupBy is any of "platform", "channel", "staff", "week", "target".
	GroupBy []string
}

// FunnelRow is the stage counts of one group. Keys holds the group's values in
// GroupBy order. Counts is indexed like Stages.
type FunnelRow struct {
	Keys       []string
	Counts     []int
	Recoveries int // cases rated unhappy and later satisfied
}

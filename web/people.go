package web

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
)

// staffLabel is what a viewer sees in place of a staff member: viewers may
// not see individual staff members' results, and a case page shows who
// handled a case next to how it was rated.
const staffLabel = "staff"

// people names staff members for the account reading a page: admins see
// their display names (as the events staff caused recorded them, else their
// platform IDs), viewers see "staff".
type people struct {
	admin bool
	names map[string]string // staff ID → display name
}

// people looks up the display names of the staff IDs a page shows; viewers
// need none.
func (s *Server) people(ctx context.Context, a account, ids ...string) (people, error) {
	p := people{admin: a.Admin()}
	if !p.admin {
		return p, nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	names, err := s.store.StaffNames(ctx, ids)
	if err != nil {
		return p, fmt.Errorf("staff names: %w", err)
	}
	p.names = names
	return p, nil
}

// staff is how a staff member shows: a name, the ID if none is known, "staff"
// for a viewer; "" stays "".
func (p people) staff(id string) string {
	switch {
	case id == "":
		return ""
	case !p.admin:
		return staffLabel
	case p.names[id] != "":
		return p.names[id]
	}
	return id
}

// actor is how an event's actor shows on a case page: the customer by the
// name on the case, the bot as "", anyone else as staff.
func (p people) actor(id string, customer string, customerName string) string {
	switch id {
	case "":
		return ""
	case customer:
		if customerName != "" {
			return customerName
		}
		return id
	}
	return p.staff(id)
}

// staffDetailKeys are the keys of an event's detail that identify a staff
// member: removed for viewers.
var staffDetailKeys = []string{"assignee", "name"}

// redactDetail is an event's detail without what identifies staff, for a
// viewer; the customer's own events keep theirs (their name is on the case).
func (p people) redactDetail(raw json.RawMessage, staffActor bool) json.RawMessage {
	if p.admin || !staffActor || len(raw) == 0 {
		return raw
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil // not JSON: nothing is shown rather than something unchecked
	}
	for _, k := range staffDetailKeys {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

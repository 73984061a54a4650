package bot

import "strings"

// TrackPath is where advocate's web server counts a click on a share link and
// redirects to the target: TrackPath + the button's signed action ID.
const TrackPath = "/r/"

// TrackURL is the counted link for a link button, for platforms whose link
// buttons report no click (Discord, the dashboard's own links).
func TrackURL(publicURL, actionID string) string {
	return strings.TrimSuffix(publicURL, "/") + TrackPath + actionID
}

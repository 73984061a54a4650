package bot

import "context"

// Reclaim runs one of reclaimLoop's looks for accepted events nobody is
// deciding; first is its look at start.
func (c *Core) Reclaim(ctx context.Context, first bool) (int, error) { return c.reclaim(ctx, first) }

package rewrite

import "reflect"

// PrescanPasses reports whether the planner's prescan passes query
// without planning it.
func (p *Planner) PrescanPasses(query string) bool { return p.pre.passes(query) }

// PlainRead returns what Prescan says of a plain read.
func (p *Planner) PlainRead(query string) (string, bool) {
	_, _, table := p.Prescan(query)
	return table, table != ""
}

// PlanFully plans query with the full planner: no prescan, no cache.
func (p *Planner) PlanFully(query string) *Plan { return p.planText(query) }

// IsPlainPass reports whether plan is the plain pass-through, the plan
// of a statement the wrapper runs as written in every phase.
func IsPlainPass(plan *Plan) bool { return reflect.DeepEqual(*plan, *passPlan) }

// CacheEntries returns how many plans the planner's cache holds, and the
// bytes they weigh.
func (p *Planner) CacheEntries() (n int, weight uint64) {
	p.cache.c.CleanUp()
	return p.cache.c.EstimatedSize(), p.cache.c.WeightedSize()
}

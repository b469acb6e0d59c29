package rewrite

import (
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/maypok86/otter/v2"
)

// DefaultPlanCacheBytes is the default bound of the memory a planner's plan
// cache holds: the keys, the plans' own texts, and a fixed overhead per entry.
const DefaultPlanCacheBytes = 16 << 20

// inlineKey is the longest statement text the cache keeps as its key. A
// longer text is kept as its length and SHA-256 digest only, so that a
// statement the wrapper passes as written costs the cache a fixed amount,
// however long its text.
const inlineKey = 4096

// entryOverhead approximates what an entry costs besides the texts it
// holds: the cache's node, the entry and the key.
const entryOverhead = 160

// planCache maps statement texts to plans, bounded both by its number
// of entries and by the bytes they hold. It is W-TinyLFU, from
// github.com/maypok86/otter: a new text enters a small window and stays
// only when it is used more often than the entry it would displace, so
// that a scan of one-off texts, or a cycle over more texts than the cache
// holds, does not evict the hot ones (docs/design.md, "Dependencies").
// Each entry weighs the bytes it holds, and at least maxBytes/size, so
// that the cache holds at most size entries and maxBytes bytes; a plan
// that would weigh more than an eighth of maxBytes is not cached.
type planCache struct {
	c        *otter.Cache[cacheKey, *cacheEntry]
	maxBytes int64
	unit     int64 // the least weight of an entry: maxBytes/size
}

// cacheKey identifies a statement text: the text itself when it is short,
// else its length and SHA-256 digest.
type cacheKey struct {
	n    int
	sum  [sha256.Size]byte
	text string
}

func keyOf(query string) cacheKey {
	if len(query) <= inlineKey {
		return cacheKey{n: len(query), text: query}
	}
	h := sha256.New()
	var buf [4096]byte
	for s := query; len(s) > 0; {
		n := copy(buf[:], s)
		h.Write(buf[:n])
		s = s[n:]
	}
	k := cacheKey{n: len(query)}
	h.Sum(k.sum[:0])
	return k
}

type cacheEntry struct {
	plan   *Plan
	weight uint32
}

func newPlanCache(size int, maxBytes int64) *planCache {
	if size < 1 {
		size = 1
	}
	if maxBytes < 1 {
		maxBytes = DefaultPlanCacheBytes
	}
	return &planCache{maxBytes: maxBytes, c: otter.Must(&otter.Options[cacheKey, *cacheEntry]{
		MaximumWeight: uint64(maxBytes),
		Weigher:       func(_ cacheKey, e *cacheEntry) uint32 { return e.weight },
		// Maintenance (eviction) runs on the goroutine that writes: the
		// cache starts no goroutine, and a planner replaced after a
		// schema change leaves nothing running.
		Executor: func(fn func()) { fn() },
	}), unit: max(maxBytes/int64(size), 1)}
}

func (c *planCache) get(k cacheKey) *Plan {
	if e, ok := c.c.GetIfPresent(k); ok {
		return e.plan
	}
	return nil
}

func (c *planCache) put(k cacheKey, plan *Plan) {
	cost := int64(entryOverhead+len(k.text)) + plan.bytes()
	if cost > c.maxBytes/8 {
		return
	}
	// The key must not keep alive a larger text the query was cut from.
	k.text = strings.Clone(k.text)
	c.c.SetIfAbsent(k, &cacheEntry{plan: plan, weight: uint32(max(cost, c.unit))})
}

// bytes approximates the memory a plan holds of its own: its texts and
// slices. The plans shared by every statement they fit hold none.
func (p *Plan) bytes() int64 {
	n := len(p.Fused) + len(p.Capture) + len(p.PreSelect) + 8*len(p.PreSelectParams)
	if p.Params != nil {
		n += 8*len(p.Params.index) + 32*len(p.Params.named)
	}
	if r := p.Read; r != nil {
		n += len(r.NewQuery) + len(r.Fingerprint) + 8*len(r.Tables)
		if l := r.Lock; l != nil {
			n += len(l.OldQuery) + len(l.newHead) + len(l.newTail)
		}
	}
	if p.Back != nil {
		n += int(p.Back.bytes())
	}
	var ue *UnsupportedError
	if errors.As(p.Err, &ue) {
		n += len(ue.Table) + len(ue.Construct) + len(ue.Fix)
	} else if p.Err != nil {
		n += 256
	}
	return int64(n)
}

// detach returns a plan that holds no part of the statement's text: the
// plans hold texts of their own, but a refusal's names may be cut from the
// text, and would keep all of it alive in the cache.
func (p *Plan) detach() *Plan {
	ue, ok := p.Err.(*UnsupportedError) //nolint:errorlint // the planner's own refusals, never wrapped
	if !ok {
		return p
	}
	c := *p
	c.Err = &UnsupportedError{Table: strings.Clone(ue.Table), Construct: strings.Clone(ue.Construct), Fix: strings.Clone(ue.Fix)}
	if c.Back != nil {
		c.Back = c.Back.detach()
	}
	return &c
}

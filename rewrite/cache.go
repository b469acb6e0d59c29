package rewrite

import (
	"container/list"
	"sync"
)

// planCache is a bounded least-recently-used map from statement text to plan.
type planCache struct {
	mu    sync.Mutex
	size  int
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	query string
	plan  *Plan
}

func newPlanCache(size int) *planCache {
	if size < 1 {
		size = 1
	}
	return &planCache{size: size, ll: list.New(), items: make(map[string]*list.Element, size)}
}

func (c *planCache) get(query string) *Plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[query]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cacheEntry).plan
	}
	return nil
}

func (c *planCache) put(query string, plan *Plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[query]; ok {
		return
	}
	c.items[query] = c.ll.PushFront(&cacheEntry{query: query, plan: plan})
	if c.ll.Len() > c.size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).query)
	}
}

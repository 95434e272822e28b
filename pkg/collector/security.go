package collector

import (
	"context"
	"sync"

	"github.com/lagwatch/lagwatch/pkg/catalog"
	"github.com/lagwatch/lagwatch/pkg/engine"
)

// securityInputs are a service's advisories and end-of-life cycles, read
// beside its timelines. A failure costs only these (null metrics and a
// notice), never the service's other numbers.
type securityInputs struct {
	advisories []engine.Advisory // nil: none read; empty: read, none found
	cycles     *engine.Cycles
	notices    []string
}

// security starts reading svc's security inputs on wg; the result is
// complete once wg is done.
func (c *Collector) security(ctx context.Context, svc catalog.Service, wg *sync.WaitGroup) *securityInputs {
	in := &securityInputs{}
	var mu sync.Mutex
	note := func(ns ...string) {
		mu.Lock()
		defer mu.Unlock()
		in.notices = append(in.notices, ns...)
	}
	if ref, ok := svc.AdvisoryRef(); ok {
		if c.Advisories == nil {
			note("security metrics unknown: the service names advisories, but no advisory source is configured")
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				raw, notices, err := c.Advisories.Advisories(ctx, ref)
				for _, n := range notices {
					note(string(n))
				}
				if err != nil {
					note("security metrics unknown: " + err.Error())
					return
				}
				advs, notes := engine.BuildAdvisories(raw)
				note(notes...)
				if advs == nil {
					advs = []engine.Advisory{}
				}
				in.advisories = advs
			}()
		}
	}
	if product := svc.EOLProduct(); product != "" {
		if c.EOL == nil {
			note("end of life unknown: the service names an endoflife.date product, but no endoflife.date URL is configured")
		} else {
			wg.Add(1)
			go func() {
				defer wg.Done()
				raw, notices, err := c.EOL.Cycles(ctx, product)
				for _, n := range notices {
					note(string(n))
				}
				if err != nil {
					note("end of life unknown: " + err.Error())
					return
				}
				cy, notes := engine.BuildCycles(product, raw)
				note(notes...)
				in.cycles = cy
			}()
		}
	}
	return in
}

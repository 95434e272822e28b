package fakes

import "sync"

// Gate holds requests of a fake server until released, so tests can make
// concurrent calls overlap without sleeping. Obtain one with Hold.
type Gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate() *Gate {
	return &Gate{arrived: make(chan struct{}, 4096), release: make(chan struct{})}
}

// Arrived receives once for every request that reached the gate.
func (g *Gate) Arrived() <-chan struct{} { return g.arrived }

// Release lets every held and future request through. It is idempotent.
func (g *Gate) Release() { g.once.Do(func() { close(g.release) }) }

// Burst makes n concurrent calls while the gate holds the fake's requests:
// it starts the calls, waits until the first request reaches the gate,
// releases it, waits for every call to return and returns the first error
// received (nil if every call succeeded). Use it to check that concurrent
// callers share one upstream request.
func (g *Gate) Burst(n int, call func() error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- call() })
	}
	<-g.arrived
	g.Release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// wait blocks until the gate is released or done is closed.
func (g *Gate) wait(done <-chan struct{}) {
	select {
	case g.arrived <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-done:
	}
}

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

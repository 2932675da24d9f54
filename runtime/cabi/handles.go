package cabi

import "context"

type handle struct {
	rt    *ResourceType
	rep   any
	own   bool
	lends int
	live  bool
}

// HandleTable is one component instance's resource table. Index 0 is never a valid handle.
// It is not safe for concurrent use (nor is the instance that owns it).
type HandleTable struct {
	entries []handle
	free    []uint32
	// DropGuest runs a guest resource's destructor; set by the linker.
	DropGuest func(ctx context.Context, rt *ResourceType, rep uint32)
}

func (t *HandleTable) add(h handle) uint32 {
	h.live = true
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		t.entries[i] = h
		return i
	}
	if len(t.entries) == 0 {
		t.entries = append(t.entries, handle{}) // slot 0 is reserved
	}
	t.entries = append(t.entries, h)
	return uint32(len(t.entries) - 1)
}

func (t *HandleTable) get(i uint32, rt *ResourceType) *handle {
	if i == 0 || int(i) >= len(t.entries) || !t.entries[i].live {
		trapf("invalid resource handle %d", i)
	}
	h := &t.entries[i]
	if rt != nil && h.rt != rt {
		trapf("resource handle %d has type %s, expected %s", i, h.rt.Name, rt.Name)
	}
	return h
}

func (t *HandleTable) remove(i uint32) handle {
	h := t.entries[i]
	t.entries[i] = handle{}
	t.free = append(t.free, i)
	return h
}

// NewOwn inserts an owning handle for rep and returns its index.
func (t *HandleTable) NewOwn(rt *ResourceType, rep any) uint32 {
	return t.add(handle{rt: rt, rep: rep, own: true})
}

// Rep returns the representation behind handle i (which must have type rt).
func (t *HandleTable) Rep(i uint32, rt *ResourceType) any { return t.get(i, rt).rep }

// TakeOwn removes an owning handle and returns its representation.
func (t *HandleTable) TakeOwn(i uint32, rt *ResourceType) any {
	h := t.get(i, rt)
	if !h.own {
		trapf("handle %d is borrowed, an owning handle was expected", i)
	}
	if h.lends > 0 {
		trapf("handle %d is still lent out", i)
	}
	return t.remove(i).rep
}

// Drop implements canon resource.drop: removes handle i; for owning handles it runs the
// destructor (guest dtor or the host rep's Dropper).
func (t *HandleTable) Drop(ctx context.Context, i uint32, rt *ResourceType) {
	h := t.get(i, rt)
	if h.own && h.lends > 0 {
		trapf("cannot drop handle %d while it is lent out", i)
	}
	e := t.remove(i)
	if !e.own {
		return
	}
	dropRep(ctx, t, e)
}

func dropRep(ctx context.Context, t *HandleTable, e handle) {
	switch r := e.rep.(type) {
	case GuestRep:
		if t.DropGuest != nil {
			t.DropGuest(ctx, r.Type, r.Rep)
		}
	case Dropper:
		r.Drop()
	}
}

// DropAll releases every remaining owning host handle (instance teardown). Guest
// destructors are not run: the guest is going away with its memory.
func (t *HandleTable) DropAll() {
	for i := range t.entries {
		e := t.entries[i]
		if e.live && e.own {
			if d, ok := e.rep.(Dropper); ok {
				d.Drop()
			}
		}
		t.entries[i] = handle{}
	}
	t.entries = t.entries[:0]
	t.free = t.free[:0]
}

// Live lists the live handles in ascending order.
func (t *HandleTable) Live() []uint32 {
	var out []uint32
	for i, e := range t.entries {
		if e.live {
			out = append(out, uint32(i))
		}
	}
	return out
}

// Len counts live handles (for tests).
func (t *HandleTable) Len() int {
	n := 0
	for _, e := range t.entries {
		if e.live {
			n++
		}
	}
	return n
}

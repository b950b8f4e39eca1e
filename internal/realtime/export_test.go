package realtime

// ReplayLogLens is the length of r3labs' replay log of every open stream of
// the hub (it must stay 0: the hub turns AutoReplay off).
func (h *Hub) ReplayLogLens() []int {
	h.mu.Lock()
	ids := make([]string, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	var out []int
	for _, id := range ids {
		if !h.srv.StreamExists(id) {
			continue
		}
		// CreateStream returns the existing stream.
		out = append(out, len(h.srv.CreateStream(id).Eventlog))
	}
	return out
}

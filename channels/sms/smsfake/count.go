package smsfake

// Count is how many messages the fake has accepted: cheap to poll, unlike
// Messages.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

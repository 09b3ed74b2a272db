// The terminal viewer lives here.

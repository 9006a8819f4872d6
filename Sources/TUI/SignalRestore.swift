@preconcurrency import CNcursesw

/// Leaves curses mode from a signal handler, so a killed cockpit never leaves the terminal raw.
func restoreTerminalFromSignal() {
    endwin()
}

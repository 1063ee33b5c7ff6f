/// Undo steps collected while an operation makes things, run in reverse if it fails.
final class Cleanup {
    private var steps: [() -> Void] = []

    /// Adds a step to run on failure.
    func add(_ step: @escaping () -> Void) { steps.append(step) }

    /// Runs every step, newest first, and forgets them.
    func run() {
        for step in steps.reversed() { step() }
        steps.removeAll()
    }

    /// Forgets every step: the operation succeeded.
    func disarm() { steps.removeAll() }
}

import Glibc

/// Test hook: with `PODRUN_FAILPOINT=NAME` in the environment, reaching the point `NAME` kills podrun with
/// SIGKILL, as a crash there would. Used by the tests that check `gc` after a create killed at each step.
public enum FailPoint {
    /// Dies here when the environment asks for it.
    public static func check(_ name: String) {
        guard let value = getenv("PODRUN_FAILPOINT"), String(cString: value) == name else { return }
        kill(getpid(), SIGKILL)
    }
}

import Glibc
import PodrunCore

/// Puts descriptors at fixed numbers in the current process, as a spawn's file actions would.
public enum Descriptors {
    /// Installs `map` (target -> source): every source is first copied above every target, so no dup2 overwrites
    /// a source still to be used; the copies are closed afterwards. Installed targets are not close-on-exec.
    public static func install(_ map: [Int32: Int32]) throws {
        let floor = (map.keys.max() ?? 2) + 1
        var copies: [Int32: Int32] = [:]
        for (target, source) in map {
            let copy = fcntl(source, F_DUPFD_CLOEXEC, floor)
            guard copy >= 0 else { throw PodrunError.system("dup fd \(source)") }
            copies[target] = copy
        }
        for (target, copy) in copies {
            guard dup2(copy, target) >= 0 else { throw PodrunError.system("dup2 fd \(target)") }
            close(copy)
        }
    }
}

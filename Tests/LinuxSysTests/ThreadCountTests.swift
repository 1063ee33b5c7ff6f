import Glibc
import Testing
@testable import LinuxSys

/// `Sys.threadCount()` decides whether the runtime may clone the container's process straight from itself (a fork of
/// a process with other threads could copy a lock one of them holds), so it must see every thread. Counted in a
/// forked child: the test process has the test runner's threads.
@Suite struct ThreadCountTests {
    @Test func threadCountSeesAThreadStartAndEnd() {
        let outcome = runInChild { report in
            report.line("alone", String(Sys.threadCount()))
            var release: [Int32] = [-1, -1]
            guard pipe(&release) == 0 else { return 1 }
            // The thread blocks reading the pipe until the child writes to it.
            var thread = pthread_t()
            let started = pthread_create(&thread, nil, { argument in
                var byte: UInt8 = 0
                _ = read(Int32(Int(bitPattern: argument)), &byte, 1)
                return nil
            }, UnsafeMutableRawPointer(bitPattern: Int(release[0])))
            guard started == 0 else { return 2 }
            report.line("with", String(Sys.threadCount()))
            var byte: UInt8 = 1
            _ = write(release[1], &byte, 1)
            pthread_join(thread, nil)
            report.line("after", String(threadCountAfterJoins()))
            return 0
        }
        #expect(outcome.end == .exited(0))
        #expect(outcome.values["alone"] == "1")
        #expect(outcome.values["with"] == "2")
        #expect(outcome.values["after"] == "1")
    }
}

/// The thread count once joined threads have left it: a joined thread leaves the kernel's count a moment after
/// the join returns (its exit wakes the joiner before it is released), so this waits up to a second for the count
/// to come down to 1.
func threadCountAfterJoins() -> Int {
    var count = Sys.threadCount()
    for _ in 0..<1000 where count != 1 {
        usleep(1000)
        count = Sys.threadCount()
    }
    return count
}

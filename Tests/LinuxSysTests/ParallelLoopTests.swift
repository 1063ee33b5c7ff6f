import Glibc
import Synchronization
import Testing
@testable import LinuxSys

/// `ParallelLoop` unpacks an image's layers side by side (in place of Dispatch, which the release binary does not
/// set up): every index exactly once, on several threads, and nothing left running when it returns.
@Suite struct ParallelLoopTests {
    /// Counts the calls of each index.
    final class Calls: Sendable {
        let counts: Mutex<[Int]>
        init(_ count: Int) { counts = Mutex(Array(repeating: 0, count: count)) }
        subscript(index: Int) -> Int { counts.withLock { $0[index] } }
        func record(_ index: Int) { counts.withLock { $0[index] += 1 } }
    }

    @Test(arguments: [(1, 4), (2, 2), (7, 3), (100, 4), (5, 1), (3, 16)])
    func eachIndexIsCalledExactlyOnce(iterations: Int, width: Int) {
        let calls = Calls(iterations)
        ParallelLoop.forEach(iterations, width: width) { calls.record($0) }
        #expect((0..<iterations).map { calls[$0] } == Array(repeating: 1, count: iterations))
    }

    @Test func noIterationsCallNothing() {
        let calls = Calls(1)
        ParallelLoop.forEach(0, width: 4) { calls.record($0) }
        #expect(calls[0] == 0)
    }

    /// Two calls that each wait for the other to have started can only both finish if they run at once.
    @Test func callsRunAtTheSameTimeOnDifferentThreads() {
        let started = Atomic<Int>(0)
        let sawTheOther = Calls(2)
        let threads = Mutex<Set<pthread_t>>([])
        ParallelLoop.forEach(2, width: 2) { index in
            threads.withLock { _ = $0.insert(pthread_self()) }
            started.wrappingAdd(1, ordering: .acquiringAndReleasing)
            // Up to 10 s for the other call to start.
            for _ in 0..<10_000 where started.load(ordering: .acquiring) < 2 { usleep(1000) }
            if started.load(ordering: .acquiring) == 2 { sawTheOther.record(index) }
        }
        #expect(sawTheOther[0] == 1 && sawTheOther[1] == 1)
        #expect(threads.withLock { $0.count } == 2)
        #expect(threads.withLock { $0.contains(pthread_self()) }, "the calling thread takes its share")
    }

    @Test func widthOneRunsInOrderOnTheCallingThread() {
        let order = Mutex<[Int]>([])
        let caller = pthread_self()
        let elsewhere = Atomic<Int>(0)
        ParallelLoop.forEach(5, width: 1) { index in
            order.withLock { $0.append(index) }
            if pthread_self() != caller { elsewhere.wrappingAdd(1, ordering: .relaxed) }
        }
        #expect(order.withLock { $0 } == [0, 1, 2, 3, 4])
        #expect(elsewhere.load(ordering: .relaxed) == 0)
    }

    /// When `forEach` returns, its threads have been joined: the process has as many threads as before.
    @Test func noThreadOutlivesTheLoop() {
        let outcome = runInChild { report in
            let calls = Calls(8)
            ParallelLoop.forEach(8, width: 4) { calls.record($0); usleep(1000) }
            report.line("threads", String(threadCountAfterJoins()))
            return 0
        }
        #expect(outcome.end == .exited(0))
        #expect(outcome.values["threads"] == "1")
    }
}

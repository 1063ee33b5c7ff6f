import Glibc
import Synchronization

/// A loop whose iterations run on several threads at once: POSIX threads, each taking the next index until none
/// is left, the calling thread among them.
///
/// podrun does not use Dispatch (nor Swift concurrency, which runs on it): the static release binary leaves
/// libdispatch's constructor out (scripts/release-link.ld), which every podrun command would otherwise
/// pay for at start-up, so Dispatch would find itself uninitialized there.
public enum ParallelLoop {
    /// Calls `body` once for each index in `0..<iterations`, on at most `width` threads (the calling thread
    /// and `width - 1` new ones, fewer when there are fewer iterations), and returns when every call has
    /// returned. The order of the calls is not defined. A thread that cannot be started leaves its share to
    /// the others.
    public static func forEach(_ iterations: Int, width: Int = onlineProcessorCount, _ body: @Sendable (Int) -> Void) {
        guard iterations > 0 else { return }
        let threadCount = max(1, min(width, iterations))
        if threadCount == 1 {
            for index in 0..<iterations { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = Work(iterations: iterations, body: body)
            var threads: [pthread_t] = []
            threads.reserveCapacity(threadCount - 1)
            for _ in 1..<threadCount {
                var thread = pthread_t()
                let context = Unmanaged.passRetained(work)
                let started = pthread_create(&thread, nil, { raw in
                    guard let raw else { return nil }
                    Unmanaged<Work>.fromOpaque(raw).takeRetainedValue().run()
                    return nil
                }, context.toOpaque())
                if started == 0 {
                    threads.append(thread)
                } else {
                    context.release()
                }
            }
            work.run()
            for thread in threads { pthread_join(thread, nil) }
        }
    }

    /// The processors online now (`sysconf(_SC_NPROCESSORS_ONLN)`), at least 1.
    public static var onlineProcessorCount: Int {
        max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// The loop's shared state: the next index to take and the body.
    private final class Work: Sendable {
        let iterations: Int
        let next = Atomic<Int>(0)
        let body: @Sendable (Int) -> Void

        init(iterations: Int, body: @escaping @Sendable (Int) -> Void) {
            self.iterations = iterations
            self.body = body
        }

        /// Takes indices until none is left.
        func run() {
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < iterations else { return }
                body(index)
            }
        }
    }
}

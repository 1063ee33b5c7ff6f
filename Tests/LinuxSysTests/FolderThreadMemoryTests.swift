import CPodrunShim
import Foundation
import Glibc
import Testing
@testable import LinuxSys

/// The folder batch's thread (CPodrunShim/mkdir_batch.c) runs while the runtime clones the container's process: it
/// writes only to memory of its own that no fork copies (MADV_DONTFORK), so that none of its writes is a
/// copy-on-write fault whose TLB flush interrupts the cloning CPU. Here (LinuxSysTests run one test at a time), so
/// that no other test maps or unmaps such memory meanwhile.
@Suite struct FolderThreadMemoryTests {
    /// The mappings that forks leave out ("dc" in smaps' VmFlags).
    private func mappingsLeftOutOfForks() throws -> Int {
        let smaps = try FileIO.readString("/proc/self/smaps")
        return smaps.split(separator: "\n").filter { $0.hasPrefix("VmFlags:") && $0.split(separator: " ").contains("dc") }
            .count
    }

    @Test func theThreadsMemoryIsLeftOutOfForksAndItsResultsComeWithTheWait() throws {
        let base = NSTemporaryDirectory() + "podrun-batch-memory-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let names = [base + "/new", base + "/exists"]
        let paths: [UnsafePointer<CChar>?] = names.map { UnsafePointer(strdup($0)) }
        defer { for path in paths { free(UnsafeMutableRawPointer(mutating: path)) } }
        // Memory that outlives the calls: the thread reads the paths, the wait writes the results.
        let cPaths = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: 2)
        cPaths.initialize(from: paths, count: 2)
        let errors = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
        errors.initialize(repeating: -1, count: 2)
        let writeErrors = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer {
            cPaths.deallocate()
            errors.deallocate()
            writeErrors.deallocate()
        }
        let before = try mappingsLeftOutOfForks()
        let batch = try #require(podrun_mkdir_batch_start(cPaths, errors, 2, nil, writeErrors, 0, nil))
        let during = try mappingsLeftOutOfForks()
        podrun_mkdir_batch_wait(batch)
        #expect(during == before + 1, "the thread's stack and results are one mapping that forks leave out")
        #expect(try mappingsLeftOutOfForks() == before, "and it goes with the wait")
        #expect(Array(UnsafeBufferPointer(start: errors, count: 2)) == [0, EEXIST],
                "the results are copied to the caller's arrays by the wait")
    }
}

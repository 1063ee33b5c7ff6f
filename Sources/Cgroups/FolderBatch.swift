import CPodrunShim
import Glibc
import OCISpec

/// Folders being made on a thread of their own, one mkdir each, then the first files written in those it made,
/// while the caller goes on: the runtime starts a container's v1 cgroup folders (a third of a millisecond of the
/// kernel's time on this kind of host) with their cpuset values and device rules before it clones the container's
/// process, which takes longer.
///
/// The thread is C that calls mkdir, open, read, write and close and nothing else (no allocation, no lock), so a clone3
/// or fork made meanwhile copies no lock it holds, and the cloned process has one thread whatever this one has.
/// `wait()` joins it; so does the end of the batch, so that nothing removes the folders while the thread may still
/// make one.
///
/// It can also make descriptors of each folder for the container's process: a file opened in it (its `tasks`, to
/// join through instead of a path, whose walk is most of a join's cost), and a detached read-only copy of its
/// mount (open_tree(2), mount_setattr(2)), for the process' cgroup mount to move in place of a bind and a remount.
public final class FolderBatch {
    /// A file to write in one of the batch's folders: each line in a write of its own, or another file's content
    /// (its trailing newlines dropped) in one write. Written only when the batch's mkdir made that folder (a folder
    /// that was there keeps what it has).
    public struct Write: Equatable, Sendable {
        /// The folder's index in `paths`.
        public var folder: Int
        public var file: String
        public var lines: [String]
        /// The file whose content is written instead of `lines`.
        public var copyFrom: String?

        public init(folder: Int, file: String, lines: [String]) {
            self.folder = folder
            self.file = file
            self.lines = lines
        }

        public init(folder: Int, file: String, copying source: String) {
            self.init(folder: folder, file: file, lines: [])
            copyFrom = source
        }
    }

    /// What the thread did.
    public struct Results: Equatable, Sendable {
        /// Each folder's mkdir: 0 when it was made, else its errno (EEXIST, ENOENT for a missing parent, ...).
        public var folders: [Int32]
        /// Each write's errno: 0 when written, -1 when its folder was not made by the batch (so not written).
        public var writes: [Int32]
    }

    /// The folders, in the order given.
    public let paths: [String]
    /// The writes, in the order given.
    public let writes: [Write]
    private let cPaths: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let folderErrors: UnsafeMutablePointer<Int32>
    private let cWrites: UnsafeMutablePointer<podrun_folder_write>
    private let cLines: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let lineCount: Int
    private let writeErrors: UnsafeMutablePointer<Int32>
    /// The file opened in each folder, or nil.
    public let openedName: String?
    /// The attributes given to each folder's mount copy, or nil when no copies are made.
    public let mountCopyAttributes: MountAttributes?
    private let cOpenName: UnsafeMutablePointer<CChar>?
    private let opened: UnsafeMutablePointer<Int32>
    private let mountCopies: UnsafeMutablePointer<Int32>
    private let handover: UnsafeMutablePointer<podrun_folder_handover>
    private var thread: OpaquePointer?
    private var released = false

    /// Starts making `paths`, then `writes`, then in each folder made or found there opening `name` (write-only)
    /// and copying its mount with `mountCopyAttributes` (and slave propagation); nil when no thread could start
    /// (nothing was made: the caller makes them itself).
    public init?(making paths: [String], thenWriting writes: [Write] = [], opening name: String? = nil,
                 copyingMountsWith mountCopyAttributes: MountAttributes? = nil) {
        self.paths = paths
        self.writes = writes
        openedName = name
        self.mountCopyAttributes = mountCopyAttributes
        cOpenName = name.map { strdup($0) }
        opened = .allocate(capacity: max(paths.count, 1))
        opened.initialize(repeating: -1, count: max(paths.count, 1))
        mountCopies = .allocate(capacity: max(paths.count, 1))
        mountCopies.initialize(repeating: -1, count: max(paths.count, 1))
        handover = .allocate(capacity: 1)
        handover.initialize(to: podrun_folder_handover(
            open_name: UnsafePointer(cOpenName), opened: name == nil ? nil : opened,
            trees: mountCopyAttributes == nil ? nil : mountCopies, tree_set: mountCopyAttributes?.set ?? 0,
            tree_clear: mountCopyAttributes?.clear ?? 0))
        cPaths = .allocate(capacity: paths.count)
        folderErrors = .allocate(capacity: paths.count)
        folderErrors.initialize(repeating: 0, count: paths.count)
        for index in paths.indices { cPaths[index] = UnsafePointer(strdup(paths[index])) }
        lineCount = writes.reduce(0) { $0 + $1.lines.count }
        cLines = .allocate(capacity: max(lineCount, 1))
        cWrites = .allocate(capacity: max(writes.count, 1))
        writeErrors = .allocate(capacity: max(writes.count, 1))
        writeErrors.initialize(repeating: -1, count: max(writes.count, 1))
        var line = 0
        for index in writes.indices {
            let write = writes[index]
            let first = line
            for text in write.lines {
                cLines[line] = UnsafePointer(strdup(text))
                line += 1
            }
            cWrites[index] = podrun_folder_write(folder: Int32(write.folder), file: UnsafePointer(strdup(write.file)),
                                                 lines: UnsafePointer(cLines + first), line_count: Int32(write.lines.count),
                                                 copy_from: write.copyFrom.map { UnsafePointer(strdup($0)) })
        }
        guard let thread = podrun_mkdir_batch_start(cPaths, folderErrors, Int32(paths.count), cWrites, writeErrors,
                                                    Int32(writes.count),
                                                    name == nil && mountCopyAttributes == nil ? nil : handover) else {
            return nil  // the deinit frees what was allocated
        }
        self.thread = thread
    }

    /// Waits for the thread; what it did.
    @discardableResult
    public func wait() -> Results {
        if let thread {
            podrun_mkdir_batch_wait(thread)
            self.thread = nil
        }
        return Results(folders: Array(UnsafeBufferPointer(start: folderErrors, count: paths.count)),
                       writes: Array(UnsafeBufferPointer(start: writeErrors, count: writes.count)))
    }

    /// Waits for the thread; the descriptor of the file opened in each folder (-1 where none was), which the caller
    /// then owns: a second call returns -1 for each.
    public func takeOpened() -> [Int32] {
        wait()
        let descriptors = Array(UnsafeBufferPointer(start: opened, count: paths.count))
        opened.update(repeating: -1, count: paths.count)
        return descriptors
    }

    /// Waits for the thread; the descriptor of each folder's mount copy (-1 where none was made), which the caller
    /// then owns: a second call returns -1 for each.
    public func takeMountCopies() -> [Int32] {
        wait()
        let descriptors = Array(UnsafeBufferPointer(start: mountCopies, count: paths.count))
        mountCopies.update(repeating: -1, count: paths.count)
        return descriptors
    }

    deinit {
        for descriptor in takeOpened() + takeMountCopies() where descriptor >= 0 { close(descriptor) }
        release()
    }

    private func release() {
        guard !released else { return }
        released = true
        for index in paths.indices { free(UnsafeMutableRawPointer(mutating: cPaths[index])) }
        for index in 0..<lineCount { free(UnsafeMutableRawPointer(mutating: cLines[index])) }
        for index in writes.indices {
            free(UnsafeMutableRawPointer(mutating: cWrites[index].file))
            free(cWrites[index].copy_from.map { UnsafeMutableRawPointer(mutating: $0) })
        }
        cPaths.deallocate()
        folderErrors.deallocate()
        cLines.deallocate()
        cWrites.deallocate()
        writeErrors.deallocate()
        free(cOpenName)
        opened.deallocate()
        mountCopies.deallocate()
        handover.deallocate()
    }
}

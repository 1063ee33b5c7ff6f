import Glibc

/// A one-line progress bar on stderr, drawn only when stderr is a terminal, redrawn at most ten times a second.
final class ProgressBar {
    private let total: Int64?
    private var lastDraw = timespec()

    /// A bar for `total` bytes (nil: unknown), or nil when stderr is not a terminal.
    init?(total: Int64?) {
        guard isatty(2) != 0 else { return nil }
        self.total = total
    }

    /// The size of the file at `path`, when it is a regular file.
    static func fileSize(_ path: String) -> Int64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    /// Shows `done` bytes.
    func update(_ done: Int64) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let elapsed = (now.tv_sec - lastDraw.tv_sec) * 1000 + (now.tv_nsec - lastDraw.tv_nsec) / 1_000_000
        guard elapsed >= 100 else { return }
        lastDraw = now
        draw(done)
    }

    /// Clears the line.
    func finish() {
        emit("\r\u{1b}[K")
    }

    private func draw(_ done: Int64) {
        var line = "\rimporting "
        if let total, total > 0 {
            let width = 30
            let filled = Int(min(done, total) * Int64(width) / total)
            line += "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += ByteCount.text(done) + " / " + ByteCount.text(total)
        } else {
            line += ByteCount.text(done)
        }
        emit(line + "\u{1b}[K")
    }

    private func emit(_ text: String) {
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}

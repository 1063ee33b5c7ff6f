import Foundation
import Glibc
import Testing

/// The receiving end of `--console-socket`: a unix stream socket server that accepts one connection and
/// takes the file descriptor sent with SCM_RIGHTS (the pty master of a `terminal: true` container).
final class ConsoleSocketReceiver {
    /// The socket's path, given to the runtime.
    let path: String
    private let listener: Int32

    init(path: String) throws {
        self.path = path
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(listener)
            throw HarnessError("socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 4) == 0 else {
            let error = errno
            close(listener)
            throw HarnessError("bind/listen on \(path): errno \(error)")
        }
    }

    deinit {
        close(listener)
        unlink(path)
    }

    /// Waits for a connection and returns the descriptor it carries (the caller closes it).
    func receiveDescriptor(timeout: Duration = .seconds(20)) async throws -> Int32 {
        guard try await waitUntil(timeout: timeout, { isReadable(listener) }) else {
            throw HarnessError("nobody connected to the console socket \(path)")
        }
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { throw HarnessError("accept: errno \(errno)") }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        defer { close(connection) }
        guard try await waitUntil(timeout: timeout, { isReadable(connection) }) else {
            throw HarnessError("nothing was sent on the console socket")
        }
        var data = [UInt8](repeating: 0, count: 4096)
        // CMSG_SPACE(sizeof(int)): the header, then the int, padded to the header's alignment.
        let headerSize = MemoryLayout<cmsghdr>.stride
        var control = [UInt8](repeating: 0, count: headerSize + 16)
        let received: Int = data.withUnsafeMutableBytes { dataBuffer in
            control.withUnsafeMutableBytes { controlBuffer in
                var vector = iovec(iov_base: dataBuffer.baseAddress, iov_len: dataBuffer.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlBuffer.baseAddress
                    message.msg_controllen = controlBuffer.count
                    return recvmsg(connection, &message, Int32(MSG_CMSG_CLOEXEC))
                }
            }
        }
        guard received >= 0 else { throw HarnessError("recvmsg: errno \(errno)") }
        let header = control.withUnsafeBytes { $0.loadUnaligned(as: cmsghdr.self) }
        guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS),
            header.cmsg_len >= headerSize + MemoryLayout<Int32>.size
        else {
            throw HarnessError("no SCM_RIGHTS descriptor in the message (level \(header.cmsg_level), type \(header.cmsg_type))")
        }
        return control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: headerSize, as: Int32.self) }
    }
}

/// (major, minor) of a device number, as glibc's gnu_dev_major/gnu_dev_minor compute them.
func deviceNumbers(_ device: dev_t) -> (UInt64, UInt64) {
    let value = UInt64(device)
    let major = ((value >> 8) & 0xfff) | ((value >> 32) & ~UInt64(0xfff))
    let minor = (value & 0xff) | ((value >> 12) & ~UInt64(0xff))
    return (major, minor)
}

/// Whether `fd` has data (or a connection) waiting.
func isReadable(_ fd: Int32) -> Bool {
    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&entry, 1, 0) > 0
}

/// Reads from `fd` until the text holds `marker`, the other side closes (EOF or EIO on a pty master), or
/// `timeout` passes; returns what was read.
func readUntil(_ fd: Int32, contains marker: String, timeout: Duration = .seconds(20)) async throws -> String {
    var text = ""
    _ = try await waitUntil(timeout: timeout) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while isReadable(fd) {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return true }
            text += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return text.contains(marker)
    }
    return text
}

@Suite("console socket")
struct ConsoleSocketTests {
    @Test func consoleSocketReceivesThePtyMasterAndItCarriesOutput() async throws {
        try await withHarness { h in
            let receiver = try ConsoleSocketReceiver(path: h.tempDirectory + "/console.sock")
            var config = ContainerConfig.shell("tty; echo hello-from-the-pty")
            config.terminal = true
            let bundle = try h.makeBundle(config)
            let id = h.newID("tty")
            try await h.runtimeSucceeds(["create", "--bundle", bundle.path, "--console-socket", receiver.path, id])
            let master = try await receiver.receiveDescriptor()
            defer { close(master) }

            // A pty master is the multiplexer device: character device 5:2 (/dev/ptmx or /dev/pts/ptmx).
            var status = stat()
            #expect(fstat(master, &status) == 0)
            #expect(status.st_mode & S_IFMT == S_IFCHR)
            #expect(deviceNumbers(status.st_rdev) == (5, 2), "the received fd is not a pty master: \(deviceNumbers(status.st_rdev))")
            #expect(isatty(master) == 1)

            try await h.runtimeSucceeds(["start", id])
            let output = try await readUntil(master, contains: "hello-from-the-pty")
            #expect(output.contains("hello-from-the-pty"), "read from the pty master: \(output.debugDescription)")
            // The process's stdio is the pty's slave, in the container's own devpts.
            #expect(output.contains("/dev/pts/0"), "tty printed: \(output.debugDescription)")
            try await h.waitForStatus(id, "stopped")
            try await h.runtimeSucceeds(["delete", id])
        }
    }

    @Test func terminalWithoutConsoleSocketFailsCreate() async throws {
        try await withHarness { h in
            var config = ContainerConfig(args: ["true"])
            config.terminal = true
            let bundle = try h.makeBundle(config)
            let id = h.newID("notty")
            let result = try await h.runtime(["create", "--bundle", bundle.path, id])
            h.expectOneLineFailure(result)
            try await h.expectNothingLeftOf(id)
        }
    }
}

import Foundation
import Glibc
import Synchronization
import Testing

// The integration harness: runs the runtime binary under test (PODRUN_BIN, default
// <package root>/.build/debug/podrun) with a private `--root` state folder per test, makes bundles, and
// after each test checks that nothing leaked (state entries, mounts, processes, cgroups, and the network's
// addresses, veths and NAT rules: see TestNetwork.swift).
//
// Every test runs inside `withHarness { h in ... }`. The suite is checked against runc, the reference:
//   PODRUN_BIN=/usr/sbin/runc swift test --filter IntegrationTests

/// A failure of the harness itself (not of the runtime under test).
struct HarnessError: Error, CustomStringConvertible {
    /// What went wrong, for a person.
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Where the package, the runtime binary and the reference runtime are.
enum TestEnvironment {
    /// The package root: three levels above this file (Tests/IntegrationTests/Harness.swift).
    static let packageRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The runtime binary under test: `$PODRUN_BIN`, else `<package root>/.build/debug/podrun`.
    static let binary: String = {
        if let fromEnvironment = ProcessInfo.processInfo.environment["PODRUN_BIN"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return packageRoot + "/.build/debug/podrun"
    }()

    /// True when the binary under test is runc itself (the suite's reference run).
    static let isRunc: Bool = URL(fileURLWithPath: binary).lastPathComponent == "runc"

    /// runc, the reference implementation, when installed (used by the `spec` comparison).
    static let referenceRunc: String? = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Where every test's temporary folder lives.
    static let temporaryBase = "/tmp/podrun-it"

    /// Fails with a clear message when the binary under test is missing or we are not root.
    static func checkPrerequisites() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw HarnessError(
                "the runtime binary \(binary) is missing or not executable: build it with `swift build` "
                    + "or point PODRUN_BIN at a runtime (e.g. PODRUN_BIN=/usr/sbin/runc)")
        }
        guard geteuid() == 0 else {
            throw HarnessError("the integration tests create containers and must run as root")
        }
    }
}

/// The busybox rootfs shared by the tests that only read it (fixtures/busybox).
enum Fixture {
    private static let built: Result<String, HarnessError> = build()

    /// The absolute path of the shared busybox rootfs; built by scripts/make-busybox-rootfs.sh once per
    /// run (under a file lock, so parallel tests and parallel `swift test` runs do not race).
    static func busyboxRootfs() throws -> String {
        try built.get()
    }

    private static func build() -> Result<String, HarnessError> {
        let fixtures = TestEnvironment.packageRoot + "/fixtures"
        let rootfs = fixtures + "/busybox"
        do {
            try FileManager.default.createDirectory(atPath: fixtures, withIntermediateDirectories: true)
        } catch {
            return .failure(HarnessError("cannot create \(fixtures): \(error)"))
        }
        let lockFD = open(fixtures + "/.busybox.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else {
            return .failure(HarnessError("cannot open the fixture lock: errno \(errno)"))
        }
        defer { close(lockFD) }
        flock(lockFD, LOCK_EX)
        defer { flock(lockFD, LOCK_UN) }
        if FileManager.default.isExecutableFile(atPath: rootfs + "/bin/busybox"),
            FileManager.default.fileExists(atPath: rootfs + "/etc/group")
        {
            return .success(rootfs)
        }
        let script = TestEnvironment.packageRoot + "/scripts/make-busybox-rootfs.sh"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, rootfs]
        process.standardInput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(HarnessError("cannot run \(script): \(error)"))
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(HarnessError("\(script) \(rootfs) failed: \(message)"))
        }
        return .success(rootfs)
    }
}

/// What one command printed and how it ended.
struct CommandResult: Sendable, CustomStringConvertible {
    /// The command line, for messages.
    let command: [String]
    /// The exit status, or 128 + the signal number when the command was killed by a signal.
    let status: Int32
    /// Everything written to stdout up to the moment the command exited.
    let stdout: String
    /// Everything written to stderr up to the moment the command exited.
    let stderr: String
    /// The files stdout and stderr were written to: processes the command left running (a created
    /// container, `exec --detach`) keep writing there.
    let stdoutPath: String
    let stderrPath: String

    var succeeded: Bool { status == 0 }

    /// The non-empty lines of stderr.
    var stderrLines: [Substring] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// stdout without surrounding white space.
    var output: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// What stdout holds now (it grows while a process the command left behind writes to it).
    func currentStdout() -> String {
        (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
    }

    var description: String {
        "`\(command.joined(separator: " "))` exited \(status)\n  stdout: \(stdout)\n  stderr: \(stderr)"
    }
}

/// Runs a command with stdout and stderr in files (never pipes: a container started by `create` or
/// `run --detach` inherits them and would keep a pipe open) and waits for it without blocking a thread.
func runCommand(
    _ executable: String, _ arguments: [String], stdin: String? = nil, outputDirectory: String,
    timeout: Duration = .seconds(60), environment: [String: String] = [:]
) async throws -> CommandResult {
    let tag = UUID().uuidString.prefix(8)
    let outPath = "\(outputDirectory)/cmd-\(tag).out"
    let errPath = "\(outputDirectory)/cmd-\(tag).err"
    // open(2), not FileManager.createFile: its atomic write can leave TemporaryDirectory.* folders in /tmp.
    for path in [outPath, errPath] { close(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)) }
    guard let outHandle = FileHandle(forWritingAtPath: outPath),
        let errHandle = FileHandle(forWritingAtPath: errPath)
    else { throw HarnessError("cannot open output files in \(outputDirectory)") }
    defer {
        try? outHandle.close()
        try? errHandle.close()
    }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardOutput = outHandle
    process.standardError = errHandle
    if let stdin {
        let inPath = "\(outputDirectory)/cmd-\(tag).in"
        try Data(stdin.utf8).write(to: URL(fileURLWithPath: inPath))
        process.standardInput = FileHandle(forReadingAtPath: inPath)
    } else {
        process.standardInput = FileHandle.nullDevice
    }

    let finished = Flag()
    let timedOut = Flag()
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
        process.terminationHandler = { _ in
            finished.set()
            continuation.resume()
        }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: HarnessError("cannot run \(executable): \(error)"))
            return
        }
        let pid = process.processIdentifier
        Task {
            try? await Task.sleep(for: timeout)
            if !finished.isSet {
                timedOut.set()
                kill(pid, SIGKILL)
            }
        }
    }
    let status: Int32 =
        process.terminationReason == .uncaughtSignal
        ? 128 + process.terminationStatus : process.terminationStatus
    let result = CommandResult(
        command: [executable] + arguments, status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
        stdoutPath: outPath, stderrPath: errPath)
    if timedOut.isSet {
        Issue.record("command killed after its timeout of \(timeout): \(result)")
    }
    return result
}

/// A boolean that any thread may set once and read.
final class Flag: Sendable {
    private let value = Mutex(false)

    func set() { value.withLock { $0 = true } }

    var isSet: Bool { value.withLock { $0 } }
}

/// An OCI bundle made by a test.
struct Bundle: Sendable {
    /// The bundle folder (holds config.json).
    let path: String
    /// The absolute path of its rootfs (the shared fixture, or a private copy inside the bundle).
    let rootfs: String

    var configPath: String { path + "/config.json" }
}

/// Which rootfs a bundle uses.
enum RootfsKind: Sendable {
    /// The shared fixture rootfs by absolute path, mounted read-only (root.readonly defaults to true).
    case shared
    /// A private copy of the fixture inside the bundle (`root.path` "rootfs"), for tests that write.
    case privateCopy
}

/// One test's sandbox: a temporary folder, a private state folder for the runtime, the container ids
/// the test used, and the leak checks that run after it.
final class Harness: Sendable {
    /// A short name for the test (used in folder names).
    let name: String
    /// The test's temporary folder: bundles, host folders, command output.
    let tempDirectory: String
    /// The runtime's state folder (`--root`).
    let stateDirectory: String
    /// The runtime binary this test runs: the one under test, or its copy on a read-only mount (`protectedBinary`).
    let binary: String
    /// The read-only bind mount holding the protected copy, if any (unmounted at clean-up).
    private let protectedBinaryFolder: String?

    private let containerIDs = Mutex<[String]>([])
    private let sandboxIDs = Mutex<[String]>([])
    private let hostProcesses = Mutex<[Process]>([])
    private let counter = Mutex(0)
    private let explicitCgroupPaths = Mutex<[String]>([])
    private let hostInterfaceNames = Mutex<[String]>([])

    /// With `protectedBinary`, the test runs a copy of the binary under test (and of podrun-pause beside it) on a
    /// read-only bind mount: nothing can write it, so podrun forks its init (and clones a container's process
    /// directly) instead of exec'ing a sealed copy of itself, as an installed immutable podrun does.
    init(name: String, protectedBinary: Bool = false) throws {
        try TestEnvironment.checkPrerequisites()
        let short = String(name.prefix(while: { $0 != "(" }).prefix(20))
        self.name = short
        try FileManager.default.createDirectory(
            atPath: TestEnvironment.temporaryBase, withIntermediateDirectories: true)
        var template = Array("\(TestEnvironment.temporaryBase)/\(short)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: errno \(errno)")
        }
        tempDirectory = String(cString: made)
        chmod(tempDirectory, 0o755)
        stateDirectory = tempDirectory + "/state"
        try FileManager.default.createDirectory(
            atPath: tempDirectory + "/out", withIntermediateDirectories: true)
        guard protectedBinary else {
            binary = TestEnvironment.binary
            protectedBinaryFolder = nil
            return
        }
        let folder = tempDirectory + "/bin"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let source = URL(fileURLWithPath: TestEnvironment.binary)
        try FileManager.default.copyItem(atPath: source.path, toPath: folder + "/" + source.lastPathComponent)
        let pause = source.deletingLastPathComponent().appendingPathComponent("podrun-pause").path
        if FileManager.default.fileExists(atPath: pause) {
            try FileManager.default.copyItem(atPath: pause, toPath: folder + "/podrun-pause")
        }
        guard mount(folder, folder, nil, UInt(MS_BIND), nil) == 0 else {
            throw HarnessError("bind mount \(folder): errno \(errno)")
        }
        guard mount(nil, folder, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil) == 0 else {
            let e = errno
            umount2(folder, Int32(MNT_DETACH))
            throw HarnessError("remount \(folder) read-only: errno \(e)")
        }
        binary = folder + "/" + source.lastPathComponent
        protectedBinaryFolder = folder
    }

    // MARK: ids and names

    /// A fresh container id, unique across tests and runs; remembered for the leak checks.
    func newID(_ label: String = "c") -> String {
        let id = "it-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        containerIDs.withLock { $0.append(id) }
        return id
    }

    /// Every container id this test asked for.
    var ids: [String] { containerIDs.withLock { $0 } }

    /// A fresh sandbox id; remembered for the leak checks (its state, its pause process, its cgroup
    /// `podrun-sandbox-ID`) and removed with `sandbox rm --force` at clean-up.
    func newSandboxID(_ label: String = "pod") -> String {
        let id = "it-\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        sandboxIDs.withLock { $0.append(id) }
        return id
    }

    /// Every sandbox id this test asked for.
    var sandboxes: [String] { sandboxIDs.withLock { $0 } }

    /// Remembers the host end of a test sandbox's veth (from `sandbox inspect`), for the leak checks.
    func rememberHostInterface(_ name: String) {
        hostInterfaceNames.withLock { if !$0.contains(name) { $0.append(name) } }
    }

    /// The host interfaces of the test's sandboxes seen so far.
    var hostInterfaces: [String] { hostInterfaceNames.withLock { $0 } }

    /// The names cgroups of the test's containers and sandboxes have.
    private var cgroupNames: [String] { ids + sandboxes.map { "podrun-sandbox-" + $0 } }

    private func nextNumber() -> Int {
        counter.withLock {
            $0 += 1
            return $0
        }
    }

    // MARK: running the runtime

    /// Runs the runtime under test: `BIN [globalFlags] --root STATE ARGS...`.
    @discardableResult
    func runtime(
        _ arguments: [String], globalFlags: [String] = [], stdin: String? = nil,
        timeout: Duration = .seconds(60), environment: [String: String] = [:]
    ) async throws -> CommandResult {
        try await runCommand(
            binary, globalFlags + ["--root", stateDirectory] + arguments, stdin: stdin,
            outputDirectory: tempDirectory + "/out", timeout: timeout, environment: environment)
    }

    /// Runs the runtime under test; variadic form.
    @discardableResult
    func runtime(_ arguments: String...) async throws -> CommandResult {
        try await runtime(arguments)
    }

    /// Runs the runtime and records an issue (and throws) unless it exits 0.
    @discardableResult
    func runtimeSucceeds(
        _ arguments: [String], globalFlags: [String] = [], stdin: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CommandResult {
        let result = try await runtime(arguments, globalFlags: globalFlags, stdin: stdin)
        guard result.succeeded else {
            Issue.record("expected success: \(result)", sourceLocation: sourceLocation)
            throw HarnessError("command failed: \(result.command.joined(separator: " "))")
        }
        return result
    }

    /// Runs any host command (not the runtime) with its output captured.
    @discardableResult
    func host(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)) async throws
        -> CommandResult
    {
        try await runCommand(
            executable, arguments, outputDirectory: tempDirectory + "/out", timeout: timeout)
    }

    /// The runtime's `state ID` as a JSON object (throws if the command fails or prints no object).
    func state(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let result = try await runtimeSucceeds(["state", id], sourceLocation: sourceLocation)
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else {
            Issue.record("state did not print a JSON object: \(result)", sourceLocation: sourceLocation)
            throw HarnessError("bad state output")
        }
        return object
    }

    /// The `status` field of `state ID`.
    func status(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await state(id, sourceLocation: sourceLocation)["status"] as? String ?? "<none>"
    }

    /// The `pid` field of `state ID`.
    func pid(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int32 {
        Int32(try await state(id, sourceLocation: sourceLocation)["pid"] as? Int ?? 0)
    }

    /// Polls `state ID` until it reports `status`; records an issue when it does not within `timeout`.
    func waitForStatus(
        _ id: String, _ status: String, timeout: Duration = .seconds(10),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var last = ""
        let reached = try await waitUntil(timeout: timeout) {
            last = try await self.status(id, sourceLocation: sourceLocation)
            return last == status
        }
        if !reached {
            Issue.record("container \(id) is \(last), expected \(status)", sourceLocation: sourceLocation)
            throw HarnessError("container \(id) did not become \(status)")
        }
    }

    // MARK: bundles and host folders

    /// Makes a bundle folder with config.json built from `config`.
    func makeBundle(_ config: ContainerConfig, rootfs kind: RootfsKind = .shared, name: String? = nil) throws
        -> Bundle
    {
        let bundle = try makeBundleFolder(rootfs: kind, name: name)
        var json = config.json(rootfsPath: kind == .shared ? bundle.rootfs : "rootfs", sharedRootfs: kind == .shared)
        if let path = (json["linux"] as? [String: Any])?["cgroupsPath"] as? String {
            explicitCgroupPaths.withLock { $0.append(path) }
        }
        config.customize?(&json)
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: bundle.configPath))
        return bundle
    }

    /// Makes a bundle whose config.json is exactly `text` (e.g. malformed JSON).
    func makeBundle(rawConfig text: String, rootfs kind: RootfsKind = .shared) throws -> Bundle {
        let bundle = try makeBundleFolder(rootfs: kind, name: nil)
        try Data(text.utf8).write(to: URL(fileURLWithPath: bundle.configPath))
        return bundle
    }

    private func makeBundleFolder(rootfs kind: RootfsKind, name: String?) throws -> Bundle {
        let path = "\(tempDirectory)/\(name ?? "bundle\(nextNumber())")"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        switch kind {
        case .shared:
            return Bundle(path: path, rootfs: try Fixture.busyboxRootfs())
        case .privateCopy:
            let copy = path + "/rootfs"
            let result = try runCommandSync("/bin/cp", ["-a", try Fixture.busyboxRootfs(), copy])
            guard result == 0 else { throw HarnessError("cp -a of the fixture rootfs into \(copy) failed") }
            return Bundle(path: path, rootfs: copy)
        }
    }

    /// Makes a folder on the host, inside the test's temporary folder, and returns its path.
    func makeHostDirectory(_ name: String) throws -> String {
        let path = "\(tempDirectory)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o777)
        return path
    }

    /// Starts a long-running host process that the harness kills at the end of the test.
    func startHostProcess(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        hostProcesses.withLock { $0.append(process) }
        return process
    }

    // MARK: leak checks

    /// Everything the test left behind: state entries, mounts, processes and cgroups. Polls for up to
    /// `settle` while a killed process is still being reaped.
    func leaks(settle: Duration = .seconds(3)) async -> [String] {
        var found = currentLeaks()
        let deadline = ContinuousClock.now + settle
        while !found.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            found = currentLeaks()
        }
        return found
    }

    /// The leaks visible right now.
    func currentLeaks() -> [String] {
        var found: [String] = []
        // Hidden entries (a runtime's lock file, say) are allowed; a container's state is not.
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? [])
            .filter { !$0.hasPrefix(".") }
        if !entries.isEmpty {
            found.append("state folder \(stateDirectory) still holds \(entries.sorted())")
        }
        let sandboxEntries = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory + "/.sandboxes")) ?? []
        if !sandboxEntries.isEmpty {
            found.append("sandbox state \(stateDirectory)/.sandboxes still holds \(sandboxEntries.sorted())")
        }
        for mountPoint in leakedMounts() {
            found.append("mount left at \(mountPoint)")
        }
        for (pid, why) in leakedProcesses() {
            found.append("process \(pid) left (\(why)): \(commandLine(of: pid))")
        }
        for path in leakedCgroups() {
            found.append("cgroup left at \(path)")
        }
        found += leakedNetworkState()
        return found
    }

    private func isUnderTest(_ path: String) -> Bool {
        path == tempDirectory || path.hasPrefix(tempDirectory + "/")
    }

    /// Mount points under the test's folder (or under the shared fixture) in the host mount namespace.
    func leakedMounts() -> [String] {
        let fixture = (try? Fixture.busyboxRootfs()) ?? "/nonexistent-fixture"
        return MountTable.current().map(\.mountPoint).filter {
            (isUnderTest($0) || $0 == fixture || $0.hasPrefix(fixture + "/")) && $0 != protectedBinaryFolder
        }
    }

    /// Processes whose cgroup is named after one of the test's containers or sandboxes, whose command line
    /// names one of its sandboxes (a pause process), or whose cwd or root is in the test's folder; with the
    /// reason. Zombies already handed to the host's init are gone from podrun's hands and not counted.
    func leakedProcesses() -> [(Int32, String)] {
        let ids = Set(cgroupNames)
        let sandboxes = self.sandboxes
        let myPID = getpid()
        let live = hostProcesses.withLock { $0.filter(\.isRunning).map(\.processIdentifier) }
        var found: [(Int32, String)] = []
        for pid in allPIDs() where pid != myPID && !live.contains(pid) {
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2,
               fields[0] == "Z", fields[1] == "1" {
                continue
            }
            if !sandboxes.isEmpty, let raw = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) {
                let words = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                if words.first?.hasSuffix("podrun-pause") == true, words.contains(where: { sandboxes.contains($0) }) {
                    found.append((pid, "the pause process of a test sandbox"))
                    continue
                }
            }
            if let cgroups = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) {
                let inContainer = cgroups.split(separator: "\n").contains { line in
                    guard let path = line.split(separator: ":", maxSplits: 2).last else { return false }
                    return path.split(separator: "/").contains { ids.contains(String($0)) }
                }
                if inContainer {
                    found.append((pid, "in a cgroup of a test container"))
                    continue
                }
            }
            for link in ["cwd", "root"] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/\(link)"),
                    isUnderTest(target)
                {
                    found.append((pid, "\(link) is \(target)"))
                    break
                }
            }
        }
        return found
    }

    /// Cgroup folders named after the test's container ids (or the cgroupsPath its configs named),
    /// under every hierarchy in /sys/fs/cgroup, at the top and under this process's own cgroups.
    func leakedCgroups() -> [String] {
        let ids = cgroupNames
        let explicit = explicitCgroupPaths.withLock { $0 }
        let base = "/sys/fs/cgroup"
        var hierarchies = [base]
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: base) {
            hierarchies += entries.map { "\(base)/\($0)" }.filter { isDirectory($0) }
        }
        var parents: Set<String> = ["/"]
        if let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) {
            for line in own.split(separator: "\n") {
                if let path = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).last {
                    parents.insert(String(path))
                }
            }
        }
        var found: [String] = []
        for hierarchy in hierarchies {
            var candidates: [String] = []
            for parent in parents {
                for id in ids { candidates.append(hierarchy + (parent == "/" ? "" : parent) + "/" + id) }
            }
            for path in explicit where !path.contains(":") {
                candidates.append(hierarchy + (path.hasPrefix("/") ? path : "/" + path))
                for parent in parents where !path.hasPrefix("/") {
                    candidates.append(hierarchy + (parent == "/" ? "" : parent) + "/" + path)
                }
            }
            found += candidates.filter { isDirectory($0) }
        }
        return Array(Set(found)).sorted()
    }

    // MARK: cleanup

    /// Removes whatever the test left: `delete --force` of every id, kills leftover processes, detaches
    /// leftover mounts, removes leftover cgroups and the test's folder.
    func cleanUp() async {
        for process in hostProcesses.withLock({ $0 }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for id in ids {
            _ = try? await runtime(["delete", "--force", id], timeout: .seconds(20))
        }
        for id in sandboxes {
            _ = try? await runtime(["sandbox", "rm", "--force", id], globalFlags: ["--store", tempDirectory + "/store"],
                                   timeout: .seconds(30))
        }
        for (pid, _) in leakedProcesses() {
            kill(pid, SIGKILL)
        }
        if !leakedProcesses().isEmpty {
            try? await Task.sleep(for: .milliseconds(300))
        }
        for mountPoint in leakedMounts().sorted(by: { $0.count > $1.count }) {
            umount2(mountPoint, Int32(MNT_DETACH))
        }
        for path in leakedCgroups().sorted(by: { $0.count > $1.count }) {
            removeCgroup(path)
        }
        removeLeakedNetworkState()
        if let protectedBinaryFolder { umount2(protectedBinaryFolder, Int32(MNT_DETACH)) }
        if leakedMounts().isEmpty {
            try? FileManager.default.removeItem(atPath: tempDirectory)
        } else {
            Issue.record("kept \(tempDirectory): mounts could not be removed")
        }
    }

    private func removeCgroup(_ path: String) {
        if let children = try? FileManager.default.contentsOfDirectory(atPath: path) {
            for child in children where isDirectory(path + "/" + child) {
                removeCgroup(path + "/" + child)
            }
        }
        rmdir(path)
    }
}

/// Runs `body` with a fresh harness, then checks for leaks (each one is a recorded issue) and cleans up.
func withHarness(
    _ name: String = #function, protectedBinary: Bool = false, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Harness) async throws -> Void
) async throws {
    let harness = try Harness(name: name, protectedBinary: protectedBinary)
    var failure: Error?
    do {
        try await body(harness)
    } catch {
        failure = error
    }
    let leaks = await harness.leaks()
    if !leaks.isEmpty {
        Issue.record(
            "left behind after the test:\n  \(leaks.joined(separator: "\n  "))", sourceLocation: sourceLocation)
    }
    await harness.cleanUp()
    if let failure { throw failure }
}

// MARK: small helpers

/// Polls `condition` every 50 ms until it is true or `timeout` passes; returns whether it became true.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Runs a short host command synchronously; returns its exit status.
func runCommandSync(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

func isDirectory(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}

func allPIDs() -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
}

func commandLine(of pid: Int32) -> String {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "?" }
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
}

/// Reads a file as text ("" when it cannot be read).
func readText(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}

/// Parses JSON text into a value (nil when it is not JSON).
func parseJSON(_ text: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

/// One line of /proc/PID/mountinfo.
struct MountEntry: Sendable {
    let root: String
    let mountPoint: String
    let mountOptions: [String]
    let fileSystemType: String
    let source: String
    let superOptions: [String]
}

/// Parses /proc/PID/mountinfo text.
enum MountTable {
    static func current() -> [MountEntry] {
        parse(readText("/proc/self/mountinfo"))
    }

    static func parse(_ text: String) -> [MountEntry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash >= 6, fields.count >= dash + 3 else { return nil }
            return MountEntry(
                root: unescape(fields[3]), mountPoint: unescape(fields[4]),
                mountOptions: fields[5].split(separator: ",").map(String.init),
                fileSystemType: fields[dash + 1], source: fields[dash + 2],
                superOptions: fields.count > dash + 3 ? fields[dash + 3].split(separator: ",").map(String.init) : [])
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
                let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

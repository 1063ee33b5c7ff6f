import Foundation
import OCISpec
import PodrunCore
import Testing
@testable import Cgroups

let hybridMountinfo = """
    30 23 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
    31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
    32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
    33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
    34 30 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
    35 22 0:5 / /proc rw - proc proc rw
    """

let unifiedMountinfo = """
    30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
    """

/// A temporary folder laid out like a cgroupfs, removed at the end.
final class FakeCgroupfs {
    let root: String

    init() {
        root = NSTemporaryDirectory() + "podrun-cgroupfs-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func file(_ path: String, _ content: String = "") {
        let full = root + "/" + path
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: full, contents: Data(content.utf8)), "cannot write \(full)")
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: root + "/" + path, encoding: .utf8) }
}

@Suite struct CgroupHierarchyTests {
    @Test func hybridHostIsDetected() {
        let h = CgroupHierarchy.parse(mountinfo: hybridMountinfo)
        #expect(CgroupHierarchy.mode(of: h) == .hybrid)
        #expect(h.map(\.key) == ["", "name=systemd", "cpu,cpuacct", "memory"])
    }

    @Test func unifiedHostIsDetected() {
        #expect(CgroupHierarchy.mode(of: CgroupHierarchy.parse(mountinfo: unifiedMountinfo)) == .unified)
    }

    @Test func legacyHostIsDetected() {
        let legacy = hybridMountinfo.split(separator: "\n").filter { !$0.contains("cgroup2") }.joined(separator: "\n")
        #expect(CgroupHierarchy.mode(of: CgroupHierarchy.parse(mountinfo: legacy)) == .legacy)
    }

    @Test func procCgroupIsKeyedByControllers() {
        let own = CgroupHierarchy.parse(procCgroup: "4:memory:/a/b\n1:name=systemd:/\n0::/init.scope\n")
        #expect(own["memory"] == "/a/b" && own["name=systemd"] == "/" && own[""] == "/init.scope")
    }
}

@Suite struct CgroupPathTests {
    let hierarchies = CgroupHierarchy.parse(mountinfo: hybridMountinfo)
    let own = ["memory": "/user/1", "cpu,cpuacct": "/", "name=systemd": "/", "": "/"]

    func directories(_ path: String?) throws -> [String: String] {
        try Cgroups.manager(cgroupsPath: path, containerID: "c1", hierarchies: hierarchies, ownCgroups: own).directories
    }

    @Test func absolutePathStartsAtEachRoot() throws {
        let d = try directories("/default/c1")
        #expect(d["/sys/fs/cgroup/memory"] == "/sys/fs/cgroup/memory/default/c1")
        #expect(d["/sys/fs/cgroup/unified"] == "/sys/fs/cgroup/unified/default/c1")
    }

    @Test func relativePathIsBelowTheRuntimesOwnCgroup() throws {
        let d = try directories("pods/c1")
        #expect(d["/sys/fs/cgroup/memory"] == "/sys/fs/cgroup/memory/user/1/pods/c1")
        #expect(d["/sys/fs/cgroup/cpu,cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct/pods/c1")
    }

    @Test func noPathMeansTheContainerIDRelatively() throws {
        #expect(try directories(nil)["/sys/fs/cgroup/memory"] == "/sys/fs/cgroup/memory/user/1/c1")
    }

    @Test func aHybridHostJoinsV1ThroughTasksFilesAndTheUnifiedFolderByClone() throws {
        let join = try Cgroups.manager(cgroupsPath: "/default/c1", containerID: "c1", hierarchies: hierarchies,
                                       ownCgroups: own).join
        #expect(join.taskFiles == ["/sys/fs/cgroup/systemd/default/c1/tasks", "/sys/fs/cgroup/cpu,cpuacct/default/c1/tasks",
                                   "/sys/fs/cgroup/memory/default/c1/tasks"])
        #expect(join.unifiedDirectory == "/sys/fs/cgroup/unified/default/c1")
    }

    @Test func aUnifiedHostJoinsOnlyByClone() throws {
        let join = try Cgroups.manager(cgroupsPath: "/default/c1", containerID: "c1",
                                       hierarchies: CgroupHierarchy.parse(mountinfo: unifiedMountinfo), ownCgroups: [:]).join
        #expect(join.taskFiles.isEmpty)
        #expect(join.unifiedDirectory == "/sys/fs/cgroup/default/c1")
    }

    @Test func systemdAndDotDotPathsAreRefused() {
        #expect(throws: PodrunError.self) { try directories("system.slice:docker:c1") }
        #expect(throws: PodrunError.self) { try directories("/a/../../etc") }
    }
}

@Suite struct CgroupV1ResourceTests {
    func manager(_ fs: FakeCgroupfs) -> CgroupV1Manager {
        let hierarchies = ["memory", "cpu", "cpuset", "pids", "devices", "blkio", "hugetlb"].map {
            CgroupHierarchy(mountPoint: fs.root + "/" + $0, controllers: [$0], isUnified: false)
        }
        return CgroupV1Manager(path: "/c", directoriesByHierarchy: hierarchies.map { ($0, $0.mountPoint + "/c") })
    }

    func files(_ fs: FakeCgroupfs, _ names: [String]) {
        for name in names { fs.file(name) }
    }

    @Test func everyResourceGoesToItsFile() throws {
        let fs = FakeCgroupfs()
        files(fs, ["memory/c/memory.limit_in_bytes", "memory/c/memory.soft_limit_in_bytes", "memory/c/memory.swappiness",
                   "cpu/c/cpu.shares", "cpu/c/cpu.cfs_quota_us", "cpu/c/cpu.cfs_period_us", "cpuset/c/cpuset.cpus",
                   "pids/c/pids.max", "blkio/c/blkio.weight", "blkio/c/blkio.throttle.read_bps_device",
                   "hugetlb/c/hugetlb.2MB.limit_in_bytes"])
        try manager(fs).set(LinuxResources(
            memory: LinuxMemory(limit: 1 << 20, reservation: 1 << 19, swappiness: 10),
            cpu: LinuxCPU(shares: 512, quota: 50000, period: 100_000, cpus: "0"),
            pids: LinuxPids(limit: 42),
            blockIO: LinuxBlockIO(weight: 300, throttleReadBpsDevice: [LinuxThrottleDevice(major: 8, minor: 0, rate: 1000)]),
            hugepageLimits: [LinuxHugepageLimit(pageSize: "2MB", limit: 4096)]))
        #expect(fs.read("memory/c/memory.limit_in_bytes") == "1048576")
        #expect(fs.read("memory/c/memory.soft_limit_in_bytes") == "524288")
        #expect(fs.read("memory/c/memory.swappiness") == "10")
        #expect(fs.read("cpu/c/cpu.shares") == "512")
        #expect(fs.read("cpu/c/cpu.cfs_quota_us") == "50000")
        #expect(fs.read("cpu/c/cpu.cfs_period_us") == "100000")
        #expect(fs.read("cpuset/c/cpuset.cpus") == "0")
        #expect(fs.read("pids/c/pids.max") == "42")
        #expect(fs.read("blkio/c/blkio.weight") == "300")
        #expect(fs.read("blkio/c/blkio.throttle.read_bps_device") == "8:0 1000")
        #expect(fs.read("hugetlb/c/hugetlb.2MB.limit_in_bytes") == "4096")
    }

    @Test func unlimitedPidsIsMax() throws {
        let fs = FakeCgroupfs()
        files(fs, ["pids/c/pids.max"])
        try manager(fs).set(LinuxResources(pids: LinuxPids(limit: -1)))
        #expect(fs.read("pids/c/pids.max") == "max")
    }

    @Test func unifiedResourcesAreRefusedOnV1() {
        let fs = FakeCgroupfs()
        #expect(throws: PodrunError.self) { try manager(fs).set(LinuxResources(unified: ["memory.high": "1"])) }
    }

    @Test func deviceRulesDenyAllThenAllowRuncsDefaults() {
        let writes = DeviceRules.v1Writes([LinuxDeviceCgroup(allow: false, access: "rwm")] + DeviceRules.runcAllowed)
        #expect(writes.first?.file == "devices.deny" && writes.first?.line == "a *:* rwm")
        #expect(writes.contains { $0.file == "devices.allow" && $0.line == "c 1:3 rwm" })
        #expect(writes.contains { $0.line == "c 136:* rwm" })
    }
}

@Suite struct CgroupV2ResourceTests {
    @Test func sharesConvertToWeightAsRunc() {
        #expect(CgroupV2Manager.weight(fromShares: 2) == 1)
        #expect(CgroupV2Manager.weight(fromShares: 1024) == 39)
        #expect(CgroupV2Manager.weight(fromShares: 262_144) == 10000)
    }

    @Test func resourcesGoToV2Files() throws {
        let fs = FakeCgroupfs()
        for f in ["memory.max", "memory.swap.max", "cpu.weight", "cpu.max", "pids.max", "io.weight", "memory.high"] {
            fs.file("c/" + f)
        }
        let m = CgroupV2Manager(path: "/c", directory: fs.root + "/c", mountPoint: fs.root)
        try m.set(LinuxResources(
            memory: LinuxMemory(limit: 1000, swap: 3000), cpu: LinuxCPU(shares: 1024, quota: 20000, period: 100_000),
            pids: LinuxPids(limit: 5), blockIO: LinuxBlockIO(weight: 500), unified: ["memory.high": "900"]))
        #expect(fs.read("c/memory.max") == "1000")
        #expect(fs.read("c/memory.swap.max") == "2000")
        #expect(fs.read("c/cpu.weight") == "39")
        #expect(fs.read("c/cpu.max") == "20000 100000")
        #expect(fs.read("c/pids.max") == "5")
        #expect(fs.read("c/io.weight") == "default 4950")
        #expect(fs.read("c/memory.high") == "900")
    }

    /// A v2 manager on a fake cgroupfs whose cgroup `c` offers `controllers`.
    func manager(offering controllers: String) -> (FakeCgroupfs, CgroupV2Manager) {
        let fs = FakeCgroupfs()
        fs.file("c/cgroup.controllers", controllers + "\n")
        return (fs, CgroupV2Manager(path: "/c", directory: fs.root + "/c", mountPoint: fs.root))
    }

    @Test func aLimitOfAControllerTheCgroupLacksNamesTheFieldAndTheController() {
        let (fs, m) = manager(offering: "hugetlb")
        #expect {
            try m.set(LinuxResources(memory: LinuxMemory(limit: 1000)))
        } throws: { error in
            let e = error as? PodrunError
            return e?.code == .invalidSpec && e?.path == "linux.resources.memory.limit"
                && e?.message.contains("the memory controller is not available") == true
                && e?.message.contains("(available: hugetlb)") == true
        }
        #expect(fs.read("c/memory.max") == nil)
    }

    @Test func aMissingFileOfAnAvailableControllerKeepsTheWriteError() {
        let (fs, m) = manager(offering: "memory pids")
        #expect {
            try m.set(LinuxResources(pids: LinuxPids(limit: 5)))
        } throws: { error in
            let e = error as? PodrunError
            return e?.path == fs.root + "/c/pids.max" && e?.message.hasPrefix("write 5 to") == true
        }
    }

    @Test func unifiedKeysCannotLeaveTheCgroup() {
        let fs = FakeCgroupfs()
        let m = CgroupV2Manager(path: "/c", directory: fs.root + "/c", mountPoint: fs.root)
        #expect(throws: PodrunError.self) { try m.set(LinuxResources(unified: ["../memory.max": "1"])) }
    }

    @Test func createEnablesControllersDownThePath() throws {
        let fs = FakeCgroupfs()
        fs.file("cgroup.controllers", "cpu memory pids")
        fs.file("cgroup.subtree_control", "")
        let m = CgroupV2Manager(path: "/c", directory: fs.root + "/c", mountPoint: fs.root)
        try m.create()
        #expect(FileManager.default.fileExists(atPath: fs.root + "/c"))
        // A plain file keeps the writes overlaid at offset 0; the kernel's file accumulates them. The last write
        // is the last controller offered, so the loop reached it.
        #expect(fs.read("cgroup.subtree_control")?.hasPrefix("+pids") == true)
    }

    @Test func destroyOfAMissingCgroupIsFine() throws {
        let fs = FakeCgroupfs()
        try CgroupV2Manager(path: "/gone", directory: fs.root + "/gone", mountPoint: fs.root).destroy()
    }
}

/// On this machine's real cgroup v1 hierarchies (root only).
@Suite(.enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/sys/fs/cgroup/freezer")))
struct RealCgroupV1Tests {
    @Test func processJoinsFreezesThawsAndLeavesNothing() throws {
        let id = "podrun-test-\(getpid())"
        let m = try Cgroups.manager(cgroupsPath: "/\(id)", containerID: id)
        try m.create()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        try child.run()
        defer {
            // SIGKILL: the test runner's children may inherit a blocked SIGTERM.
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            try? m.destroy()
            #expect(!m.exists())
        }
        try m.apply(pid: child.processIdentifier)
        #expect(try m.pids().contains(child.processIdentifier))
        try m.set(LinuxResources(pids: LinuxPids(limit: 7)))
        #expect(try String(contentsOfFile: "/sys/fs/cgroup/pids/\(id)/pids.max", encoding: .utf8) == "7\n")
        try m.freeze()
        #expect(try m.isFrozen())
        let status = try String(contentsOfFile: "/proc/\(child.processIdentifier)/status", encoding: .utf8)
        #expect(status.contains("State:\tD") || status.contains("State:\tS"))
        try m.thaw()
        #expect(try !m.isFrozen())
        #expect(try m.stats().pids.current == 1)
    }
}

extension RealCgroupV1Tests {
    @Test func foldersStartedOnAThreadGetTheirCpusetValuesAndDeviceRules() throws {
        let id = "podrun-test-batch-\(getpid())"
        let m = try Cgroups.manager(cgroupsPath: "/\(id)", containerID: id)
        // The same cgroup made the plain way, to compare with.
        let plainID = "podrun-test-plain-\(getpid())"
        let plain = try Cgroups.manager(cgroupsPath: "/\(plainID)", containerID: plainID)
        defer {
            try? m.destroy()
            try? plain.destroy()
            #expect(!m.exists())
            #expect(!plain.exists())
        }
        let devices = [LinuxDeviceCgroup(allow: false, access: "rwm"),
                       LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm"),
                       LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rw")]
        let batch = m.startLegacy(devices: devices, copyingMountsWith: nil)
        #expect(batch != nil)
        try m.createLegacy(after: batch, devices: devices)
        try plain.create()
        try plain.set(LinuxResources(devices: devices))
        // devices.allow takes one rule per write: the allows are all there only if each went in a write of its own.
        let list = try String(contentsOfFile: "/sys/fs/cgroup/devices/\(id)/devices.list", encoding: .utf8)
        #expect(list.hasPrefix("c 1:3 rwm\n") && !list.contains("a *:*"), "\(list)")
        #expect(list == (try String(contentsOfFile: "/sys/fs/cgroup/devices/\(plainID)/devices.list", encoding: .utf8)))
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let parent = try String(contentsOfFile: "/sys/fs/cgroup/cpuset/\(file)", encoding: .utf8)
            #expect(try String(contentsOfFile: "/sys/fs/cgroup/cpuset/\(id)/\(file)", encoding: .utf8) == parent)
        }
    }

    @Test func foldersStartedOnAThreadComeWithTheJoinsTasksFilesAndReadOnlyMountCopies() throws {
        let id = "podrun-test-handover-\(getpid())"
        let m = try Cgroups.manager(cgroupsPath: "/\(id)", containerID: id)
        defer {
            try? m.destroy()
            #expect(!m.exists())
        }
        let batch = try #require(m.startLegacy(devices: nil, copyingMountsWith: MountAttributes(remountFlags: 1)))
        try m.createLegacy(after: batch, devices: nil)
        let opened = batch.takeOpened()
        let copies = batch.takeMountCopies()
        defer { for descriptor in opened + copies where descriptor >= 0 { close(descriptor) } }
        // The process joins through these in the order of the join's task files.
        #expect(batch.paths.map { $0 + "/tasks" } == m.join.taskFiles)
        for index in batch.paths.indices {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(opened[index])")
                    == batch.paths[index] + "/tasks")
            var copied = stat()
            var folder = stat()
            #expect(fstat(copies[index], &copied) == 0 && stat(batch.paths[index], &folder) == 0)
            #expect(copied.st_ino == folder.st_ino && copied.st_dev == folder.st_dev, "\(batch.paths[index])")
            var flags = statvfs()
            #expect(fstatvfs(copies[index], &flags) == 0 && flags.f_flag & UInt(ST_RDONLY) != 0)
        }
    }
}

/// Joining the v1 hierarchies: through the descriptors the runtime sent, by path for the others.
@Suite struct CgroupJoinTests {
    @Test func eachTaskFileIsWrittenThroughItsDescriptorWhenItHasOneElseByPathAndTheDescriptorsAreClosed() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-join-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: base) }
        // Plain files stand in for the tasks files (a write of 0 to a real one moves the writer).
        let files = (0..<4).map { base + "/tasks\($0)" }
        for file in files { FileManager.default.createFile(atPath: file, contents: nil) }
        // Descriptors for files 1 and 3, of stand-ins elsewhere, so that a write by path would miss them.
        let through = [base + "/through1", base + "/through3"]
        for file in through { FileManager.default.createFile(atPath: file, contents: nil) }
        let descriptors = through.map { open($0, O_WRONLY | O_CLOEXEC) }
        try #require(descriptors.allSatisfy { $0 >= 0 })
        let inodes = descriptors.map { descriptor -> ino_t in
            var st = stat()
            fstat(descriptor, &st)
            return st.st_ino
        }
        try CgroupJoin(taskFiles: files, unifiedDirectory: nil)
            .enterLegacyHierarchies(opened: 0b1010, descriptors: descriptors)
        #expect(try files.map { try String(contentsOfFile: $0, encoding: .utf8) } == ["0", "", "0", ""])
        #expect(try through.map { try String(contentsOfFile: $0, encoding: .utf8) } == ["0", "0"])
        // Closed: each number is free, or (another test's thread opened something meanwhile) another file.
        for (descriptor, inode) in zip(descriptors, inodes) {
            var st = stat()
            #expect(fstat(descriptor, &st) != 0 || st.st_ino != inode, "descriptor \(descriptor) still open")
        }
    }
}

/// Making a container's cgroup folder: the folders made (removed again when a create fails), and nothing more.
@Suite struct CgroupFolderTests {
    @Test func onlyTheFoldersThatWereMissingAreReportedAsMade() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-cgtree-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: base) }
        #expect(try CgroupTree.make(base + "/pod/a/b", below: base) == [base + "/pod", base + "/pod/a", base + "/pod/a/b"])
        #expect(try CgroupTree.make(base + "/pod/a/c", below: base) == [base + "/pod/a/c"])
        #expect(try CgroupTree.make(base + "/pod/a/c", below: base) == [])
        #expect(FileManager.default.fileExists(atPath: base + "/pod/a/b"))
        FileManager.default.createFile(atPath: base + "/file", contents: nil)
        #expect(throws: PodrunError.self) { try CgroupTree.make(base + "/file/x", below: base) }
    }
}

/// The v1 folders made on a thread of their own while the runtime clones.
@Suite struct FolderBatchTests {
    @Test func eachFolderGetsItsMkdirResultAndIsThereOnceWaitedFor() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let paths = [base + "/new", base + "/exists", base + "/missing/child"]
        let batch = try #require(FolderBatch(making: paths))
        #expect(batch.wait().folders == [0, EEXIST, ENOENT])
        #expect(batch.wait().folders == [0, EEXIST, ENOENT], "a second wait gives the same results")
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: base + "/new", isDirectory: &isFolder) && isFolder.boolValue)
        #expect(!FileManager.default.fileExists(atPath: base + "/missing"))
    }

    @Test func filesAreWrittenOnlyInTheFoldersTheBatchMade() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        // O_WRONLY without O_CREAT, as for cgroup files: the test's files are made first, in the made folder by
        // no one (so that write fails with ENOENT) and in the existing one by the test.
        FileManager.default.createFile(atPath: base + "/exists/kept", contents: Data("before".utf8))
        let batch = try #require(FolderBatch(making: [base + "/new", base + "/exists"], thenWriting: [
            FolderBatch.Write(folder: 0, file: base + "/new/absent", lines: ["x"]),
            FolderBatch.Write(folder: 1, file: base + "/exists/kept", lines: ["after"]),
        ]))
        let results = batch.wait()
        #expect(results.folders == [0, EEXIST])
        #expect(results.writes == [ENOENT, -1], "a write is tried in a folder made, skipped in one that was there")
        #expect(try String(contentsOfFile: base + "/exists/kept", encoding: .utf8) == "before")
    }

    @Test func aFileIsOpenedInEachFolderMadeOrFoundAndHandedOverOnce() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        FileManager.default.createFile(atPath: base + "/exists/tasks", contents: nil)
        let batch = try #require(FolderBatch(making: [base + "/new", base + "/exists", base + "/missing/child"],
                                             opening: "tasks"))
        let opened = batch.takeOpened()
        defer { for descriptor in opened where descriptor >= 0 { close(descriptor) } }
        // Opened write-only without O_CREAT, as a cgroup file: the new folder has none, the missing one is not made.
        #expect(opened[0] == -1 && opened[2] == -1)
        #expect(opened[1] >= 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(opened[1])") == base + "/exists/tasks")
        #expect(write(opened[1], "0", 1) == 1)
        #expect(try String(contentsOfFile: base + "/exists/tasks", encoding: .utf8) == "0")
        #expect(batch.takeOpened() == [-1, -1, -1], "the descriptors are handed over once")
        #expect(batch.takeMountCopies() == [-1, -1, -1], "no mount copies unless asked for")
    }

    @Test(.enabled(if: getuid() == 0))
    func eachFolderMadeOrFoundGetsADetachedMountCopyWithTheAttributesAsked() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/exists", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let attributes = MountAttributes(remountFlags: MountOptions.parse(["ro", "nosuid", "nodev", "noexec"]).flags)
        let paths = [base + "/new", base + "/exists", base + "/missing/child"]
        let batch = try #require(FolderBatch(making: paths, copyingMountsWith: attributes))
        let copies = batch.takeMountCopies()
        defer { for descriptor in copies where descriptor >= 0 { close(descriptor) } }
        #expect(copies[2] == -1)
        for index in 0..<2 {
            let copy = copies[index]
            try #require(copy >= 0)
            // The copy's root is the folder, and it is read-only, nosuid, nodev and noexec, unlike the folder's mount.
            var copied = stat()
            var folder = stat()
            #expect(fstat(copy, &copied) == 0 && stat(paths[index], &folder) == 0)
            #expect(copied.st_ino == folder.st_ino && copied.st_dev == folder.st_dev)
            var flags = statvfs()
            #expect(fstatvfs(copy, &flags) == 0)
            let wanted: UInt = 1 | 2 | 4 | 8  // ST_RDONLY, ST_NOSUID, ST_NODEV, ST_NOEXEC (the last two not in Glibc's module)
            #expect(flags.f_flag & wanted == wanted, "f_flag \(flags.f_flag)")
        }
        var own = statvfs()
        #expect(statvfs(base, &own) == 0 && own.f_flag & UInt(ST_RDONLY) == 0, "the folders' own mount is unchanged")
        #expect(batch.takeMountCopies() == [-1, -1, -1], "the copies are handed over once")
    }

    @Test func aBatchNobodyWaitedForIsDoneWhenItGoes() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let paths = (0..<50).map { base + "/f\($0)" }
        do { _ = FolderBatch(making: paths) }
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
    }

    @Test func theManagerFinishesWhatTheBatchStartedAndMakesMissingParents() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("podrun-batch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: base + "/cpu", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/pids", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let folders = [base + "/cpu/pod/c1", base + "/pids/c1"]
        let batch = try #require(FolderBatch(making: folders))
        // The batch's mkdir of cpu/pod/c1 fails (ENOENT): the walk makes pod, then c1.
        let results = batch.wait().folders
        #expect(results == [ENOENT, 0])
        #expect(try CgroupTree.make(folders[0], below: base + "/cpu", firstAttempt: results[0])
                == [base + "/cpu/pod", base + "/cpu/pod/c1"])
        #expect(try CgroupTree.make(folders[1], below: base + "/pids", firstAttempt: results[1]) == [folders[1]])
        #expect(throws: PodrunError.self) {
            try CgroupTree.make(base + "/x", below: base, firstAttempt: EACCES)
        }
    }
}

import Foundation
import Glibc
import ImageStore
import LinuxSys
import PodrunCore
import Testing

/// A temp folder holding a layer tar built by python3's tarfile, the target folder `root/fs`, and a sentinel
/// folder `outside` beside it that hostile layers aim at.
private struct LayerCase {
    let base: String
    var tar: String { base + "/layer.tar" }
    var target: String { base + "/root/fs" }
    var outside: String { base + "/outside" }

    /// Builds the layer with `body`, python statements using the helpers below, compressed with `compression`
    /// (`''`, `gz`, `bz2`, `xz`, or `zst` through the zstd tool).
    init(compression: String = "", _ body: String) throws {
        base = NSTemporaryDirectory() + "layer-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base + "/root/fs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
        try "secret\n".write(toFile: base + "/outside/secret", atomically: false, encoding: .utf8)
        let script = """
        import io, sys, tarfile
        out, mode, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
        t = tarfile.open(out, mode, format=tarfile.PAX_FORMAT)
        def add(name, kind, data=b'', mode=0o644, uid=0, gid=0, mtime=1000000000, target='', major=0, minor=0, xattrs=None):
            i = tarfile.TarInfo(name)
            i.type, i.mode, i.uid, i.gid, i.mtime, i.linkname = kind, mode, uid, gid, mtime, target
            i.devmajor, i.devminor = major, minor
            if xattrs:
                i.pax_headers = {'SCHILY.xattr.' + k: v for k, v in xattrs.items()}
            if kind == tarfile.REGTYPE:
                i.size = len(data)
                t.addfile(i, io.BytesIO(data))
            else:
                t.addfile(i)
        def f(name, data=b'', **kw): add(name, tarfile.REGTYPE, data, **kw)
        def d(name, mode=0o755, **kw): add(name, tarfile.DIRTYPE, mode=mode, **kw)
        def l(name, target, **kw): add(name, tarfile.SYMTYPE, mode=0o777, target=target, **kw)
        def h(name, target, **kw): add(name, tarfile.LNKTYPE, target=target, **kw)
        def c(name, major, minor, **kw): add(name, tarfile.CHRTYPE, major=major, minor=minor, **kw)
        def p(name, **kw): add(name, tarfile.FIFOTYPE, **kw)
        \(body)
        t.close()
        """
        let mode = compression.isEmpty || compression == "zst" ? "w" : "w:" + compression
        try Fixture.run(["python3", "-c", script, tar, mode, outside])
        if compression == "zst" {
            try Fixture.run(["zstd", "-q", "--rm", tar, "-o", tar + ".zst"])
            try FileManager.default.moveItem(atPath: tar + ".zst", toPath: tar)
        }
    }

    func unpack(_ limits: UnpackLimits = .init()) throws -> UnpackSummary {
        try LayerUnpacker(limits: limits).unpack(layerAt: tar, into: target)
    }

    /// Unpacks, expecting a refusal whose message contains `text`, and checks that nothing was written
    /// outside the target folder.
    func expectRefusal(_ text: String, _ limits: UnpackLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try unpack(limits)
            Issue.record("the layer was unpacked", sourceLocation: sourceLocation)
        } catch let error as PodrunError {
            #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        let outsideNames = (try? FileManager.default.contentsOfDirectory(atPath: outside)) ?? []
        #expect(outsideNames == ["secret"], "written outside: \(outsideNames)", sourceLocation: sourceLocation)
        #expect((try? String(contentsOfFile: outside + "/secret", encoding: .utf8)) == "secret\n",
                sourceLocation: sourceLocation)
        let rootNames = (try? FileManager.default.contentsOfDirectory(atPath: base + "/root")) ?? []
        #expect(rootNames == ["fs"], "written beside the target: \(rootNames)", sourceLocation: sourceLocation)
        let baseNames = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted()
        #expect(baseNames == ["layer.tar", "outside", "root"], "written beside: \(baseNames)", sourceLocation: sourceLocation)
    }

    func stat(_ name: String) -> stat? {
        var st = Glibc.stat()
        return lstat(target + "/" + name, &st) == 0 ? st : nil
    }

    func read(_ name: String) -> String? {
        try? String(contentsOfFile: target + "/" + name, encoding: .utf8)
    }

    func exists(_ name: String) -> Bool { stat(name) != nil }

    func remove() {
        try? FileManager.default.removeItem(atPath: base)
    }
}

@Test func regularFilesKeepContentModeOwnerAndTime() throws {
    let layer = try LayerCase("""
    d('etc', mode=0o750, uid=7, gid=8, mtime=1100000000)
    f('etc/conf', b'hello\\n', mode=0o640, uid=1234, gid=5678, mtime=1000000123)
    f('./bin/su', b'#!', mode=0o4755, uid=0, gid=0)
    f('bin/grp', b'', mode=0o2711, uid=3, gid=4)
    d('tmp', mode=0o1777)
    """)
    defer { layer.remove() }
    let summary = try layer.unpack()
    #expect(summary.entries == 5)
    #expect(summary.bytes == 8)
    #expect(layer.read("etc/conf") == "hello\n")
    let conf = try #require(layer.stat("etc/conf"))
    #expect(conf.st_mode & 0o7777 == 0o640)
    #expect(conf.st_uid == 1234 && conf.st_gid == 5678)
    #expect(conf.st_mtim.tv_sec == 1_000_000_123)
    let etc = try #require(layer.stat("etc"))
    #expect(etc.st_mode & S_IFMT == S_IFDIR && etc.st_mode & 0o7777 == 0o750)
    #expect(etc.st_uid == 7 && etc.st_gid == 8)
    #expect(etc.st_mtim.tv_sec == 1_100_000_000)
    #expect(try #require(layer.stat("bin/su")).st_mode & 0o7777 == 0o4755)
    let grp = try #require(layer.stat("bin/grp"))
    #expect(grp.st_mode & 0o7777 == 0o2711 && grp.st_uid == 3 && grp.st_gid == 4)
    #expect(try #require(layer.stat("tmp")).st_mode & 0o7777 == 0o1777)
    #expect(try #require(layer.stat("bin")).st_mode & 0o7777 == 0o755)
}

@Test func symlinksKeepTheirTextVerbatimAndOwner() throws {
    let layer = try LayerCase("""
    l('abs', '/etc/passwd', uid=5, gid=6, mtime=1200000000)
    l('rel', '../../outside/secret')
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: layer.target + "/abs") == "/etc/passwd")
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: layer.target + "/rel") == "../../outside/secret")
    let abs = try #require(layer.stat("abs"))
    #expect(abs.st_uid == 5 && abs.st_gid == 6)
    #expect(abs.st_mtim.tv_sec == 1_200_000_000)
}

@Test func hardlinkSharesTheInodeOfItsTarget() throws {
    let layer = try LayerCase("""
    f('a/file', b'data', mode=0o600, uid=9)
    h('b/link', 'a/file')
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    let file = try #require(layer.stat("a/file"))
    let link = try #require(layer.stat("b/link"))
    #expect(file.st_ino == link.st_ino)
    #expect(file.st_nlink == 2)
    #expect(layer.read("b/link") == "data")
}

@Test func fifosAndDeviceNodesAreMade() throws {
    let layer = try LayerCase("""
    p('dev/fifo', mode=0o620, uid=11)
    c('dev/null', 1, 3, mode=0o666)
    add('dev/loop0', tarfile.BLKTYPE, major=7, minor=0, mode=0o660, gid=6)
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    let fifo = try #require(layer.stat("dev/fifo"))
    #expect(fifo.st_mode & S_IFMT == S_IFIFO && fifo.st_mode & 0o7777 == 0o620 && fifo.st_uid == 11)
    let null = try #require(layer.stat("dev/null"))
    #expect(null.st_mode & S_IFMT == S_IFCHR && null.st_mode & 0o7777 == 0o666)
    #expect(null.st_rdev == (1 << 8 | 3))
    let loop = try #require(layer.stat("dev/loop0"))
    #expect(loop.st_mode & S_IFMT == S_IFBLK && loop.st_rdev == 7 << 8 && loop.st_gid == 6)
}

@Test func xattrsAreKeptButOverlayOnesFromTheTarAreDropped() throws {
    let layer = try LayerCase("""
    d('dir', xattrs={'trusted.overlay.opaque': 'y', 'user.note': 'kept'})
    f('dir/file', b'x', xattrs={'user.one': 'value', 'trusted.two': 'v2', 'security.capability': '\\x01\\x00\\x00\\x02\\x00\\x20\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00'})
    l('dir/link', 'file', xattrs={'trusted.on.link': 'l'})
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(try ExtendedAttributes.get(layer.target + "/dir/file", "user.one") == Array("value".utf8))
    #expect(try ExtendedAttributes.get(layer.target + "/dir/file", "trusted.two") == Array("v2".utf8))
    #expect(try ExtendedAttributes.get(layer.target + "/dir/file", "security.capability")?.count == 20)
    #expect(try ExtendedAttributes.get(layer.target + "/dir", "user.note") == Array("kept".utf8))
    #expect(try ExtendedAttributes.get(layer.target + "/dir", "trusted.overlay.opaque") == nil)
    #expect(try ExtendedAttributes.get(layer.target + "/dir/link", "trusted.on.link") == Array("l".utf8))
}

@Test func whiteoutBecomesARootOwnedCharacterDeviceZero() throws {
    let layer = try LayerCase("""
    f('a/x', b'old')
    f('a/.wh.x', uid=5)
    f('.wh.gone')
    d('a/.wh.dir')
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    for name in ["a/x", "gone"] {
        let st = try #require(layer.stat(name))
        #expect(st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0 && st.st_uid == 0 && st.st_gid == 0, "\(name)")
    }
    #expect(try #require(layer.stat("a/dir")).st_mode & S_IFMT == S_IFCHR)
    #expect(!layer.exists(".wh.gone") && !layer.exists("a/.wh.x") && !layer.exists("a/.wh.dir"))
}

@Test func opaqueMarkerSetsTheOverlayXattrAndAufsMetadataIsSkipped() throws {
    let layer = try LayerCase("""
    d('etc')
    f('etc/.wh..wh..opq')
    f('etc/keep', b'k')
    d('.wh..wh.plnk')
    f('.wh..wh.plnk/123.4', b'z')
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(try ExtendedAttributes.get(layer.target + "/etc", "trusted.overlay.opaque") == Array("y".utf8))
    #expect(try ExtendedAttributes.get(layer.target, "trusted.overlay.opaque") == nil)
    #expect(layer.read("etc/keep") == "k")
    #expect(!layer.exists("etc/.wh..wh..opq"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: layer.target).sorted() == ["etc"])
}

@Test func laterEntryReplacesAnEarlierOneOfTheSameName() throws {
    let layer = try LayerCase("""
    f('file', b'first')
    f('file', b'second', mode=0o600)
    f('becomes-dir', b'x')
    d('becomes-dir')
    d('keeps', mode=0o755)
    f('keeps/child', b'c')
    d('keeps', mode=0o700, uid=3)
    d('becomes-file')
    f('becomes-file/child', b'c')
    f('becomes-file', b'now a file')
    f('becomes-link', b'x')
    l('becomes-link', 'file')
    """)
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(layer.read("file") == "second")
    #expect(try #require(layer.stat("file")).st_mode & 0o7777 == 0o600)
    #expect(try #require(layer.stat("becomes-dir")).st_mode & S_IFMT == S_IFDIR)
    let keeps = try #require(layer.stat("keeps"))
    #expect(keeps.st_mode & 0o7777 == 0o700 && keeps.st_uid == 3)
    #expect(layer.read("keeps/child") == "c")
    #expect(layer.read("becomes-file") == "now a file")
    #expect(try #require(layer.stat("becomes-link")).st_mode & S_IFMT == S_IFLNK)
}

@Test func gzipAndZstdLayersUnpack() throws {
    for compression in ["gz", "zst"] {
        let layer = try LayerCase(compression: compression, "f('dir/file', b'compressed ' * 1000)")
        defer { layer.remove() }
        let summary = try layer.unpack()
        #expect(summary.bytes == 11000, "\(compression)")
        #expect(layer.read("dir/file") == String(repeating: "compressed ", count: 1000), "\(compression)")
    }
}

@Test func dotDotEntryIsRefused() throws {
    let layer = try LayerCase("f('../evil', b'x')\nf('a/../../evil2', b'x')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (.. component)")
}

@Test func absoluteEntryIsRefused() throws {
    let layer = try LayerCase("f(OUT + '/abs', b'x')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (absolute name)")
}

@Test func entryThroughAnAbsoluteSymlinkIsRefused() throws {
    let layer = try LayerCase("l('a', OUT)\nf('a/f', b'escaped')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (a parent is a symlink)")
}

@Test func entryThroughARelativeSymlinkIsRefused() throws {
    let layer = try LayerCase("d('d')\nl('d/up', '../../../outside')\nf('d/up/f', b'escaped')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (a parent is a symlink)")
}

@Test func directoryReplacingASymlinkIsMadeInsideTheLayer() throws {
    let layer = try LayerCase("l('a', OUT)\nd('a')\nf('a/f', b'inside')")
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(layer.read("a/f") == "inside")
    #expect(try FileManager.default.contentsOfDirectory(atPath: layer.outside) == ["secret"])
}

@Test func hardlinkOutOfTheLayerIsRefused() throws {
    let layer = try LayerCase("h('passwd', '../../etc/passwd')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (.. component)")
    #expect(!layer.exists("passwd"))
}

@Test func hardlinkThroughASymlinkIsRefused() throws {
    let layer = try LayerCase("l('s', OUT)\nh('stolen', 's/secret')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (a parent is a symlink)")
    #expect(!layer.exists("stolen"))
}

@Test func hardlinkToAMissingEntryIsRefused() throws {
    let layer = try LayerCase("h('link', 'nowhere')")
    defer { layer.remove() }
    layer.expectRefusal("not in the layer")
}

@Test func whiteoutThroughASymlinkIsRefused() throws {
    let layer = try LayerCase("l('s', OUT)\nf('s/.wh.secret')\nf('s/.wh..wh..opq')")
    defer { layer.remove() }
    layer.expectRefusal("escapes the layer folder (a parent is a symlink)")
    #expect(try ExtendedAttributes.get(layer.outside, "trusted.overlay.opaque") == nil)
}

@Test func overlongNamesAreRefused() throws {
    let long = try LayerCase("f('a' * 100 + '/' + 'b' * 4900, b'x')")
    defer { long.remove() }
    long.expectRefusal("is 5001 bytes long, more than the limit of 4096")
    let component = try LayerCase("f('c' * 300, b'x')")
    defer { component.remove() }
    component.expectRefusal("has a component of 300 bytes")
}

@Test func gzipBombOverTheByteLimitIsRefused() throws {
    let layer = try LayerCase(compression: "gz", "f('zeros', bytes(8 << 20))")
    defer { layer.remove() }
    var limits = UnpackLimits()
    limits.maxUnpackedBytes = 1 << 20
    layer.expectRefusal("layer unpacks to more than 1048576 bytes", limits)
    #expect(!layer.exists("zeros"))
}

@Test func tooManyEntriesAreRefused() throws {
    let layer = try LayerCase("for i in range(20): f('f%d' % i)")
    defer { layer.remove() }
    var limits = UnpackLimits()
    limits.maxEntries = 10
    layer.expectRefusal("layer has more than 10 entries", limits)
}

@Test func truncatedLayerIsRefused() throws {
    for compression in ["", "gz"] {
        let layer = try LayerCase(compression: compression, "import os\nf('big', os.urandom(200000))")
        defer { layer.remove() }
        let size = try #require(FileManager.default.attributesOfItem(atPath: layer.tar)[.size] as? Int)
        #expect(truncate(layer.tar, off_t(size / 2)) == 0)
        layer.expectRefusal("runcated")  // "Truncated tar archive" or "truncated gzip input"
    }
}

@Test func bzip2AndXzLayersAreRefused() throws {
    for compression in ["bz2", "xz"] {
        let layer = try LayerCase(compression: compression, "f('file', b'x')")
        defer { layer.remove() }
        layer.expectRefusal("layer is not a tar archive (uncompressed, gzip or zstd)")
        #expect(!layer.exists("file"))
    }
}

@Test func missingLayerFileIsNotFound() throws {
    let layer = try LayerCase("f('file', b'x')")
    defer { layer.remove() }
    #expect(throws: PodrunError.self) {
        try LayerUnpacker().unpack(layerAt: layer.base + "/missing.tar", into: layer.target)
    }
}

@Test func nonASCIINamesKeepTheirBytes() throws {
    let layer = try LayerCase("f('café/naïve.txt', b'utf8')")
    defer { layer.remove() }
    _ = try layer.unpack()
    #expect(layer.read("café/naïve.txt") == "utf8")
    // A GNU tar name in latin-1 (not UTF-8) is written with its raw bytes.
    let script = "import io, sys, tarfile\nt = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT, encoding='latin-1')\n"
        + "i = tarfile.TarInfo('caf\\xe9.txt'); i.size = 6; t.addfile(i, io.BytesIO(b'latin1')); t.close()"
    try Fixture.run(["python3", "-c", script, layer.tar])
    _ = try layer.unpack()
    let raw: [CChar] = (Array((layer.target + "/caf").utf8) + [0xe9] + Array(".txt".utf8)).map { CChar(bitPattern: $0) } + [0]
    var st = stat()
    #expect(lstat(raw, &st) == 0 && st.st_size == 6)
}

@Test func sparseFileKeepsItsSizeDataAndHoles() throws {
    let layer = try LayerCase("pass")
    defer { layer.remove() }
    let source = layer.base + "/src"
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
    #expect(truncate(layer.base + "/layer.tar", 0) == 0)
    let file = source + "/sparse"
    #expect(FileManager.default.createFile(atPath: file, contents: nil))
    #expect(truncate(file, 32 << 20) == 0)
    let handle = try #require(FileHandle(forWritingAtPath: file))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("end\n".utf8))
    try handle.close()
    try Fixture.run(["tar", "--sparse", "-C", source, "-cf", layer.tar, "sparse"])
    try FileManager.default.removeItem(atPath: source)
    let summary = try layer.unpack()
    #expect(summary.bytes == (32 << 20) + 4)
    let st = try #require(layer.stat("sparse"))
    #expect(st.st_size == (32 << 20) + 4)
    #expect(st.st_blocks * 512 < 1 << 20)
    let bytes = try #require(FileManager.default.contents(atPath: layer.target + "/sparse"))
    #expect(bytes.suffix(4) == Data("end\n".utf8))
    #expect(bytes.prefix(32 << 20).allSatisfy { $0 == 0 })
}

@Test func damagedHeaderIsRefusedNotSkipped() throws {
    let layer = try LayerCase("f('first', b'one')\nf('second', b'two')\nf('third', b'three')")
    defer { layer.remove() }
    var bytes = try #require(FileManager.default.contents(atPath: layer.tar))
    let header = try #require(bytes.range(of: Data("second".utf8))).lowerBound
    bytes[header + 148] ^= 0x01  // the header checksum
    try bytes.write(to: URL(fileURLWithPath: layer.tar))
    layer.expectRefusal("layer read header failed: Damaged tar archive")
}

@Test func rootEntryGivesTheLayerFolderItsMetadata() throws {
    let layer = try LayerCase("d('./', mode=0o750, uid=4, mtime=1300000000)\nf('./file', b'x')")
    defer { layer.remove() }
    _ = try layer.unpack()
    let root = try #require(layer.stat(""))
    #expect(root.st_mode & 0o7777 == 0o750 && root.st_uid == 4 && root.st_mtim.tv_sec == 1_300_000_000)
    #expect(layer.read("file") == "x")
}

@Test func hardlinkToASymlinkLinksTheSymlinkItself() throws {
    let layer = try LayerCase("l('s', OUT + '/secret')\nh('hs', 's')")
    defer { layer.remove() }
    _ = try layer.unpack()
    let link = try #require(layer.stat("hs"))
    #expect(link.st_mode & S_IFMT == S_IFLNK)
    #expect(link.st_ino == layer.stat("s")?.st_ino)
    #expect(try FileManager.default.contentsOfDirectory(atPath: layer.outside) == ["secret"])
    var outside = stat()
    #expect(lstat(layer.outside + "/secret", &outside) == 0 && outside.st_nlink == 1)
}

@Test func unpackReportsTheDiffIDOfTheWholeUncompressedLayer() throws {
    for compression in ["", "gz", "zst"] {
        let layer = try LayerCase(compression: compression, "f('dir/file', b'hashed ' * 1000)")
        defer { layer.remove() }
        // The uncompressed tar, trailing zero padding (tarfile writes 10 KiB records) included.
        let plain = layer.base + "/plain.tar"
        let decompress = compression == "gz" ? "gzip -dc" : compression == "zst" ? "zstd -dc" : "cat"
        try Fixture.run(["sh", "-c", "\(decompress) < \(layer.tar) > \(plain) && sha256sum < \(plain) > \(plain).sum"])
        let expected = String(try String(contentsOfFile: plain + ".sum", encoding: .utf8).prefix(64))
        #expect(expected.count == 64)
        let summary = try layer.unpack()
        #expect(summary.diffID?.hex == expected, "\(compression)")
    }
}

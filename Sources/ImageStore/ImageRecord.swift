/// What the store knows of one named image: written to `images/<escaped name>.json` by an import.
public struct ImageRecord: Codable, Hashable, Sendable {
    /// The image's name (`repo:tag`, or an OCI ref name).
    public var name: String
    /// The digest of the image manifest blob.
    public var manifestDigest: String
    /// The digest of the image config blob.
    public var configDigest: String
    /// The layer blobs' digests, bottom first.
    public var layerDigests: [String]
    /// The uncompressed layers' digests, bottom first (the config's `rootfs.diff_ids`).
    public var diffIDs: [String]

    /// A value with the given fields.
    public init(name: String, manifestDigest: String, configDigest: String, layerDigests: [String],
                diffIDs: [String]) {
        self.name = name
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        self.layerDigests = layerDigests
        self.diffIDs = diffIDs
    }

    /// `name` as a file name: every byte outside `[A-Za-z0-9_.-]` (and a leading `.`) as `%XX`.
    public static func escapedName(_ name: String) -> String {
        let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for (index, byte) in name.utf8.enumerated() {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x5f || byte == 0x2d || (byte == 0x2e && index > 0)
            if plain {
                out.append(byte)
            } else {
                out.append(0x25)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

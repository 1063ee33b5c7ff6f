import PodrunCore

/// An image name as docker and containerd normalize it: `busybox` is `docker.io/library/busybox:latest`,
/// `me/app:1` is `docker.io/me/app:1`, `registry:5000/app@sha256:…` keeps its registry and digest.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// The registry host (with its port), `docker.io` when the name has none.
    public var domain: String
    /// The repository path inside the registry (`library/busybox`).
    public var path: String
    /// The tag, when the reference has one (`latest` when it has neither a tag nor a digest).
    public var tag: String?
    /// The manifest digest, when the reference pins one.
    public var digest: String?

    /// The full, normalized name: `domain/path[:tag][@digest]`.
    public var description: String {
        var text = domain + "/" + path
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// The shortest familiar form (`busybox:latest`, `me/app:1`), as `docker images` shows it.
    public var familiar: String {
        var name = domain == "docker.io" ? path : domain + "/" + path
        if domain == "docker.io", name.hasPrefix("library/") { name.removeFirst("library/".count) }
        if let tag { name += ":" + tag }
        if let digest { name += "@" + digest }
        return name
    }

    /// Parses and normalizes `text`; throws `.invalidArgument` for a name docker would refuse.
    public init(parsing text: String) throws {
        func invalid(_ why: String) -> PodrunError {
            PodrunError(.invalidArgument, "invalid image reference \"\(text)\": \(why)", path: text)
        }
        guard !text.isEmpty else { throw invalid("empty") }
        guard text.utf8.count <= 255 + 128 + 72 else { throw invalid("too long") }
        var rest = Substring(text)
        var digest: String? = nil
        if let at = rest.firstIndex(of: "@") {
            let value = String(rest[rest.index(after: at)...])
            guard (try? Digest(value)) != nil else { throw invalid("bad digest \(value)") }
            digest = value
            rest = rest[..<at]
        }
        var tag: String? = nil
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/" as Character) {
            let value = String(rest[rest.index(after: colon)...])
            guard Self.isTag(value) else { throw invalid("bad tag \(value)") }
            tag = value
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var domain = "docker.io"
        if components.count > 1,
           let first = components.first, first.contains(where: { $0 == "." || $0 == ":" }) || first == "localhost" {
            domain = first
            components.removeFirst()
        }
        guard !components.isEmpty else { throw invalid("no repository") }
        for component in components where !Self.isPathComponent(component) {
            throw invalid("bad repository component \"\(component)\" (lowercase letters, digits and . _ - only)")
        }
        if domain == "index.docker.io" { domain = "docker.io" }
        if domain == "docker.io", components.count == 1 { components.insert("library", at: 0) }
        self.domain = domain
        self.path = components.joined(separator: "/")
        self.digest = digest
        self.tag = tag ?? (digest == nil ? "latest" : nil)
    }

    /// The normalized form of `text` when it parses as a reference, else `text` unchanged (an OCI ref name
    /// such as `v1.0` that is no repository).
    public static func normalized(_ text: String) -> String {
        (try? ImageReference(parsing: text))?.description ?? text
    }

    private static func isTag(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 128 else { return false }
        func word(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f
        }
        return word(first) && text.utf8.allSatisfy { word($0) || $0 == 0x2e || $0 == 0x2d }
    }

    private static func isPathComponent(_ text: String) -> Bool {
        guard let first = text.utf8.first, let last = text.utf8.last else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) }
        return alnum(first) && alnum(last) && text.utf8.allSatisfy { alnum($0) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    }
}

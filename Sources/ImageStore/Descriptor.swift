/// An image-spec content descriptor: what a blob is, its digest and its size.
public struct Descriptor: Codable, Hashable, Sendable {
    /// The blob's media type (`application/vnd.oci.image.manifest.v1+json`, ...).
    public var mediaType: String
    /// The blob's digest, `sha256:<hex>` (validated with `Digest` before it is used).
    public var digest: String
    /// The blob's size in bytes.
    public var size: Int64
    /// The platform an image manifest is for, in an index.
    public var platform: Platform?
    /// Free-form annotations (`org.opencontainers.image.ref.name`, ...).
    public var annotations: [String: String]?

    /// A value with the given fields.
    public init(mediaType: String, digest: String, size: Int64, platform: Platform? = nil,
                annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}

/// The platform of an image manifest.
public struct Platform: Codable, Hashable, Sendable {
    /// The CPU architecture, GOARCH style (`amd64`, `arm64`).
    public var architecture: String
    /// The operating system, GOOS style (`linux`).
    public var os: String
    /// The CPU variant (`v8`), when there is one.
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
    }

    /// A value with the given fields.
    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }
}

/// The media types podrun reads and writes.
public enum MediaType {
    /// An OCI image index.
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    /// An OCI image manifest.
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    /// An OCI image config.
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    /// An uncompressed OCI layer.
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    /// A gzip-compressed OCI layer.
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    /// A zstd-compressed OCI layer.
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    /// A Docker manifest list.
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// A Docker image manifest.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

    /// Whether `type` is an index (OCI index or Docker manifest list).
    public static func isIndex(_ type: String?) -> Bool {
        type == ociIndex || type == dockerManifestList
    }
}

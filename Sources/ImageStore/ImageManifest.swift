/// An OCI image manifest: one image's config and its layers, in order from the bottom.
public struct ImageManifest: Codable, Hashable, Sendable {
    /// Always 2.
    public var schemaVersion: Int
    /// `application/vnd.oci.image.manifest.v1+json`, when set.
    public var mediaType: String?
    /// The image config blob.
    public var config: Descriptor
    /// The layer blobs, bottom first.
    public var layers: [Descriptor]
    /// Free-form annotations.
    public var annotations: [String: String]?

    /// A value with the given fields.
    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociManifest, config: Descriptor,
                layers: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }
}

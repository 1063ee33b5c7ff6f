/// An OCI image index (`index.json`, or a nested index blob): a list of manifests, one per platform.
public struct ImageIndex: Codable, Hashable, Sendable {
    /// Always 2.
    public var schemaVersion: Int
    /// `application/vnd.oci.image.index.v1+json`, when set.
    public var mediaType: String?
    /// The manifests (or nested indexes) this index lists.
    public var manifests: [Descriptor]
    /// Free-form annotations.
    public var annotations: [String: String]?

    /// A value with the given fields.
    public init(schemaVersion: Int = 2, mediaType: String? = MediaType.ociIndex, manifests: [Descriptor],
                annotations: [String: String]? = nil) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}

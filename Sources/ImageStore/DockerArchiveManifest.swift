/// One entry of a docker-archive's `manifest.json` (as `docker save` and `skopeo copy docker-archive:` write
/// it); property names are the JSON keys.
public struct DockerArchiveManifest: Codable, Hashable, Sendable {
    /// The path of the config JSON inside the archive.
    public var Config: String
    /// The names the image is saved under (`repo:tag`).
    public var RepoTags: [String]?
    /// The paths of the layer tars inside the archive, bottom first.
    public var Layers: [String]

    /// A value with the given fields.
    public init(Config: String, RepoTags: [String]? = nil, Layers: [String]) {
        self.Config = Config
        self.RepoTags = RepoTags
        self.Layers = Layers
    }
}

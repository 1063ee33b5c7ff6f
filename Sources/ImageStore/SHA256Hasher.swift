import Crypto

/// An incremental sha256 that yields a `Digest`.
struct SHA256Hasher {
    private var hasher = SHA256()

    /// Adds `bytes` to the hash.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// The digest of everything added.
    func finalize() -> Digest {
        Digest(rawBytes: hasher.finalize())
    }
}

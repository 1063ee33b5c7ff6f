/// A stable 64-bit hash of a text (FNV-1a), for file and interface names derived from a longer key (an owner's
/// path): the same on every run and host, unlike `Hasher`. Not for anything an attacker could aim collisions at.
public enum StableHash {
    /// FNV-1a over the text's UTF-8 bytes.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }

    /// The hash as 16 lowercase hex digits.
    public static func hex(_ text: String) -> String {
        let digits = String(fnv1a64(text), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

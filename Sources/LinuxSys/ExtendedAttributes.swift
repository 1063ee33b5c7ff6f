import CPodrunShim
import Glibc
import PodrunCore

/// Extended attributes (`xattr(7)`): the raw calls, which Swift's Glibc module does not declare.
public enum ExtendedAttributes {
    /// Sets attribute `name` of the open file `fd`; returns 0, or -1 with `errno` set.
    public static func set(fd: Int32, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?, _ size: Int) -> Int32 {
        fsetxattr(fd, name, value, size, 0)
    }

    /// Sets attribute `name` of `path` without following a symlink at its last component; returns 0, or -1
    /// with `errno` set.
    public static func setNoFollow(_ path: UnsafePointer<CChar>, _ name: UnsafePointer<CChar>, _ value: UnsafeRawPointer?,
                                   _ size: Int) -> Int32 {
        lsetxattr(path, name, value, size, 0)
    }

    /// The value of attribute `name` of `path` (a symlink at its last component is not followed), or nil
    /// when it has none.
    public static func get(_ path: String, _ name: String) throws -> [UInt8]? {
        let size = lgetxattr(path, name, nil, 0)
        if size < 0 {
            if errno == ENODATA { return nil }
            throw PodrunError.system("getxattr \(name)", path: path)
        }
        var value = [UInt8](repeating: 0, count: size)
        let read = value.withUnsafeMutableBytes { lgetxattr(path, name, $0.baseAddress, $0.count) }
        guard read >= 0 else { throw PodrunError.system("getxattr \(name)", path: path) }
        return Array(value[0..<read])
    }
}

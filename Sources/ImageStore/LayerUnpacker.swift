// TEMPORARY stub until the layers branch lands.
import PodrunCore
public struct UnpackLimits: Sendable { public var maxUnpackedBytes: Int64 = 1 << 36; public init() {} }
public struct UnpackSummary: Sendable { public var entries: Int = 0; public var bytes: Int64 = 0 }
public struct LayerUnpacker {
    public init(limits: UnpackLimits = .init()) {}
    public func unpack(layerAt path: String, into directory: String) throws -> UnpackSummary {
        throw PodrunError(.internalError, "not yet")
    }
}

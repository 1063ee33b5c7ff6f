import ArgumentParser
import Glibc
import LinuxSys
import OCISpec
import PodrunCore

/// `podrun spec`: writes a default config.json, as `runc spec` does.
struct SpecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spec", abstract: "Write a default config.json.")

    @Option(name: [.short, .long], help: "The bundle folder to write config.json in.") var bundle: String = "."
    @Flag(name: .long, help: "A spec for a rootless container.") var rootless = false

    func run() throws {
        let path = bundle + "/config.json"
        if FileIO.exists(path) {
            throw PodrunError(.alreadyExists, "File \(path) exists. Remove it first")
        }
        let bytes = try Spec.podrunDefault(rootless: rootless, uid: getuid(), gid: getgid()).encodedJSON()
        try FileIO.writeAtomically(path, bytes, mode: 0o666 & ~Self.currentUmask())
    }

    static func currentUmask() -> mode_t {
        let mask = umask(0)
        umask(mask)
        return mask
    }
}

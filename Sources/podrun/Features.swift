import ArgumentParser
import CLibseccomp
import LinuxSys
import OCISpec

/// `podrun features`: what this runtime implements, as runtime-spec's features document.
struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the features podrun implements, as JSON.")

    func run() throws {
        let version = seccomp_version().pointee
        let capabilities = (0...Capabilities.lastCapability().rawValue).map { Capability(rawValue: $0).name }
        try JSONOutput.print(OCISpec.Features.podrun(
            libseccompVersion: "\(version.major).\(version.minor).\(version.micro)", capabilities: capabilities))
    }
}

import ArgumentParser
import OCISpec

/// `podrun features`: what this runtime implements, as runtime-spec's features document.
struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the features podrun implements, as JSON.")

    func run() throws {
        try JSONOutput.print(OCISpec.Features.podrun(libseccompVersion: nil))
    }
}

import Foundation
import Testing

/// `spec`: the default config.json.
@Suite("spec")
struct SpecTests {
    /// Drops what may differ from runc's spec: the ociVersion, and a seccomp profile podrun may add.
    static func comparable(_ spec: [String: Any]) -> [String: Any] {
        var spec = spec
        spec["ociVersion"] = nil
        if var linux = spec["linux"] as? [String: Any] {
            linux["seccomp"] = nil
            spec["linux"] = linux
        }
        // The hostname is the runtime's name ("runc" in runc's spec).
        spec["hostname"] = nil
        return spec
    }

    @Test func specWritesRuncsDefaultConfig() async throws {
        try await withHarness { h in
            let ours = try h.makeHostDirectory("spec-ours")
            let result = try await h.runtime(["spec", "--bundle", ours])
            #expect(result.status == 0, "\(result)")
            let data = try Data(contentsOf: URL(fileURLWithPath: ours + "/config.json"))
            let spec = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(spec["ociVersion"] is String)
            let process = spec["process"] as? [String: Any]
            #expect(process?["terminal"] as? Bool == true)
            #expect(process?["args"] as? [String] == ["sh"])
            #expect((spec["root"] as? [String: Any])?["path"] as? String == "rootfs")
            #expect((spec["root"] as? [String: Any])?["readonly"] as? Bool == true)

            let reference = try #require(TestEnvironment.referenceRunc, "runc (the reference) is not installed")
            let theirs = try h.makeHostDirectory("spec-runc")
            let referenceResult = try await h.host(reference, ["spec", "--bundle", theirs])
            #expect(referenceResult.status == 0, "\(referenceResult)")
            let referenceData = try Data(contentsOf: URL(fileURLWithPath: theirs + "/config.json"))
            let referenceSpec = try #require(try JSONSerialization.jsonObject(with: referenceData) as? [String: Any])
            let ourComparable = Self.comparable(spec)
            let theirComparable = Self.comparable(referenceSpec)
            for key in Set(ourComparable.keys).union(theirComparable.keys).sorted() {
                let mine = canonicalJSON(ourComparable[key])
                let reference = canonicalJSON(theirComparable[key])
                #expect(mine == reference, "spec differs from runc's at \(key): \(mine) vs \(reference)")
            }
        }
    }

    @Test func specRefusesToOverwriteConfig() async throws {
        try await withHarness { h in
            let bundle = try h.makeHostDirectory("spec-exists")
            try "{}".write(toFile: bundle + "/config.json", atomically: false, encoding: .utf8)
            let result = try await h.runtime(["spec", "--bundle", bundle])
            h.expectOneLineFailure(result)
            #expect(readText(bundle + "/config.json") == "{}")
        }
    }
}

/// A value as JSON text with sorted keys ("<absent>" for nil), for comparing decoded JSON.
func canonicalJSON(_ value: Any?) -> String {
    guard let value else { return "<absent>" }
    guard let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) else {
        return String(describing: value)
    }
    return String(decoding: data, as: UTF8.self)
}

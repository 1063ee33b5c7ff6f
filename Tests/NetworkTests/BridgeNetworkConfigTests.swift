import Foundation
import Network
import PodrunCore
import Testing

@Test func configFileFieldsOverrideTheDefaultsAndMissingOnesKeepThem() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let file = folder.path + "/net.json"
    try #"{"bridge": "podrun-x0", "subnet": "10.77.0.0/24", "mtu": 1400}"#.write(toFile: file, atomically: false, encoding: .utf8)
    let config = try BridgeNetworkConfig.load(file)
    #expect(config == BridgeNetworkConfig(name: "podrun", bridge: "podrun-x0", subnet: "10.77.0.0/24", mtu: 1400))
    let network = try BridgeNetwork(config: config, stateRoot: folder.path + "/state")
    #expect(network.gateway.description == "10.77.0.1")
    #expect(network.directory == folder.path + "/state/podrun")
}

@Test func malformedConfigFileIsAnInvalidArgument() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let file = folder.path + "/net.json"
    try #"{"subnet": 10}"#.write(toFile: file, atomically: false, encoding: .utf8)
    let error = #expect(throws: PodrunError.self) { try BridgeNetworkConfig.load(file) }
    #expect(error?.code == .invalidArgument && error?.path == file)
}

@Test(arguments: [
    BridgeNetworkConfig(name: "a/b"),
    BridgeNetworkConfig(bridge: "a-bridge-name-too-long"),
    BridgeNetworkConfig(subnet: "10.88.0.1/16"),
    BridgeNetworkConfig(gateway: "10.89.0.1"),
    BridgeNetworkConfig(mtu: 20),
])
func invalidNetworkSettingsAreRejectedBeforeAnythingIsMade(_ config: BridgeNetworkConfig) throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    #expect(throws: PodrunError.self) { try BridgeNetwork(config: config, stateRoot: folder.path + "/state") }
    #expect(!FileManager.default.fileExists(atPath: folder.path + "/state"))
}

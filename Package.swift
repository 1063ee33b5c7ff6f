// swift-tools-version:6.0
import PackageDescription

/// Compiler settings of podrun's own Swift modules. Generic types of concrete arguments
/// (`KeyedDecodingContainer<Spec.CodingKeys>`, `[String: Mount]`) get their metadata through direct accessor
/// calls instead of mangled names: a mangled name is resolved at run time, and each protocol requirement of
/// its arguments is then looked up by a scan of all conformance records of the static binary: a quarter
/// of the user CPU time of a `run` (mostly decoding config.json and encoding state.json).
///
/// No dynamic actor isolation checks: in the Swift 6 language mode `main.swift`'s top-level code asks at run time
/// whether it runs on the main actor, which needs Swift concurrency's runtime and libdispatch set up; podrun has no
/// actors, and its static release binary leaves their constructors out (scripts/release-link.ld).
let podrunSwiftSettings: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
    .unsafeFlags(["-disable-dynamic-actor-isolation"]),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// podrun: an OCI runtime and pod sandbox manager for Linux.
let package = Package(
    name: "podrun",
    products: [
        .executable(name: "podrun", targets: ["podrun"]),
        .executable(name: "podrun-pause", targets: ["podrun-pause"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C: only what Swift cannot call (variadic syscalls, ioctls, CMSG macros, fork).
        .target(name: "CPodrunShim"),
        .systemLibrary(name: "CLibseccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CLibarchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

        // The one error type and small shared pieces.
        .target(name: "PodrunCore", swiftSettings: podrunSwiftSettings),
        // OCI runtime-spec and image-spec types: pure data, no I/O.
        .target(name: "OCISpec", dependencies: ["PodrunCore"], swiftSettings: podrunSwiftSettings),
        // Swift wrappers over the shim and the C libraries.
        .target(name: "LinuxSys", dependencies: ["PodrunCore", "OCISpec", "CPodrunShim", "CLibcap", "CLibseccomp"], swiftSettings: podrunSwiftSettings),
        // cgroup v1 and v2 managers.
        .target(name: "Cgroups", dependencies: ["PodrunCore", "OCISpec", "LinuxSys", "CPodrunShim"], swiftSettings: podrunSwiftSettings),
        // The runtime: container lifecycle, init, rootfs.
        .target(name: "Sandbox", dependencies: ["PodrunCore", "OCISpec", "LinuxSys", "Cgroups", "ImageStore"], swiftSettings: podrunSwiftSettings),
        // The image store: content-addressed blobs, image-spec types, archive import.
        .target(name: "ImageStore", dependencies: [
            "PodrunCore", "OCISpec", "LinuxSys", "CLibarchive",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: podrunSwiftSettings),
        // CNI: network config lists, the plugin runner and ADD/CHECK/DEL over a list (CNI spec 1.0.0).
        .target(name: "CNI", dependencies: ["PodrunCore", "LinuxSys", "CPodrunShim"], swiftSettings: podrunSwiftSettings),
        // The native bridge network: rtnetlink links, addresses and routes, IPAM, port mappings.
        .target(name: "Network", dependencies: ["PodrunCore", "LinuxSys", "CPodrunShim"], swiftSettings: podrunSwiftSettings),
        // Pod sandboxes: pause, pinned namespaces, the pod's cgroup, volumes and network.
        .target(name: "Pod", dependencies: ["PodrunCore", "OCISpec", "LinuxSys", "Cgroups", "Sandbox", "CNI", "Network"], swiftSettings: podrunSwiftSettings),
        // The pause process of a pod sandbox: static, single-threaded, Glibc only.
        .executableTarget(name: "podrun-pause", dependencies: ["CPodrunShim"], linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // The CLI.
        .executableTarget(name: "podrun", dependencies: [
            "Sandbox", "Pod", "ImageStore", "OCISpec", "PodrunCore", "LinuxSys", "CLibseccomp",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: podrunSwiftSettings, linkerSettings: [
            // The release binary leaves out constructors of the Swift runtime and the C libraries that podrun does
            // not need, and its code segment ends on a 2 MiB boundary (see the script). GNU ld: gold has no INSERT,
            // and lld pulls in more archive members (Foundation's). One code segment from the file's start, as gold
            // makes it (noseparate-code), so that its first 2 MiB are one folio too.
            .unsafeFlags(["-use-ld=bfd", "-Xlinker", "-z", "-Xlinker", "noseparate-code",
                          "-Xlinker", "-T", "-Xlinker", Context.packageDirectory + "/scripts/release-link.ld"],
                         .when(configuration: .release)),
        ]),

        .testTarget(name: "PodrunCoreTests", dependencies: ["PodrunCore"]),
        .testTarget(name: "OCISpecTests", dependencies: ["OCISpec"], resources: [.copy("Fixtures")]),
        .testTarget(name: "LinuxSysTests", dependencies: ["LinuxSys"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"]),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "PodrunCore", "OCISpec", "LinuxSys"]),
        .testTarget(name: "CNITests", dependencies: ["CNI", "PodrunCore"]),
        .testTarget(name: "NetworkTests", dependencies: ["Network", "PodrunCore", "LinuxSys"]),
        // Runs the built podrun binary as root against the real kernel.
        .testTarget(name: "IntegrationTests", dependencies: []),
    ]
)
